/**
 * Loading a `tianfu.bundle/v1` from untrusted JSON (docs/protocol.md §8). A bundle comes from a party to a
 * dispute, so nothing in it is assumed: every field is checked for shape here, and every claim it
 * makes is checked against the record, the proof and the chain by verify.ts. Refusals name the field
 * path (`items[2].receipt.signature`) so a person can see what is wrong with the file they hold.
 * Unknown extra fields are ignored (dropped from the loaded copy): nothing reads them, so they can
 * claim nothing.
 */
import { ProtocolError } from './errors';
import { BUNDLE_FORMAT, CHECKPOINT_TYPE, CHECKPOINT_V2_TYPE, RECEIPT_TYPE, RECEIPT_V2_TYPE, type SignedCheckpointV2, type Anchor, type Bundle, type BundleItem, type BundleTimestamp, type InclusionProof, type Receipt, type SignedCheckpoint } from './formats';
import { parseEntry } from './record';
import type { Hex } from './bytes';
import { SUBJECT_SCHEME, type SubjectLink } from './subject';
import { canonicalBytes } from './canonical';
import { OPERATOR_PROFILE_TYPE, type BundleOperatorProfile, type SignedOperatorProfile } from './operator-profile';

/** A bundle refused at load time; `path` is the offending field (`''` for the whole document). */
export class BundleFormatError extends ProtocolError {
  declare readonly code: 'UNKNOWN_FORMAT' | 'MALFORMED';
  readonly path: string;
  constructor(code: 'UNKNOWN_FORMAT' | 'MALFORMED', path: string, message: string, cause?: unknown) {
    super(code, `${path === '' ? 'bundle' : path}: ${message}`, cause === undefined ? {} : { cause });
    this.path = path;
  }
}

const HEX32 = /^0x[0-9a-f]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const SIG65 = /^0x[0-9a-f]{130}$/;
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;
const KINDS: readonly Bundle['kind'][] = ['invoice', 'evidence', 'record'];

type Obj = Record<string, unknown>;

