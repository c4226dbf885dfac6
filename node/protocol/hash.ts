/**
 * SHA-256 for the protocol. Under Node it is OpenSSL's (`crypto.hash`, one call, no hasher object):
 * ~1.4 µs for a 700-byte record against ~7 µs for the pure-JS one, and the gap grows with size. In
 * the browser verification page (no `process`) it is @noble/hashes, audited and dependency-free.
 * Both are FIPS 180-4 SHA-256; the tests hold them to the NIST vectors and to each other.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2';

type NodeCrypto = { hash(algorithm: string, data: Uint8Array, outputEncoding: 'latin1'): string };

// `process.getBuiltinModule` (Node ≥ 20.16) rather than an import, so the page's bundler never sees node:crypto.
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;

/**
 * The digest comes back as a latin1 string (one character per byte) and is copied into a plain
 * Uint8Array, as the JS implementation returns (a Buffer would compare unequal in tests). Asking for
 * a Buffer instead makes Node allocate an ArrayBuffer for every digest: 0.8-1.4 µs to hash a 65-byte
 * map node that way against 0.3 µs this way (scripts/bench/hash-output.ts), with far less garbage; the
 * writer hashes a dozen times per record (log leaves and nodes, commitments, map keys and nodes).
 */
function nodeSha256(data: Uint8Array): Uint8Array {
  const s = nodeCrypto!.hash('sha256', data, 'latin1');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Which implementation this runtime uses (for tests and benchmarks). */
export const SHA256_IMPLEMENTATION: 'node' | 'js' = typeof nodeCrypto?.hash === 'function' ? 'node' : 'js';

export const sha256: (data: Uint8Array) => Uint8Array = SHA256_IMPLEMENTATION === 'node' ? nodeSha256 : (data) => nobleSha256(data);

/** The pure-JS implementation, always (the browser's; tests compare the two). */
export const sha256Js = (data: Uint8Array): Uint8Array => nobleSha256(data);
