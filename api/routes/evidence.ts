/**
 * Evidence routes (issue 5; docs/evidence.md). Thin HTTP layer over EvidenceService
 * (node/evidence/service.ts); the decisions are in docs/evidence.md ("HTTP routes").
 *
 *   PUT    /v1/evidence/signer              collector: register the address its deposit signatures use
 *   GET    /v1/evidence/signer              collector: the registered address
 *   POST   /v1/evidence                     collector: multipart/form-data, `metadata` (JSON) then `file`
 *   POST   /v1/evidence/{id}/custody        collector, court: {event, reason, note?}
 *   GET    /v1/evidence/{id}/content        court; the depositing collector (sealed: court only)
 *   GET    /v1/evidence/{id}                depositing collector, court, auditor, admin
 *   GET    /v1/evidence/{id}/bundle         depositing collector, court, auditor, admin
 *   DELETE /v1/evidence/{id}/content        admin: {reason, note?}
 *
 * The deposit is streamed with busboy straight into the blob store: the JSON body parser only handles
 * application/json, so it never touches multipart bodies, and no part of the file is buffered whole.
 */
import { Router, type Request } from 'express';
import { pipeline } from 'node:stream/promises';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z, problemResponses } from '../openapi';
import { Address, AnchoredCheckpoint, Bundle, Hex32, Receipt, Signature65 } from '../schemas';
import { parseOr422 } from '../validate';
import { requireActor, requireRole } from '../auth';
import { HttpProblem } from '../problem';
import { toProblem } from './invoices';
import { receiveDeposit } from './evidence-multipart';
import { contentDisposition, etagOf, rangeResolver, sfDigest } from './evidence-range';

export { parseByteRange } from './evidence-range';
import {
  CustodyEventInputSchema,
  DomainError,
  EvidenceIdSchema,
  EvidenceMetadataSchema,
  FileDigestsSchema,
  ActorRefSchema,
  signerRegistrationMessage,
  Sha256Schema,
  Sm3Schema,
  type Actor,
  type Hex,
  type Ledger,
} from '../../node';

const DepositResponse = z
  .object({ evidenceId: EvidenceIdSchema, index: z.number().int(), at: z.string(), receipt: Receipt, sha256: Sha256Schema, sm3: Sm3Schema, size: z.number().int() })
  .openapi('EvidenceDeposited');
const CustodyResponse = z.object({ evidenceId: EvidenceIdSchema, event: z.string(), index: z.number().int(), at: z.string(), receipt: Receipt }).openapi('EvidenceCustodyAccepted');
const Anchored = AnchoredCheckpoint.nullable();
const EvidenceView = z
  .object({
    evidenceId: EvidenceIdSchema,
    status: z.enum(['active', 'sealed', 'withdrawn', 'erased']),
    sealed: z.boolean(),
    withdrawn: z.boolean(),
    erased: z.boolean(),
    collector: ActorRefSchema,
    deposit: z.object({ index: z.number().int(), at: z.string(), receipt: Receipt, anchored: Anchored }),
    metadata: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'the deposited metadata (EvidenceClaim); null once erased' }),
    file: FileDigestsSchema.nullable(),
    collectorSignature: z.object({ address: z.string(), digest: Hex32, signature: z.string() }).nullable(),
    custody: z.array(
      z.object({ index: z.number().int(), at: z.string(), event: z.string(), by: ActorRefSchema.nullable(), reason: z.string().nullable(), note: z.string().optional(), anchored: Anchored }),
    ),
  })
  .openapi('EvidenceView');
// Same reason/note rules as a custody event (the erasure is one).
const ErasureBody = CustodyEventInputSchema.omit({ event: true }).openapi('EvidenceErasure');
const ErasureResponse = z
  .object({ evidenceId: EvidenceIdSchema, index: z.number().int(), at: z.string(), receipt: Receipt, contentErased: z.boolean(), sharedWith: z.number().int() })
  .openapi('EvidenceErased');
const SignerBody = z
  .strictObject({
    address: Address,
    proof: Signature65.openapi({ description: 'personal_sign by `address` of "tianfu.evidence.signer/v1\\nkey: <keyId>\\naddress: <address lowercase>"' }),
  })
  .openapi('EvidenceSignerRegistration');
