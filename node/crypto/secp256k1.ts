/**
 * The secp256k1 curve for the node's hot paths (receipt signing, the auditor's receipt recovery).
 *
 * Both backends are libsecp256k1 (Bitcoin Core's library): deterministic RFC 6979 nonces, low-s
 * signatures, the same bytes as ethers' SigningKey (tested). They differ only in how it is compiled:
 *
 * - `native`: the `secp256k1` package's prebuilt N-API addon (prebuilds for linux-x64, darwin-arm64
 *   and win32-x64 ship inside the npm tarball; nothing is compiled at install). ~46 µs a signature on
 *   this machine's Xeon.
 * - `wasm`: `tiny-secp256k1` (WebAssembly), ~155 µs a signature, on any platform Node runs on.
 *
 * Only the addon itself is used (`secp256k1/bindings`), never the package's pure-JS `elliptic`
 * fallback. `TIANFU_SECP256K1` = `auto` (default: native where it loads), `native` (refuse to run
 * without it) or `wasm` (force WebAssembly). The tests hold both to ethers' bytes.
 */
import * as wasm from 'tiny-secp256k1';

export interface Secp256k1 {
  readonly name: 'native' | 'wasm';
  isPrivate(d: Uint8Array): boolean;
  /** ECDSA over a 32-byte hash: 64-byte r||s (low-s) and the recovery id. */
  signRecoverable(hash: Uint8Array, d: Uint8Array): { signature: Uint8Array; recoveryId: number };
  /** The uncompressed public key (65 bytes) or null when the signature does not recover. */
  recover(hash: Uint8Array, signature: Uint8Array, recoveryId: number): Uint8Array | null;
}

interface NativeBinding {
  privateKeyVerify(d: Uint8Array): boolean;
  ecdsaSign(msg32: Uint8Array, d: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
}

const wasmBackend: Secp256k1 = {
  name: 'wasm',
  isPrivate: (d) => wasm.isPrivate(d),
  signRecoverable: (hash, d) => wasm.signRecoverable(hash, d),
  recover(hash, signature, recoveryId) {
    try {
      const q = wasm.recover(hash, signature, recoveryId as 0 | 1 | 2 | 3, false);
      return q ? new Uint8Array(q) : null;
    } catch {
      return null;
    }
  },
};

function nativeBackend(b: NativeBinding): Secp256k1 {
  return {
    name: 'native',
    isPrivate: (d) => d.length === 32 && b.privateKeyVerify(d),
    signRecoverable(hash, d) {
      const { signature, recid } = b.ecdsaSign(hash, d);
      return { signature, recoveryId: recid };
    },
    recover(hash, signature, recoveryId) {
      try {
        return b.ecdsaRecover(signature, recoveryId, hash, false);
      } catch {
        return null; // unparsable r/s or no point: the caller reports it
      }
    },
  };
}

/** Path of the native addon's loader, or null where it does not load (no prebuild for this platform). */
export function nativeBindingPath(): string | null {
  try {
    const p = require.resolve('secp256k1/bindings');
    require(p);
    return p;
  } catch {
    return null;
  }
}

/** The native backend, or null where the addon has no prebuild that loads here. */
function loadNative(): Secp256k1 | null {
  const p = nativeBindingPath();
  return p ? nativeBackend(require(p) as NativeBinding) : null;
}

function choose(): Secp256k1 {
  const want = process.env.TIANFU_SECP256K1 ?? 'auto';
  if (want === 'wasm') return wasmBackend;
  const native = loadNative();
  if (native) return native;
  // 'native' insists; anything else unknown is refused by loadConfig with the list of values.
  if (want === 'native') throw new Error(`TIANFU_SECP256K1=native, but the secp256k1 addon has no prebuild that loads on ${process.platform}-${process.arch}`);
  return wasmBackend;
}

/** The backend this process uses: native where its prebuild loads, else WebAssembly. */
export const secp256k1: Secp256k1 = choose();

/** Both backends, for the tests that hold them to the same bytes. */
export const backends = { wasm: wasmBackend, native: loadNative };