function malformed(path: string, message: string, cause?: unknown): never {
  throw new BundleFormatError('MALFORMED', path, message, cause);
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `${JSON.stringify(v.length > 80 ? v.slice(0, 80) + '…' : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) malformed(path, `must be an object, got ${describe(v)}`);
  return v as Obj;
}

function field(o: Obj, key: string, path: string, re: RegExp, what: string): string {
  const v = o[key];
  if (typeof v !== 'string' || !re.test(v)) malformed(`${path}.${key}`, `must be ${what}, got ${describe(v)}`);
  return v;
}

const hex32 = (o: Obj, k: string, p: string): Hex => field(o, k, p, HEX32, '32 bytes of lowercase 0x-hex') as Hex;
const address = (o: Obj, k: string, p: string): Hex => field(o, k, p, ADDRESS, 'a 20-byte 0x-hex address') as Hex;
const decimal = (o: Obj, k: string, p: string): string => field(o, k, p, DECIMAL, 'a non-negative decimal integer string');

function count(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) malformed(`${path}.${key}`, `must be a non-negative safe integer, got ${describe(v)}`);
  return v;
}

function loadReceipt(v: unknown, path: string): Receipt {
  const o = obj(v, path);
  if (o.type !== RECEIPT_TYPE && o.type !== RECEIPT_V2_TYPE) {
    if (o.type === undefined) malformed(`${path}.type`, `must be ${RECEIPT_TYPE} or ${RECEIPT_V2_TYPE}, got missing`);
    throw new BundleFormatError('UNKNOWN_FORMAT', `${path}.type`, `receipt type ${describe(o.type)} is not ${RECEIPT_TYPE} or ${RECEIPT_V2_TYPE}`);
  }
  const at = time(o, 'at', path);
  const base = { logId: hex32(o, 'logId', path), index: count(o, 'index', path), leafHash: hex32(o, 'leafHash', path), at };
  if (o.type === RECEIPT_TYPE) return { type: RECEIPT_TYPE, ...base, signature: field(o, 'signature', path, SIG65, 'a 65-byte signature in lowercase 0x-hex') as Hex };
  const cp = obj(o.checkpoint, `${path}.checkpoint`);
  if (cp.type !== CHECKPOINT_V2_TYPE) {
    if (cp.type === undefined) malformed(`${path}.checkpoint.type`, `must be ${CHECKPOINT_V2_TYPE}, got missing`);
    throw new BundleFormatError('UNKNOWN_FORMAT', `${path}.checkpoint.type`, `receipt checkpoint type ${describe(cp.type)} is not ${CHECKPOINT_V2_TYPE}`);
  }
  const cpPath = `${path}.checkpoint`;
  const checkpoint: SignedCheckpointV2 = {
    type: CHECKPOINT_V2_TYPE,
    logId: hex32(cp, 'logId', cpPath),
    treeSize: count(cp, 'treeSize', cpPath),
    rootHash: hex32(cp, 'rootHash', cpPath),
    at: time(cp, 'at', cpPath),
    signature: field(cp, 'signature', cpPath, SIG65, 'a 65-byte signature in lowercase 0x-hex') as Hex,
  };
  return { type: RECEIPT_V2_TYPE, ...base, checkpoint, proof: hashList(o, 'proof', path) };
}

function time(o: Obj, key: string, path: string): string {
  const at = o[key];
  if (typeof at !== 'string' || at.length === 0 || at.length > 64) malformed(`${path}.${key}`, `must be an RFC 3339 time string, got ${describe(at)}`);
  return at;
}

/** An RFC 9162 proof: at most 128 hashes (2·63 for any tree below 2^63 leaves), each 32 bytes of lowercase 0x-hex. */
function hashList(o: Obj, key: string, path: string): Hex[] {
  const proof = o[key];
  if (!Array.isArray(proof)) malformed(`${path}.${key}`, `must be an array of 32-byte hashes, got ${describe(proof)}`);
  if (proof.length > 128) malformed(`${path}.${key}`, `has ${proof.length} elements; no RFC 9162 inclusion proof is longer than 128`);
  proof.forEach((h, i) => {
    if (typeof h !== 'string' || !HEX32.test(h)) malformed(`${path}.${key}[${i}]`, `must be 32 bytes of lowercase 0x-hex, got ${describe(h)}`);
  });
  return proof as Hex[];
}

function loadInclusion(v: unknown, path: string): InclusionProof {
  const o = obj(v, path);
  const proof = hashList(o, 'proof', path);
  return { leafIndex: count(o, 'leafIndex', path), treeSize: count(o, 'treeSize', path), rootHash: hex32(o, 'rootHash', path), proof };
}

function loadAnchor(v: unknown, path: string): Anchor {
  const o = obj(v, path);
  return {
    chainId: decimal(o, 'chainId', path),
    registry: address(o, 'registry', path),
    logId: hex32(o, 'logId', path),
    treeSize: count(o, 'treeSize', path),
    rootHash: hex32(o, 'rootHash', path),
    txHash: hex32(o, 'txHash', path),
    blockNumber: decimal(o, 'blockNumber', path),
    timestamp: decimal(o, 'timestamp', path),
  };
}

function loadCheckpoint(v: unknown, path: string): SignedCheckpoint {
  const o = obj(v, path);
  if (o.type !== CHECKPOINT_TYPE) throw new BundleFormatError(o.type === undefined ? 'MALFORMED' : 'UNKNOWN_FORMAT', `${path}.type`, `must be ${CHECKPOINT_TYPE}, got ${describe(o.type)}`);
  return { type: CHECKPOINT_TYPE, logId: hex32(o, 'logId', path), treeSize: count(o, 'treeSize', path), rootHash: hex32(o, 'rootHash', path), signature: field(o, 'signature', path, SIG65, 'a 65-byte signature in lowercase 0x-hex') as Hex };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function loadTimestamps(v: unknown, path: string): BundleTimestamp[] {
  if (!Array.isArray(v)) malformed(path, `must be an array, got ${describe(v)}`);
  if (v.length > 16) malformed(path, `has ${v.length} tokens; the verifier stops at 16`);
  return v.map((t, i) => {
    const p = `${path}[${i}]`;
    const o = obj(t, p);
    const token = o.token;
    // 64 KiB of base64 is far more than any TSA token with its certificate chain.
    if (typeof token !== 'string' || token.length === 0 || token.length > 65_536 || token.length % 4 !== 0 || !BASE64.test(token)) malformed(`${p}.token`, `must be a base64 DER TimeStampToken, got ${describe(token)}`);
    for (const k of ['tsa', 'genTime'] as const) if (typeof o[k] !== 'string' || (o[k] as string).length > 1024) malformed(`${p}.${k}`, `must be a string, got ${describe(o[k])}`);
    if (o.url !== undefined && (typeof o.url !== 'string' || o.url.length > 2048)) malformed(`${p}.url`, `must be a string, got ${describe(o.url)}`);
    return { token, tsa: o.tsa as string, genTime: o.genTime as string, treeSize: count(o, 'treeSize', p), ...(typeof o.url === 'string' ? { url: o.url } : {}) };
  });
}

const PROFILE_MAX_BYTES = 64 * 1024;

function loadOperatorProfile(v: unknown, path: string): BundleOperatorProfile {
  const o = obj(v, path);
  const p = obj(o.profile, `${path}.profile`);
  if (typeof p.type !== 'string') malformed(`${path}.profile.type`, `must be "${OPERATOR_PROFILE_TYPE}", got ${describe(p.type)}`);
  if (p.type !== OPERATOR_PROFILE_TYPE) throw new BundleFormatError('UNKNOWN_FORMAT', `${path}.profile.type`, `${describe(p.type)} is not an operator profile this verifier knows (${OPERATOR_PROFILE_TYPE})`);
  if (p.declared !== null) obj(p.declared, `${path}.profile.declared`);
  obj(p.technical, `${path}.profile.technical`);
  if (typeof p.signedAt !== 'string' || p.signedAt.length > 64) malformed(`${path}.profile.signedAt`, `must be an RFC 3339 time, got ${describe(p.signedAt)}`);
  let size: number;
  try {
    size = canonicalBytes(p).length;
  } catch (err) {
    malformed(`${path}.profile`, `has no canonical JSON form: ${(err as Error).message}`, err);
  }
  if (size > PROFILE_MAX_BYTES) malformed(`${path}.profile`, `is ${size} bytes as canonical JSON; the verifier stops at ${PROFILE_MAX_BYTES}`);
  // The profile is kept as given (every member, known or not): its signature covers all of it.
  return {
    digest: hex32(o, 'digest', path),
    profile: { ...(p as unknown as SignedOperatorProfile), logId: hex32(p, 'logId', `${path}.profile`), operator: address(p, 'operator', `${path}.profile`), signature: field(p, 'signature', `${path}.profile`, SIG65, 'a 65-byte signature in lowercase 0x-hex') as Hex },
  };
}

function loadItem(v: unknown, path: string): BundleItem {
  const o = obj(v, path);
  const record = o.record;
  if (record !== null && (typeof record !== 'object' || Array.isArray(record))) malformed(`${path}.record`, `must be an object, or null when erased; got ${describe(record)}`);
  if (!('record' in o)) malformed(`${path}.record`, 'missing (use null for an erased record)');
  const salt = o.salt;
  if (salt !== null && (typeof salt !== 'string' || !HEX32.test(salt))) malformed(`${path}.salt`, `must be 32 bytes of lowercase 0x-hex, or null when erased; got ${describe(salt)}`);
  if ((record === null) !== (salt === null)) malformed(`${path}.salt`, 'record and salt are erased together: both null or both present');
  let entry;
  try {
    entry = parseEntry(o.entry);
  } catch (err) {
    const pe = err as ProtocolError;
    throw new BundleFormatError(pe.code === 'UNKNOWN_FORMAT' ? 'UNKNOWN_FORMAT' : 'MALFORMED', `${path}.entry`, pe.message, err);
  }
  const inclusion = o.inclusion === null || o.inclusion === undefined ? null : loadInclusion(o.inclusion, `${path}.inclusion`);
  const anchor = o.anchor === null || o.anchor === undefined ? null : loadAnchor(o.anchor, `${path}.anchor`);
  if ((inclusion === null) !== (anchor === null)) malformed(`${path}.${inclusion === null ? 'inclusion' : 'anchor'}`, 'inclusion and anchor come together: both null (pending) or both present');
  return {
    record: record as Record<string, unknown> | null,
    salt: salt as Hex | null,
    entry,
    index: count(o, 'index', path),
    receipt: loadReceipt(o.receipt, `${path}.receipt`),
    inclusion,
    anchor,
    ...(o.receiptConsistency !== undefined ? { receiptConsistency: loadConsistency(o.receiptConsistency, `${path}.receiptConsistency`) } : {}),
  };
}

function loadConsistency(v: unknown, path: string): { from: number; to: number; proof: Hex[] } {
  const o = obj(v, path);
  const from = count(o, 'from', path);
  const to = count(o, 'to', path);
  if (from >= to) malformed(`${path}.from`, `must be below to (${to}), got ${from}`);
  return { from, to, proof: hashList(o, 'proof', path) };
}

/**
 * Checks the shape of an untrusted bundle and returns a clean, typed copy. Throws BundleFormatError
 * (a ProtocolError): UNKNOWN_FORMAT for a `format` (or receipt type / entry version) this code does
 * not know, MALFORMED for a missing or malformed field, naming the field.
 */
export function loadBundle(json: unknown): Bundle {
  const o = obj(json, '');
  if (o.format !== BUNDLE_FORMAT) {
    if (typeof o.format !== 'string') malformed('format', `must be "${BUNDLE_FORMAT}", got ${describe(o.format)}`);
    throw new BundleFormatError('UNKNOWN_FORMAT', 'format', `${describe(o.format)} is not a bundle format this verifier knows (${BUNDLE_FORMAT})`);
  }
  const kind = o.kind;
  if (typeof kind !== 'string' || !KINDS.includes(kind as Bundle['kind'])) malformed('kind', `must be one of ${KINDS.join(', ')}, got ${describe(kind)}`);
  const subject = o.subject;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) malformed('subject', `must be a non-empty string of at most 256 characters, got ${describe(subject)}`);
  const log = obj(o.log, 'log');
  const items = o.items;
  if (!Array.isArray(items) || items.length === 0) malformed('items', `must be a non-empty array, got ${Array.isArray(items) ? 'an empty array' : describe(items)}`);
  if (items.length > 100_000) malformed('items', `has ${items.length} items; the verifier stops at 100000`);
  let file: Bundle['file'];
  if (o.file !== undefined && o.file !== null) {
    const f = obj(o.file, 'file');
    file = { sha256: hex32(f, 'sha256', 'file'), sm3: hex32(f, 'sm3', 'file'), size: count(f, 'size', 'file') };
  } else if (o.file === null) file = null;
  let xml: Bundle['xml'];
  if (o.xml !== undefined) {
    const x = obj(o.xml, 'xml');
    if (x.mediaType !== 'application/xml') malformed('xml.mediaType', `must be "application/xml", got ${describe(x.mediaType)}`);
    if (typeof x.base64 !== 'string' || x.base64.length === 0 || x.base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(x.base64)) malformed('xml.base64', 'must be the document in standard base64');
    xml = { mediaType: 'application/xml', base64: x.base64 as string };
  }
  let link: SubjectLink | undefined;
  if (o.subjectLink !== undefined && o.subjectLink !== null) {
    const l = obj(o.subjectLink, 'subjectLink');
    if (l.scheme !== SUBJECT_SCHEME) {
      if (typeof l.scheme !== 'string') malformed('subjectLink.scheme', `must be "${SUBJECT_SCHEME}", got ${describe(l.scheme)}`);
      throw new BundleFormatError('UNKNOWN_FORMAT', 'subjectLink.scheme', `${describe(l.scheme)} is not a subject scheme this verifier knows (${SUBJECT_SCHEME})`);
    }
    link = { scheme: SUBJECT_SCHEME, key: hex32(l, 'key', 'subjectLink'), salt: hex32(l, 'salt', 'subjectLink') };
  }
  const createdAt = o.createdAt;
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) malformed('createdAt', `must be an RFC 3339 time, got ${describe(createdAt)}`);
  return {
    format: BUNDLE_FORMAT,
    kind: kind as Bundle['kind'],
    subject,
    ...(link !== undefined ? { subjectLink: link } : {}),
    log: { logId: hex32(log, 'logId', 'log'), operator: address(log, 'operator', 'log'), chainId: decimal(log, 'chainId', 'log'), registry: address(log, 'registry', 'log') },
    items: items.map((it, i) => loadItem(it, `items[${i}]`)),
    ...(file !== undefined ? { file } : {}),
    ...(xml !== undefined ? { xml } : {}),
    ...(o.checkpoint !== undefined && o.checkpoint !== null ? { checkpoint: loadCheckpoint(o.checkpoint, 'checkpoint') } : {}),
    ...(o.timestamps !== undefined && o.timestamps !== null ? { timestamps: loadTimestamps(o.timestamps, 'timestamps') } : {}),
    ...(o.operatorProfile !== undefined && o.operatorProfile !== null ? { operatorProfile: loadOperatorProfile(o.operatorProfile, 'operatorProfile') } : {}),
    createdAt,
  };
}
