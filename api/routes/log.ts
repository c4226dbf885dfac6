/** Public log routes (docs/architecture.md "HTTP conventions", issue 3): entries carry no personal or commercial data. */
import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z, problemResponses } from '../openapi';
import { AnchoredCheckpoint, Hex32 } from '../schemas';
import { parseOr422 } from '../validate';
import { HttpProblem } from '../problem';
import { CHECKPOINT_TYPE, type Ledger } from '../../node';

export const MAX_ENTRIES_PAGE = 1000;

const count = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const LogInfo = z
  .object({
    logId: Hex32,
    chainId: z.string(),
    registry: z.string(),
    operator: z.string(),
    treeSize: z.number().int(),
    rootHash: Hex32,
    anchored: AnchoredCheckpoint.nullable(),
  })
  .openapi('LogInfo');
const OperatorProfileResponse = z
  .object({
    digest: Hex32.openapi({ description: 'SHA-256(JCS(profile)): what bundles name it by' }),
    profile: z
      .object({
        type: z.literal('tianfu.operator-profile/v1'),
        logId: Hex32,
        operator: z.string(),
        declared: z.record(z.string(), z.unknown()).nullable(),
        technical: z.record(z.string(), z.unknown()),
        signedAt: z.string(),
        signature: z.string().openapi({ description: 'EIP-191 by the operator over JCS(profile without signature)' }),
      })
      .openapi('OperatorProfile'),
  })
  .openapi('OperatorProfileResponse');
const EntriesQuery = z.strictObject({ start: count, end: count.optional() });
const InclusionQuery = z.strictObject({ index: count, treeSize: count.optional() });
const ConsistencyQuery = z.strictObject({ from: count, to: count.optional() });
const CheckpointsQuery = z.strictObject({ fromSize: count.optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });

