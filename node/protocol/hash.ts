/** SHA-256 for the protocol. @noble/hashes is audited and runs unchanged in the browser verification page. */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2';

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}
