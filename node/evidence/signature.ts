/**
 * Optional collector signature (issue 5; depositor identity, docs/evidence.md "The model"):
 * EIP-191 `personal_sign` over the 32 bytes of the claim digest (model.ts `claimDigest`), by a key
 * registered to the collector. The node checks it at deposit; the deposit record carries the address,
 * the digest and the signature, so a court or auditor can check it again offline.
 */
import { getBytes, verifyMessage } from 'ethers';
import { isHex, type Hex } from '../protocol/bytes';
import { DomainError } from '../domain/types';

/** Recovers the signer's address (lowercase) from an EIP-191 signature over the 32 digest bytes. */
export function recoverCollectorAddress(digest: Hex, signature: Hex): Hex {
  if (!isHex(digest, 32)) throw new DomainError('EVIDENCE_SIGNATURE_INVALID', 'the signed digest must be 32 bytes of 0x-prefixed lowercase hex', { path: ['digest'] });
  if (!isHex(signature, 65)) throw new DomainError('EVIDENCE_SIGNATURE_INVALID', 'the collector signature must be 65 bytes of 0x-prefixed lowercase hex', { path: ['signature'] });
  try {
    return verifyMessage(getBytes(digest), signature).toLowerCase() as Hex;
  } catch (err) {
    // ethers refuses malformed signatures (bad v, s in the upper half — EIP-2 malleability).
    throw new DomainError('EVIDENCE_SIGNATURE_INVALID', `the collector signature cannot be recovered: ${(err as Error).message}`, { path: ['signature'] });
  }
}

/**
 * Checks that `signature` over `recordDigest` was made by `registeredAddress` (the key the collector
 * registered). Returns the lowercase address; throws EVIDENCE_SIGNATURE_INVALID with expected and
 * recovered addresses otherwise.
 */
export function verifyCollectorSignature(recordDigest: Hex, signature: Hex, registeredAddress: string): Hex {
  if (!/^0x[0-9a-fA-F]{40}$/.test(registeredAddress)) {
    throw new DomainError('EVIDENCE_SIGNATURE_INVALID', `registered collector address ${JSON.stringify(registeredAddress)} is not a 20-byte hex address`);
  }
  const recovered = recoverCollectorAddress(recordDigest, signature);
  const expected = registeredAddress.toLowerCase();
  if (recovered !== expected) {
    throw new DomainError('EVIDENCE_SIGNATURE_INVALID', `the collector signature was made by ${recovered}, not by the registered key ${expected}`, { path: ['signature'], expected, calculated: recovered });
  }
  return recovered;
}
