/**
 * node/protocol's errors are one family: the byte helpers' HexError and the chain reader's
 * ChainReadError are ProtocolErrors with stable codes, keeping their names, messages and causes.
 */
import { describe, expect, it } from 'vitest';
import { ChainReadError, HexError, ProtocolError, fromHex } from '../../node/protocol';

describe('protocol error classes', () => {
  it('fromHex refuses with a HexError, code INVALID_HEX', () => {
    for (const bad of ['0xABCD', '0xabc', 'abcd', '0x' + '00'.repeat(31)]) {
      let caught: unknown;
      try {
        fromHex(bad, bad.length === 64 ? 32 : undefined);
      } catch (e) {
        caught = e;
      }
      expect(caught, bad).toBeInstanceOf(HexError);
      expect(caught).toBeInstanceOf(ProtocolError);
      expect((caught as HexError).code).toBe('INVALID_HEX');
      expect((caught as Error).message).toMatch(/^expected 0x-prefixed lowercase hex/);
    }
    expect(() => fromHex('0x' + '00'.repeat(31), 32)).toThrow(/of 32 bytes/);
  });

  it('ChainReadError is a ProtocolError with code CHAIN_READ, its own name, the message as given and the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new ChainReadError('reading the chain id from the chain failed: ECONNREFUSED', { cause });
    expect(e).toBeInstanceOf(ProtocolError);
    expect(e.code).toBe('CHAIN_READ');
    expect(e.name).toBe('ChainReadError');
    expect(e.message).toBe('reading the chain id from the chain failed: ECONNREFUSED');
    expect(e.cause).toBe(cause);
    expect(String(e)).toBe('ChainReadError: reading the chain id from the chain failed: ECONNREFUSED');
  });
});
