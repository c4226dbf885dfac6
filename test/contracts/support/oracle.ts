/**
 * The off-chain oracle for `anchor`: what the contract must answer for a proposed extension,
 * re-derived with the TypeScript RFC 9162 verifier (node/protocol). Tests assert the contract agrees.
 */
import { bytesEqual, consistencyProofLength, rootsFromConsistencyProof, toHex, type Hex } from '../../../node/protocol';

export type AnchorVerdict = { name: 'ok' } | { name: string; args: unknown[] };

export function expectedAnchorVerdict(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): AnchorVerdict {
  if (newSize <= oldSize) return { name: 'AnchorRegistryStaleSize', args: [BigInt(oldSize), BigInt(newSize)] };
  if (oldSize === 0) return proof.length === 0 ? { name: 'ok' } : { name: 'AnchorRegistryBadProofLength', args: [0n, BigInt(proof.length)] };
  const expectedLen = consistencyProofLength(oldSize, newSize);
  if (proof.length !== expectedLen) return { name: 'AnchorRegistryBadProofLength', args: [BigInt(expectedLen), BigInt(proof.length)] };
  const r = rootsFromConsistencyProof(oldSize, newSize, proof, oldRoot);
  if (!bytesEqual(r.root1, oldRoot)) return { name: 'AnchorRegistryInconsistent', args: [toHex(oldRoot), toHex(r.root1)] };
  if (!bytesEqual(r.root2, newRoot)) return { name: 'AnchorRegistryRootMismatch', args: [toHex(newRoot), toHex(r.root2)] };
  return { name: 'ok' };
}

export type { Hex };
