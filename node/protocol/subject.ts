/**
 * Pseudonymous subjects (docs/protocol.md, "Subjects"). An invoice key is computable from public
 * facts (seller tax id, kind, a near-sequential number), so an entry whose subject is the key tells
 * anyone who reads the public log how many invoices a seller issued, when, and what became of them.
 * The entry's subject is therefore
 *
 *     pseudonym = SHA256("tianfu/subject/v1" || 0x00 || subjectSalt || key)
 *
 * with `subjectSalt` 32 random bytes drawn once per subject and kept by the node with its records.
 * The link `{scheme, key, salt}` travels in bundles and exports to the parties, courts and auditors,
 * and anyone holding it recomputes the pseudonym; nobody without it can.
 */
import { concatBytes, fromHex, toHex, utf8, type Hex } from './bytes';
import { sha256 } from './hash';
import { ProtocolError } from './errors';

export const SUBJECT_SCHEME = 'tianfu/subject/v1' as const;
export const SUBJECT_SALT_BYTES = 32;

/** What opens a pseudonymous subject: the plain key (an invoice key) and the subject's salt. */
export interface SubjectLink {
  scheme: typeof SUBJECT_SCHEME;
  /** The plain subject: an invoice key, 32 bytes of 0x-hex. */
  key: Hex;
  salt: Hex;
}

function hex32(name: string, value: string): Uint8Array {
  try {
    return fromHex(value, 32);
  } catch (cause) {
    throw new ProtocolError('INVALID_INPUT', `${name} must be 32 bytes of 0x-prefixed lowercase hex`, { cause });
  }
}

const PSEUDONYM_PREFIX = concatBytes(utf8(SUBJECT_SCHEME), new Uint8Array([0]));

/** SHA256("tianfu/subject/v1" || 0x00 || salt || key): the entry subject of a pseudonymous record. */
export function subjectPseudonym(salt: Hex, key: Hex): Hex {
  return toHex(sha256(concatBytes(PSEUDONYM_PREFIX, hex32('subject salt', salt), hex32('subject key', key))));
}

export function subjectLink(key: Hex, salt: Hex): SubjectLink {
  return { scheme: SUBJECT_SCHEME, key, salt };
}

/** True when the link opens `subject` (the entry's, as written in the log). */
export function linkOpens(link: SubjectLink, subject: string): boolean {
  return link.scheme === SUBJECT_SCHEME && subjectPseudonym(link.salt, link.key) === subject;
}

