/**
 * utf8() under Node takes Buffer.from's pooled path instead of TextEncoder (node/protocol/bytes.ts):
 * it must give TextEncoder's bytes for every string, lone surrogates included, and a plain Uint8Array.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../node/protocol';

const encoder = new TextEncoder();

describe('utf8', () => {
  it('equals TextEncoder on random strings: any code unit (lone surrogates too), and longer than the 4 KiB pool path', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 50 }), fc.string({ unit: 'binary', minLength: 3000, maxLength: 6000 })), (s) => {
        const got = utf8(s);
        expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
        expect(toHex(got)).toBe(toHex(encoder.encode(s)));
      }),
      { numRuns: 1500 },
    );
  });

  it('writes a lone surrogate as U+FFFD, the empty string as no bytes, and two calls do not share bytes', () => {
    expect(toHex(utf8('a\ud800b'))).toBe('0x61efbfbd62');
    expect(toHex(utf8('\udc00'))).toBe('0xefbfbd');
    expect(utf8('').length).toBe(0);
    const a = utf8('first');
    const b = utf8('second');
    b[0] = 0;
    expect(new TextDecoder().decode(a)).toBe('first');
  });
});
