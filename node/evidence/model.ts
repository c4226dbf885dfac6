/**
 * The evidence data model (docs/evidence.md; what a court looks for: docs/evidence.md "The model").
 *
 * Three shapes:
 *  - EvidenceMetadata: what the collector sends with the file (the `metadata` part of the deposit).
 *  - EvidenceDepositRecord: what the node commits to the log for a deposit — the metadata, the
 *    digests and size the node calculated, the collector's identity (from its API key) and the
 *    evidence id. Only its salted commitment reaches the log (docs/protocol.md §2).
 *  - EvidenceCustodyRecord: one custody event (transferred, sealed, exported, annotated, withdrawn;
 *    node-written accessed; admin erased), each its own log entry with the evidence id as subject.
 *
 * Every schema is strict: an unknown field is refused, never silently dropped, so what the collector
 * signed and what the node committed cannot drift apart.
 */
import { randomBytes } from 'node:crypto';
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { canonicalBytes } from '../protocol/canonical';
import type { Hex } from '../protocol/bytes';
import { recordDigest } from '../protocol/record';
import { DomainError, type Actor, type Role } from '../domain/types';
import { textRefinement } from '../input/text';
import { CAPTURE_ID_RE, CLIENT_CUSTODY_EVENTS, CUSTODY_EVENTS, EVIDENCE_ID_RE, isEvidenceId } from './history';

export {
  CLIENT_CUSTODY_EVENTS, CUSTODY_EVENTS, CUSTODY_KIND_PREFIX, DEPOSIT_KIND, EVIDENCE_ID_RE, EVIDENCE_KINDS, custodyKind, isEvidenceId, CAPTURE_FAILED_KIND, CAPTURE_ID_RE,
  type ClientCustodyEvent, type CustodyEvent,
} from './history';

extendZodWithOpenApi(z);

export const DEPOSIT_RECORD_TYPE = 'tianfu.evidence.deposit/v1' as const;
export const CUSTODY_RECORD_TYPE = 'tianfu.evidence.custody/v1' as const;

export const EVIDENCE_METHODS = ['web-page', 'screen-recording', 'file', 'chat-export', 'other'] as const;
export type EvidenceMethod = (typeof EVIDENCE_METHODS)[number];

/** Bounds, so a single deposit cannot bloat every bundle and export made from it. */
export const LIMITS = {
  title: 512,
  fileName: 255,
  caseRef: 128,
  url: 2048,
  description: 2000,
  /** JCS bytes of the `environment` object. */
  environmentBytes: 16 * 1024,
  environmentDepth: 8,
  reason: 1000,
  note: 4000,
  /** How far a capture time may lie after the node's acceptance time (clock skew between machines). */
  captureSkewMs: 5 * 60 * 1000,
} as const;

export function newEvidenceId(random: Uint8Array = randomBytes(16)): string {
  if (random.length !== 16) throw new TypeError(`an evidence id takes 16 random bytes, got ${random.length}`);
  return `ev_${Buffer.from(random).toString('hex')}`;
}

// ---- building blocks ----

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, '32 bytes of 0x-prefixed lowercase hex');
export const Sha256Schema = hex32.openapi('Sha256', { description: 'SHA-256 of the file, 0x-prefixed lowercase hex', example: '0x' + 'ab'.repeat(32) });
export const Sm3Schema = hex32.openapi('Sm3', { description: 'SM3 (GB/T 32905-2016) of the file, 0x-prefixed lowercase hex', example: '0x' + 'cd'.repeat(32) });
export const EvidenceIdSchema = z.string().regex(EVIDENCE_ID_RE, 'ev_ followed by 32 lowercase hex characters').openapi('EvidenceId', { example: 'ev_' + '0f'.repeat(16) });
const SignatureSchema = z
  .string()
  .regex(/^0x[0-9a-f]{130}$/, '65-byte EIP-191 signature, 0x-prefixed lowercase hex')
  .openapi('CollectorSignature', { description: 'EIP-191 personal_sign signature over the 32 bytes of the claim digest (see docs/evidence.md)' });
const AddressSchema = z.string().regex(/^0x[0-9a-f]{40}$/, '20-byte address, 0x-prefixed lowercase hex');

/** RFC 3339 date-time with an explicit offset (Z or ±hh:mm), e.g. 2025-03-01T10:15:00.000+08:00. */
const Rfc3339Schema = z.iso.datetime({ offset: true }).openapi({ description: 'RFC 3339 date-time with offset', example: '2025-03-01T10:15:00+08:00' });

// No transforms anywhere (no trimming, no URL normalising): the parsed metadata must be byte-for-byte
// what the collector sent, or the claim digest it signed would not match the one the node computes.
// Characters: the text rule of node/input/text.ts (docs/input.md); free text may span lines.
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => s.trim().length > 0, 'must not be blank')
    .superRefine(textRefinement());