export function registerLogOpenApi(r: OpenAPIRegistry): void {
  r.registerPath({ method: 'get', path: '/v1/log', summary: 'Log head and latest anchored checkpoint', responses: { 200: { description: 'log', content: { 'application/json': { schema: LogInfo } } } } });
  r.registerPath({
    method: 'get',
    path: '/v1/log/entries',
    summary: `Entries [start, end), at most ${MAX_ENTRIES_PAGE} per page`,
    request: { query: EntriesQuery },
    responses: { 200: { description: 'entries', content: { 'application/json': { schema: z.object({ entries: z.array(z.object({ index: z.number(), entry: z.record(z.string(), z.unknown()), leafHash: Hex32 })) }) } } }, ...problemResponses(400) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/log/proof/inclusion',
    summary: 'RFC 9162 inclusion proof',
    request: { query: InclusionQuery },
    responses: { 200: { description: 'proof', content: { 'application/json': { schema: z.object({ leafIndex: z.number(), treeSize: z.number(), rootHash: Hex32, proof: z.array(Hex32) }) } } }, ...problemResponses(400) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/log/proof/consistency',
    summary: 'RFC 9162 consistency proof',
    request: { query: ConsistencyQuery },
    responses: { 200: { description: 'proof', content: { 'application/json': { schema: z.object({ from: z.number(), to: z.number(), proof: z.array(Hex32) }) } } }, ...problemResponses(400) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/log/checkpoints/{treeSize}/timestamps',
    summary: 'The signed checkpoint of an anchored tree size and the RFC 3161 tokens held for it (TIANFU_TSA_URLS)',
    // A path parameter is required (OpenAPI 3.1 §4.8.12.1); `count` coerces, which the generator renders as optional.
    request: { params: z.object({ treeSize: z.string().regex(/^\d+$/).openapi({ description: 'an anchored tree size' }) }) },
    responses: { 200: { description: '{treeSize, checkpoint, timestamps}' }, ...problemResponses(404, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/operator',
    summary: "The operator's disclosures (tianfu.operator-profile/v1): what it declares (TIANFU_OPERATOR_PROFILE) and the technical profile generated from its configuration, signed by the log operator key",
    responses: { 200: { description: '{digest, profile}: profile.declared is null when the node declares nothing', content: { 'application/json': { schema: OperatorProfileResponse } } } },
  });
  r.registerPath({ method: 'get', path: '/v1/log/checkpoints', summary: 'Anchored checkpoints with their transactions', request: { query: CheckpointsQuery }, responses: { 200: { description: 'checkpoints' } } });
}

export function logRouter(ledger: Ledger): Router {
  const r = Router();
  const { log } = ledger;

  r.get('/operator', (_req, res) => {
    res.json(ledger.operatorProfile);
  });

  r.get('/log', async (_req, res) => {
    const a = ledger.anchorer.status().anchored;
    res.json({
      logId: ledger.logId,
      chainId: ledger.chain.chainId.toString(),
      registry: ledger.chain.registry,
      operator: ledger.operator.address.toLowerCase(),
      treeSize: log.size,
      rootHash: log.rootHash,
      anchored: a ? { treeSize: a.treeSize, rootHash: a.rootHash, txHash: a.txHash, blockNumber: a.blockNumber, timestamp: a.timestamp } : null,
    });
  });

  r.get('/log/entries', async (req, res) => {
    const q = parseOr422(EntriesQuery, req.query, 'query');
    const size = log.size;
    if (q.start > size) throw new HttpProblem('OUT_OF_RANGE', `start ${q.start} is beyond the tree size ${size}`);
    const end = Math.min(q.end ?? size, size, q.start + MAX_ENTRIES_PAGE);
    if (end < q.start) throw new HttpProblem('OUT_OF_RANGE', `end ${q.end} is before start ${q.start}`);
    const rows = await log.entries(q.start, end);
    const dec = new TextDecoder();
    res.json({ entries: rows.map((e) => ({ index: e.index, entry: JSON.parse(dec.decode(e.bytes)), leafHash: e.leafHash })) });
  });

  r.get('/log/proof/inclusion', async (req, res) => {
    const q = parseOr422(InclusionQuery, req.query, 'query');
    const treeSize = q.treeSize ?? log.size;
    if (treeSize > log.size) throw new HttpProblem('OUT_OF_RANGE', `treeSize ${treeSize} is beyond the tree size ${log.size}`);
    if (q.index >= treeSize) throw new HttpProblem('OUT_OF_RANGE', `index ${q.index} is not below treeSize ${treeSize}`);
    res.json(await log.inclusionProof(q.index, treeSize));
  });

  r.get('/log/proof/consistency', async (req, res) => {
    const q = parseOr422(ConsistencyQuery, req.query, 'query');
    const to = q.to ?? log.size;
    if (to > log.size) throw new HttpProblem('OUT_OF_RANGE', `to ${to} is beyond the tree size ${log.size}`);
    if (q.from > to) throw new HttpProblem('OUT_OF_RANGE', `from ${q.from} is larger than to ${to}`);
    res.json({ from: q.from, to, proof: q.from === 0 ? [] : await log.consistencyProof(q.from, to) });
  });

  r.get('/log/checkpoints', async (req, res) => {
    const q = parseOr422(CheckpointsQuery, req.query, 'query');
    const cps = await ledger.anchorer.checkpoints({ fromSize: q.fromSize ?? 0, limit: q.limit ?? 1000 });
    res.json({ chainId: ledger.chain.chainId.toString(), registry: ledger.chain.registry, logId: ledger.logId, checkpoints: cps });
  });

  r.get('/log/checkpoints/:treeSize/timestamps', async (req, res) => {
    const { treeSize } = parseOr422(z.strictObject({ treeSize: count }), req.params, 'params');
    const cp = await ledger.anchorer.checkpointCovering(treeSize);
    if (!cp || cp.treeSize !== treeSize) throw new HttpProblem('CHECKPOINT_NOT_FOUND', `no anchored checkpoint of tree size ${treeSize}`);
    const timestamps = ledger.timestamper ? await ledger.timestamper.tokensFor(treeSize) : [];
    res.json({ treeSize, checkpoint: { type: CHECKPOINT_TYPE, logId: ledger.logId, treeSize, rootHash: cp.rootHash, signature: cp.signature }, timestamps, tsaConfigured: ledger.timestamper !== null });
  });

  return r;
}
