import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { createSHA256, createSM3 } from 'hash-wasm';
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

describe('the verification page\'s streaming hashers (hash-wasm, WebAssembly)', () => {
  // GB/T 32905-2016 appendix A: SM3("abc") and SM3("abcd" × 16).
  const SM3_VECTORS: [string, string][] = [
    ['abc', '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0'],
    ['abcd'.repeat(16), 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732'],
  ];

  it.each(SM3_VECTORS)('SM3 standard vector %#', async (input, want) => {
    const h = await createSM3();
    h.init();
    h.update(utf8(input));
    expect(h.digest('hex')).toBe(want);
  });

  it('streamed in any chunking, SM3 and SHA-256 equal node:crypto over the whole input', async () => {
    const [sm3, sha] = await Promise.all([createSM3(), createSHA256()]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.array(fc.nat({ max: 5000 }), { maxLength: 6 }), (data, cuts) => {
        sm3.init();
        sha.init();
        let prev = 0;
        for (const c of [...cuts.map((x) => x % (data.length + 1))].sort((a, b) => a - b).concat([data.length])) {
          sm3.update(data.subarray(prev, c));
          sha.update(data.subarray(prev, c));
          prev = c;
        }
        expect(sm3.digest('hex')).toBe(createHash('sm3').update(data).digest('hex'));
        expect(sha.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      }),
      { numRuns: 200 },
    );
  });
});