const longText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => s.trim().length > 0, 'must not be blank')
    .superRefine(textRefinement({ multiline: true }));

export const EvidenceSourceSchema = z
  .union([
    z.strictObject({
      url: z
        .url({ protocol: /^https?$/ })
        .max(LIMITS.url)
        .openapi({ description: 'where the evidence was captured (http or https)', example: 'https://example.com/listing/42' }),
    }),
    z.strictObject({
      description: longText(LIMITS.description).openapi({ description: 'origin of evidence that has no URL (a device, a chat app, a mailbox…)' }),
    }),
  ])
  .openapi('EvidenceSource');

/** Path to the first value that is not plain JSON, or null. */
function nonJsonPath(v: unknown, at: (string | number)[]): (string | number)[] | null {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? null : at;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = nonJsonPath(v[i], [...at, i]);
      if (bad) return bad;
    }
    return null;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) {
      const bad = nonJsonPath(x, [...at, k]);
      if (bad) return bad;
    }
    return null;
  }
  return at;
}

function jsonDepth(v: unknown): number {
  if (Array.isArray(v)) return 1 + v.reduce((m: number, x) => Math.max(m, jsonDepth(x)), 0);
  if (v !== null && typeof v === 'object') return 1 + Object.values(v).reduce((m: number, x) => Math.max(m, jsonDepth(x)), 0);
  return 0;
}

/**
 * The capture environment, free-form because tools differ (tool and version, OS, public IP, DNS
 * answers, TLS certificate chain, clean-environment checks done),
 * but bounded in size and depth.
 */
export const EvidenceEnvironmentSchema = z
  // z.unknown() plus an explicit JSON check rather than z.json(): z.json() is recursive, which
  // zod-to-openapi cannot render (unbounded recursion).
  .record(z.string().max(128), z.unknown())
  .superRefine((env, ctx) => {
    const bad = nonJsonPath(env, []);
    if (bad !== null) {
      ctx.addIssue({ code: 'custom', path: bad, message: 'environment must be plain JSON (strings, finite numbers, booleans, null, arrays, objects)' });
      return;
    }
    const depth = jsonDepth(env);
    if (depth > LIMITS.environmentDepth) {
      ctx.addIssue({ code: 'custom', message: `environment nests ${depth} levels deep; at most ${LIMITS.environmentDepth} allowed` });
      return;
    }
    let bytes: number;
    try {
      bytes = canonicalBytes(env).length;
    } catch (err) {
      // No canonical form (an integer beyond 2^53, a lone surrogate): the client's input, refused as such.
      ctx.addIssue({ code: 'custom', message: `environment has no canonical JSON form: ${(err as Error).message}` });
      return;
    }
    if (bytes > LIMITS.environmentBytes) {
      ctx.addIssue({ code: 'custom', message: `environment is ${bytes} bytes as canonical JSON; at most ${LIMITS.environmentBytes} allowed` });
    }
  })
  .openapi('EvidenceEnvironment', {
    description: 'capture environment: tool and version, OS, IP, DNS answers, checks done (free-form JSON, at most 16 KiB canonical)',
    example: { tool: 'tianfu-capture', toolVersion: '1.4.2', os: 'Debian 12', publicIp: '203.0.113.7', dns: { 'example.com': ['93.184.215.14'] }, checks: ['clean-profile', 'hosts-file-empty'] },
  });

const claimShape = {
  title: text(LIMITS.title),
  mediaType: z
    .string()
    // RFC 6838 §4.2 type/subtype names, no parameters.
    .regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/, 'a media type such as video/mp4 (RFC 6838, no parameters)')
    .openapi({ example: 'video/mp4' }),
  fileName: text(LIMITS.fileName)
    .refine((s) => !/[/\\]/.test(s) && s !== '.' && s !== '..', 'a bare file name, without directories')
    .openapi({ example: 'capture-2025-03-01.mp4' }),
  method: z.enum(EVIDENCE_METHODS).openapi({ description: 'how the evidence was captured' }),
  source: EvidenceSourceSchema,
  capturedAt: Rfc3339Schema,
  environment: EvidenceEnvironmentSchema,
  caseRef: text(LIMITS.caseRef).optional().openapi({ description: 'case reference, e.g. (2025)浙0192民初123号' }),
  sha256: Sha256Schema.optional(),
  sm3: Sm3Schema.optional(),
};

/** The metadata without the signature: what a collector signs and what the deposit record holds. */
export const EvidenceClaimSchema = z.strictObject(claimShape).openapi('EvidenceClaim');

