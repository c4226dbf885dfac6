import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SHA256_IMPLEMENTATION, sha256, sha256Js, toHex, utf8 } from '../../node/protocol';

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf" and the SHA-2 short-message vectors).
const NIST: [string, Uint8Array, string][] = [
  ['empty', new Uint8Array(), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['"abc"', utf8('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['448 bits', utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ['one million "a"', new Uint8Array(1_000_000).fill(0x61), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'],
];

describe('SHA-256 (OpenSSL under Node, @noble/hashes in the browser)', () => {
  it('Node uses OpenSSL', () => {
    expect(SHA256_IMPLEMENTATION).toBe('node');
  });

  it.each(NIST)('NIST vector: %s', (_name, input, want) => {
    expect(toHex(sha256(input))).toBe('0x' + want);
    expect(toHex(sha256Js(input))).toBe('0x' + want);
  });

  it('both implementations agree on random inputs, and return plain Uint8Arrays', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (m) => {
        const a = sha256(m);
        expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype);
        expect(a.length).toBe(32);
        expect(toHex(a)).toBe(toHex(sha256Js(m)));
      }),
      { numRuns: 300 },
    );
  });
});