const SignerResponse = z.object({ keyId: z.string(), address: z.string(), registeredAt: z.string(), message: z.string() }).openapi('EvidenceSigner');
const IdParams = z.object({ id: EvidenceIdSchema });

export function registerEvidenceOpenApi(r: OpenAPIRegistry): void {
  const security = [{ bearer: [] }];
  r.registerPath({
    method: 'put',
    path: '/v1/evidence/signer',
    summary: 'Register the address whose EIP-191 signatures this collector key puts on deposits (collector)',
    security,
    request: { body: { content: { 'application/json': { schema: SignerBody } } } },
    responses: { 200: { description: 'registered', content: { 'application/json': { schema: SignerResponse } } }, ...problemResponses(401, 403, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/evidence/signer',
    summary: "This collector key's registered signing address (collector)",
    security,
    responses: { 200: { description: 'registered', content: { 'application/json': { schema: SignerResponse } } }, ...problemResponses(401, 403, 404) },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/evidence',
    summary: 'Deposit evidence (collector): multipart/form-data, `metadata` (JSON) part first, then `file`',
    description:
      'The file is streamed into the content store while SHA-256 and SM3 are computed; it is durable before the deposit record is appended. ' +
      'If metadata carries sha256/sm3, a mismatch is refused (422) and nothing is kept. Larger than TIANFU_MAX_EVIDENCE_BYTES: 413. ' +
      'A `signature` in metadata must be EIP-191 over claimDigest = SHA256(JCS(metadata without signature)) by the address registered with PUT /v1/evidence/signer.',
    security,
    request: {
      body: {
        content: {
          'multipart/form-data': {
            schema: z.object({ metadata: EvidenceMetadataSchema, file: z.string().openapi({ format: 'binary', description: 'the evidence file' }) }),
            encoding: { metadata: { contentType: 'application/json' } },
          },
        },
      },
    },
    responses: { 201: { description: 'deposited', content: { 'application/json': { schema: DepositResponse } } }, ...problemResponses(400, 401, 403, 413, 415, 422) },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/evidence/{id}/custody',
    summary: 'Add a custody event (collector, court): transferred, sealed, exported, annotated, withdrawn',
    security,
    request: { params: IdParams, body: { content: { 'application/json': { schema: CustodyEventInputSchema } } } },
    responses: { 201: { description: 'appended', content: { 'application/json': { schema: CustodyResponse } } }, ...problemResponses(401, 403, 404, 409, 410, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/evidence/{id}/content',
    summary: 'Read the evidence file (court; the depositing collector unless sealed). Appends an `accessed` custody event before streaming.',
    description:
      'Headers: Repr-Digest and Content-Digest (RFC 9530, sha-256), X-Tianfu-SHA256, X-Tianfu-SM3, X-Tianfu-Access-Index (log index of the accessed event). ' +
      'A read that fails halfway still leaves its one accessed event: the log records that content was released. ' +
      'One byte range (Range: bytes=a-b, a-, -n; If-Range with the ETag) is served as 206 with Content-Range, and its accessed event names the bytes; ' +
      'a range outside the file is 416 and nothing is logged; several ranges or a malformed one get the whole file.',
    security,
    request: { params: IdParams },
    responses: {
      200: { description: 'the file', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
      206: { description: 'the requested bytes of the file', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
      ...problemResponses(401, 403, 404, 410, 416),
    },
  });
  r.registerPath({
    method: 'head',
    path: '/v1/evidence/{id}/content',
    summary: 'The headers a content read would send (size, digests, ETag), after the same permission check; no bytes and no accessed event',
    security,
    request: { params: IdParams },
    responses: { 200: { description: 'headers only' }, ...problemResponses(401, 403, 404, 410) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/evidence/{id}',
    summary: 'Metadata, digests and custody history with anchoring state (depositing collector, court, auditor, admin)',
    security,
    request: { params: IdParams },
    responses: { 200: { description: 'evidence', content: { 'application/json': { schema: EvidenceView } } }, ...problemResponses(401, 403, 404) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/evidence/{id}/bundle',
    summary: 'tianfu.bundle/v1 of kind evidence: the deposit and every custody event with inclusion proofs and anchor',
    description: 'After erasure the deposit item has record and salt null, `file` is null, and the header X-Tianfu-Evidence-Status is `erased`.',
    security,
    request: { params: IdParams },
    responses: { 200: { description: 'bundle', content: { 'application/json': { schema: Bundle } } }, ...problemResponses(401, 403, 404) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/evidence/{id}/status-proof',
    summary: 'tianfu.status-proof/v1: the evidence\'s state leaf (sealed, withdrawn, erased, custody events) as of the newest anchored state root, with its proofs (docs/status-proofs.md); for an id never deposited, a court, auditor or admin gets the proof of its absence (leaf null)',
    security,
    request: { params: IdParams },
    responses: { 200: { description: 'status proof' }, ...problemResponses(401, 403, 404, 409) },
  });
  r.registerPath({
    method: 'delete',
    path: '/v1/evidence/{id}/content',
    summary: 'Erase the file and its deposit record and salt (admin; crypto-shredding); leaves an `erased` custody event',
    security,
    request: { params: IdParams, body: { content: { 'application/json': { schema: ErasureBody } } } },
    responses: { 200: { description: 'erased', content: { 'application/json': { schema: ErasureResponse } } }, ...problemResponses(401, 403, 404, 410, 422) },
  });
}

export function evidenceRouter(ledger: Ledger): Router {
  const r = Router();
  const service = ledger.evidence;
  // Finish any erasure a crash interrupted; errors surface on the first request that awaits it.
  service.ready().catch(() => undefined);

  // A malformed id is simply an id that was never deposited: 404 from the service.
  const idOf = (req: Request): string => String(req.params.id);

  r.put('/evidence/signer', requireRole('collector'), async (req, res) => {
    const body = parseOr422(SignerBody, req.body);
    const actor = requireActor(res);
    const s = await service.registerSigner(actor, body.address, body.proof);
    res.json({ keyId: s.keyId, address: s.address, registeredAt: s.registeredAt, message: signerRegistrationMessage(s.keyId, s.address) });
  });
  r.get('/evidence/signer', requireRole('collector'), async (_req, res) => {
    const actor = requireActor(res);
    const s = await service.signerOf(actor.keyId);
    if (!s) throw new HttpProblem('EVIDENCE_SIGNER_NOT_FOUND', `collector key ${actor.keyId} has no registered signing address`);
    res.json({ keyId: s.keyId, address: s.address, registeredAt: s.registeredAt, message: signerRegistrationMessage(s.keyId, s.address) });
  });

  r.post('/evidence', requireRole('collector'), async (req, res) => {
    const actor: Actor = requireActor(res);
    if (!/^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '')) {
      res.setHeader('Connection', 'close');
      throw new HttpProblem('UNSUPPORTED_MEDIA_TYPE', 'a deposit is multipart/form-data with a `metadata` part (JSON) and then a `file` part, e.g. curl -F metadata=@meta.json -F file=@page.mhtml');
    }
    // Field paths of refusals are under ['metadata'], like the body reader's.
    const result = await receiveDeposit(req, res, (metadata, file, bodyComplete) => service.deposit(actor, metadata, file, { bodyComplete })).catch((e: unknown) => Promise.reject(toProblem(e, ['metadata'])));
    res.status(201).location(`/v1/evidence/${result.evidenceId}`).json(result);
  });

  r.post('/evidence/:id/custody', requireRole('collector', 'court'), async (req, res) => {
    const id = idOf(req);
    const result = await service.addCustody(requireActor(res), id, req.body).catch((e: unknown) => Promise.reject(toProblem(e, ['body'])));
    res.status(201).json(result);
  });

  // HEAD would otherwise run the GET handler and log a read of bytes that are never sent: it gets the
  // headers a read would (size, digests, validator), after the same permission check, and no event.
  r.head('/evidence/:id/content', requireRole('court', 'collector'), async (req, res) => {
    const d = await service.describeContent(requireActor(res), idOf(req));
    res
      .status(200)
      .set({
        'Content-Type': d.mediaType,
        'Content-Length': String(d.file.size),
        'Accept-Ranges': 'bytes',
        ETag: etagOf(d.file.sha256 as Hex),
        'Content-Disposition': contentDisposition(d.fileName),
        'Repr-Digest': sfDigest(d.file.sha256),
        'X-Tianfu-SHA256': d.file.sha256,
        'X-Tianfu-SM3': d.file.sm3,
        'X-Tianfu-Evidence-Id': idOf(req),
        'Cache-Control': 'no-store',
        'Content-Security-Policy': 'sandbox',
      })
      .end();
  });

  r.get('/evidence/:id/content', requireRole('court', 'collector'), async (req, res) => {
    const id = idOf(req);
    // One byte range (RFC 9110 §14), e.g. a video player seeking: decided before anything is logged.
    const resolveRange = rangeResolver(req, res);
    const opened = await service.openContent(requireActor(res), id, resolveRange);
    const { range } = opened;
    res.status(range ? 206 : 200).set({
      'Content-Type': opened.mediaType,
      'Content-Length': String(range ? range.end - range.start + 1 : opened.file.size),
      ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${opened.file.size}` } : {}),
      'Accept-Ranges': 'bytes',
      // The content is addressed by its SHA-256: the strongest validator there is.
      ETag: etagOf(opened.file.sha256 as Hex),
      'Content-Disposition': contentDisposition(opened.fileName),
      // Repr-Digest is the whole file's (RFC 9530 §3). Content-Digest is of the bytes in this message:
      // the same for a whole read (no content coding), unknown in advance for a part, so not sent then.
      'Repr-Digest': sfDigest(opened.file.sha256),
      ...(range ? {} : { 'Content-Digest': sfDigest(opened.file.sha256) }),
      'X-Tianfu-SHA256': opened.file.sha256,
      'X-Tianfu-SM3': opened.file.sm3,
      'X-Tianfu-Evidence-Id': id,
      'X-Tianfu-Access-Index': String(opened.accessed.index),
      'Cache-Control': 'no-store',
      // The file is the collector's bytes (possibly HTML): never let a browser run it on this origin.
      'Content-Security-Policy': 'sandbox',
    });
    try {
      await pipeline(opened.stream, res);
    } catch {
      // The client went away or the disk failed mid-read: the accessed event stands (see docs/evidence.md).
      opened.stream.destroy();
      res.destroy();
    }
  });

  r.get('/evidence/:id', requireRole('collector', 'court', 'auditor', 'admin'), async (req, res) => {
    res.json(await service.get(requireActor(res), idOf(req)));
  });

  r.get('/evidence/:id/bundle', requireRole('collector', 'court', 'auditor', 'admin'), async (req, res) => {
    const { bundle, erased } = await service.bundle(requireActor(res), idOf(req));
    res.setHeader('X-Tianfu-Evidence-Status', erased ? 'erased' : 'present');
    res.setHeader('Cache-Control', 'no-store');
    res.json(bundle);
  });

  r.get('/evidence/:id/status-proof', requireRole('collector', 'court', 'auditor', 'admin'), async (req, res) => {
    const id = idOf(req);
    const actor = requireActor(res);
    await service.bundle(actor, id).catch((err: unknown) => {
      // The bundle's readers. An id never deposited: a court, auditor or admin gets the proof of its
      // absence ("no evidence with this id as of checkpoint N"); a collector, whose keys are scoped to its
      // own deposits, keeps the one 404 for "not yours" and "no such id".
      if (actor.role !== 'collector' && err instanceof DomainError && err.code === 'EVIDENCE_NOT_FOUND') return;
      throw err;
    });
    res.setHeader('Cache-Control', 'no-store');
    res.json(await ledger.statusProof('evidence', id));
  });

  r.delete('/evidence/:id/content', requireRole('admin'), async (req, res) => {
    const id = idOf(req);
    const body = parseOr422(ErasureBody, req.body ?? {});
    res.json(await service.erase(requireActor(res), id, body.reason, body.note));
  });

  return r;
}