/** What the collector sends as the `metadata` part of a deposit. */
export const EvidenceMetadataSchema = z
  .strictObject({ ...claimShape, signature: SignatureSchema.optional() })
  .superRefine((m, ctx) => {
    // A signature must bind the content, not only the description of it.
    if (m.signature !== undefined && (m.sha256 === undefined || m.sm3 === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['signature'], message: 'a signed deposit must declare both sha256 and sm3, so the signature covers the file itself' });
    }
  })
  .openapi('EvidenceMetadata');

export type EvidenceMetadata = z.infer<typeof EvidenceMetadataSchema>;
export type EvidenceClaim = z.infer<typeof EvidenceClaimSchema>;

export const ActorRefSchema = z
  .strictObject({
    keyId: z.string().min(1).max(128),
    role: z.enum(['admin', 'issuer', 'buyer', 'collector', 'court', 'auditor']),
    name: z.string().max(256).optional(),
  })
  .openapi('ActorRef', { description: 'the API key that acted, its role and display name' });
export type ActorRef = z.infer<typeof ActorRefSchema>;

export const FileDigestsSchema = z
  .strictObject({ sha256: Sha256Schema, sm3: Sm3Schema, size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })
  .openapi('EvidenceFileDigests', { description: 'digests and byte length the node calculated while the file streamed in' });
export type FileDigests = z.infer<typeof FileDigestsSchema>;

export const EvidenceDepositRecordSchema = z
  .strictObject({
    type: z.literal(DEPOSIT_RECORD_TYPE),
    evidenceId: EvidenceIdSchema,
    metadata: EvidenceClaimSchema,
    file: FileDigestsSchema,
    collector: ActorRefSchema,
    collectorSignature: z
      .strictObject({ address: AddressSchema, digest: hex32, signature: SignatureSchema })
      .optional()
      .openapi({ description: 'the collector EIP-191 signature over `digest` = SHA256(JCS(metadata)), recovering to `address`' }),
    /** Present only on a deposit the node made from its own capture (docs/capture.md): the package's manifest. */
    capture: z
      .strictObject({
        captureId: z.string().regex(CAPTURE_ID_RE),
        attempt: z.number().int().min(1).max(1000),
        manifest: z.strictObject({ sha256: hex32, sm3: hex32, size: z.number().int().min(1) }),
      })
      .optional()
      .openapi({ description: 'the node captured this page itself: the capture id, the attempt, and the digests of tianfu/manifest.json in the package' }),
  })
  .openapi('EvidenceDepositRecord');
export type EvidenceDepositRecord = z.infer<typeof EvidenceDepositRecordSchema>;

/** Body of `POST /v1/evidence/{id}/custody`. */
export const CustodyEventInputSchema = z
  .strictObject({
    event: z.enum(CLIENT_CUSTODY_EVENTS),
    reason: text(LIMITS.reason),
    note: longText(LIMITS.note).optional(),
  })
  .openapi('CustodyEventInput');
export type CustodyEventInput = z.infer<typeof CustodyEventInputSchema>;

export const EvidenceCustodyRecordSchema = z
  .strictObject({
    type: z.literal(CUSTODY_RECORD_TYPE),
    evidenceId: EvidenceIdSchema,
    event: z.enum(CUSTODY_EVENTS),
    reason: text(LIMITS.reason),
    note: longText(LIMITS.note).optional(),
    /** Who did it: the submitting key; for `accessed` the key that read the content. */
    by: ActorRefSchema,
  })
  .openapi('EvidenceCustodyRecord');
export type EvidenceCustodyRecord = z.infer<typeof EvidenceCustodyRecordSchema>;

// ---- builders ----

/** Parses untrusted metadata; refusals carry the zod path of the first problem. */
export function parseEvidenceMetadata(value: unknown): EvidenceMetadata {
  const r = EvidenceMetadataSchema.safeParse(value);
  if (!r.success) throw invalid('EVIDENCE_INVALID_METADATA', 'evidence metadata', r.error);
  return r.data;
}

export function parseCustodyEventInput(value: unknown): CustodyEventInput {
  const r = CustodyEventInputSchema.safeParse(value);
  if (!r.success) throw invalid('EVIDENCE_INVALID_CUSTODY_EVENT', 'custody event', r.error);
  return r.data;
}

function invalid(code: string, what: string, error: z.ZodError): DomainError {
  const first = error.issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  const pathOf = (i: z.core.$ZodIssue) => i.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  return new DomainError(code, `invalid ${what}${where}: ${first?.message ?? 'malformed'}`, {
    path: first ? pathOf(first) : [],
    // One entry per issue with its field path; the text rule's issues carry its own code (TEXT_BIDI, …).
    problems: error.issues.map((i) => ({ path: pathOf(i), message: i.message, code: (i.code === 'custom' ? (i.params as { textCode?: string } | undefined)?.textCode : undefined) ?? i.code })),
  });
}

