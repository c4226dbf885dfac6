/** Record digest, salted commitment and log entry (docs/protocol.md §1–3). */
import { concatBytes, fromHex, toHex, utf8, type Hex } from './bytes';
import { canonicalBytes, isPlainObjectOfSize, plainJcsString } from './canonical';
import { sha256 } from './hash';
import { leafHash } from './merkle';
import { ProtocolError } from './errors';

export const COMMITMENT_TAG = 'tianfu/commitment/v1';
export const SALT_BYTES = 32;
export const ENTRY_VERSION = 1 as const;

/** recordDigest = SHA256(JCS(record)). */
export function recordDigest(record: unknown): Hex {
  return toHex(sha256(canonicalBytes(record)));
}

function hexArg(name: string, value: string, bytes: number): Uint8Array {
  try {
    return fromHex(value, bytes);
  } catch (cause) {
    throw new ProtocolError('INVALID_INPUT', `${name} must be ${bytes} bytes of 0x-prefixed lowercase hex`, { cause });
  }
}

const COMMITMENT_PREFIX = concatBytes(utf8(COMMITMENT_TAG), new Uint8Array([0]));

/** commitment = SHA256("tianfu/commitment/v1" || 0x00 || salt || recordDigest). Hides the record from log readers. */
export function commitment(salt: Hex, digest: Hex): Hex {
  const s = hexArg('salt', salt, SALT_BYTES);
  const d = hexArg('recordDigest', digest, 32);
  return toHex(sha256(concatBytes(COMMITMENT_PREFIX, s, d)));
}

/** The leaf: carries no personal or commercial data, only what the lifecycle rules need. */
export interface LogEntry {
  v: typeof ENTRY_VERSION;
  kind: string;
  subject: string;
  commitment: Hex;
  /** Node acceptance time, RFC 3339 with milliseconds, UTC. */
  at: string;
}

const KIND_RE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
const AT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function isCanonicalInstant(at: string): boolean {
  const t = Date.parse(at);
  return !Number.isNaN(t) && new Date(t).toISOString() === at;
}

/** Loads and checks an entry object; refuses unknown versions and extra fields. */
export function parseEntry(value: unknown): LogEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError('MALFORMED', 'entry must be an object');
  const e = value as Record<string, unknown>;
  if (e.v !== ENTRY_VERSION) throw new ProtocolError('UNKNOWN_FORMAT', `entry version ${JSON.stringify(e.v)} is not supported (expected ${ENTRY_VERSION})`);
  const keys = Object.keys(e).sort().join(',');
  if (keys !== 'at,commitment,kind,subject,v') throw new ProtocolError('MALFORMED', `entry fields must be exactly v, kind, subject, commitment, at (got ${keys})`);
  if (typeof e.kind !== 'string' || !KIND_RE.test(e.kind)) throw new ProtocolError('MALFORMED', `entry.kind ${JSON.stringify(e.kind)} is not a dotted kind name`);
  if (typeof e.subject !== 'string' || e.subject.length === 0 || e.subject.length > 256) throw new ProtocolError('MALFORMED', 'entry.subject must be a non-empty string of at most 256 characters');
  if (typeof e.commitment !== 'string' || !COMMITMENT_RE.test(e.commitment)) throw new ProtocolError('MALFORMED', 'entry.commitment must be 32-byte lowercase hex');
  // Round-trip, not just Date.parse: V8 accepts 2024-02-30 (as 03-01) and 24:00, which would give one
  // instant two spellings and so two leaf hashes.
  if (typeof e.at !== 'string' || !AT_RE.test(e.at) || !isCanonicalInstant(e.at)) {
    throw new ProtocolError('MALFORMED', `entry.at ${JSON.stringify(e.at)} must be an existing instant in RFC 3339 UTC with milliseconds (YYYY-MM-DDTHH:mm:ss.sssZ)`);
  }
  return { v: ENTRY_VERSION, kind: e.kind, subject: e.subject, commitment: e.commitment as Hex, at: e.at };
}

export function makeEntry(kind: string, subject: string, commitmentHex: Hex, at: Date): LogEntry {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new ProtocolError('INVALID_INPUT', 'entry time must be a valid Date');
  const iso = at.toISOString();
  // The node's own entries (once per record on the writer): the same checks as parseEntry, in the same
  // order with the same errors, without re-reading an object built right here. A valid Date's
  // toISOString is its one canonical spelling whenever it has the YYYY form (years 0000-9999).
  if (typeof kind === 'string' && KIND_RE.test(kind) && typeof subject === 'string' && subject.length > 0 && subject.length <= 256 && typeof commitmentHex === 'string' && COMMITMENT_RE.test(commitmentHex) && AT_RE.test(iso)) {
    return { v: ENTRY_VERSION, kind, subject, commitment: commitmentHex, at: iso };
  }
  return parseEntry({ v: ENTRY_VERSION, kind, subject, commitment: commitmentHex, at: iso });
}

/** JCS of an entry: written directly when every string is printable ASCII without `"` or `\` (the node's entries), else by the general serializer. Same bytes (tested). */
export function entryBytes(entry: LogEntry): Uint8Array {
  const e: unknown = entry;
  if (isPlainObjectOfSize(e, 5) && e.v === ENTRY_VERSION) {
    const at = plainJcsString(e.at), c = plainJcsString(e.commitment), kind = plainJcsString(e.kind), subject = plainJcsString(e.subject);
    if (at && c && kind && subject) return utf8(`{"at":${at},"commitment":${c},"kind":${kind},"subject":${subject},"v":1}`);
  }
  return canonicalBytes(entry);
}

const COMMITMENT_RE = /^0x[0-9a-f]{64}$/;

export function entryLeafHash(entry: LogEntry): Hex {
  return toHex(leafHash(entryBytes(entry)));
}

/** logId = SHA256("tianfu/log/v1" || 0x00 || name): a stable bytes32 for a named log. */
export function logIdFor(name: string): Hex {
  if (name.length === 0 || name.length > 128) throw new ProtocolError('INVALID_INPUT', 'log name must be 1..128 characters');
  return toHex(sha256(concatBytes(utf8('tianfu/log/v1'), new Uint8Array([0]), utf8(name))));
}