export function toActorRef(actor: Actor): ActorRef {
  const ref: ActorRef = { keyId: actor.keyId, role: actor.role as Role };
  if (actor.name !== undefined) ref.name = actor.name;
  return ref;
}

/** The metadata minus its signature, i.e. exactly what the collector signs. */
export function claimOf(metadata: EvidenceMetadata): EvidenceClaim {
  const { signature: _signature, ...claim } = metadata;
  return claim;
}

/**
 * claimDigest = SHA256(JCS(metadata without `signature`)) (docs/protocol.md §2 applied to the claim).
 * The collector can compute it before uploading (it knows the file's digests), which is why the
 * signature covers the claim and not the full deposit record: the record also holds the evidence id
 * and key id that the node assigns.
 */
export function claimDigest(metadata: EvidenceMetadata | EvidenceClaim): Hex {
  return recordDigest(claimOf(metadata as EvidenceMetadata));
}

export interface BuildDepositRecordInput {
  evidenceId: string;
  metadata: EvidenceMetadata;
  /** What the blob store calculated. */
  file: FileDigests;
  collector: Actor;
  /** The address the signature was verified against (verifyCollectorSignature); required iff metadata.signature. */
  signerAddress?: string;
  /** A deposit of the node's own capture (never from a client's body). */
  capture?: { captureId: string; attempt: number; manifest: { sha256: Hex; sm3: Hex; size: number } };
}

/** Builds the record committed to the log for a deposit. Refuses digests that disagree with the file. */
export function buildDepositRecord(input: BuildDepositRecordInput): EvidenceDepositRecord {
  const { metadata, file } = input;
  if (!isEvidenceId(input.evidenceId)) throw new DomainError('EVIDENCE_INVALID_ID', `evidence id ${JSON.stringify(input.evidenceId)} is not ev_ + 32 hex`);
  // The blob store already refused a mismatch; checking again here keeps the record honest even if
  // a caller skipped the store's check.
  for (const alg of ['sha256', 'sm3'] as const) {
    const declared = metadata[alg];
    if (declared !== undefined && declared !== file[alg]) {
      throw new DomainError('EVIDENCE_DIGEST_MISMATCH', `declared ${alg} ${declared} is not the file's ${file[alg]}`, { path: [alg], algorithm: alg, expected: declared, calculated: file[alg] });
    }
  }
  const record: EvidenceDepositRecord = {
    type: DEPOSIT_RECORD_TYPE,
    evidenceId: input.evidenceId,
    metadata: claimOf(metadata),
    file: { sha256: file.sha256, sm3: file.sm3, size: file.size },
    collector: toActorRef(input.collector),
  };
  if (metadata.signature !== undefined) {
    if (input.signerAddress === undefined) throw new DomainError('EVIDENCE_SIGNATURE_UNVERIFIED', 'a signed deposit needs the collector address its signature was verified against');
    record.collectorSignature = { address: input.signerAddress.toLowerCase(), digest: claimDigest(metadata), signature: metadata.signature };
  } else if (input.signerAddress !== undefined) {
    throw new DomainError('EVIDENCE_SIGNATURE_UNVERIFIED', 'signerAddress given but the metadata carries no signature');
  }
  if (input.capture !== undefined) record.capture = { captureId: input.capture.captureId, attempt: input.capture.attempt, manifest: { ...input.capture.manifest } };
  return EvidenceDepositRecordSchema.parse(record);
}

/** A custody event posted by a client (collector or court). */
export function buildCustodyRecord(evidenceId: string, input: CustodyEventInput, actor: Actor): EvidenceCustodyRecord {
  const parsed = parseCustodyEventInput(input);
  const record: EvidenceCustodyRecord = { type: CUSTODY_RECORD_TYPE, evidenceId, event: parsed.event, reason: parsed.reason, by: toActorRef(actor) };
  if (parsed.note !== undefined) record.note = parsed.note;
  return EvidenceCustodyRecordSchema.parse(record);
}

/** The node-written `accessed` event for one content read by `reader`. */
export function buildAccessRecord(evidenceId: string, reader: Actor, reason = 'evidence content read'): EvidenceCustodyRecord {
  return EvidenceCustodyRecordSchema.parse({ type: CUSTODY_RECORD_TYPE, evidenceId, event: 'accessed', reason, by: toActorRef(reader) });
}

/** The `erased` event an admin's erasure leaves behind. */
export function buildErasureRecord(evidenceId: string, reason: string, admin: Actor, note?: string): EvidenceCustodyRecord {
  const record: Record<string, unknown> = { type: CUSTODY_RECORD_TYPE, evidenceId, event: 'erased', reason, by: toActorRef(admin) };
  if (note !== undefined) record.note = note;
  return EvidenceCustodyRecordSchema.parse(record);
}

