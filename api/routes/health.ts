/** Liveness, readiness and metrics. */
import { Router } from 'express';
import type { Ledger } from '../../node';
import type { ApiMetrics } from '../metrics';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

/** The operational routes outside /v1 (no key), and the document itself. */
export function registerHealthOpenApi(r: OpenAPIRegistry): void {
  r.registerPath({ method: 'get', path: '/healthz', summary: 'Liveness: the process answers', responses: { 200: { description: 'alive' } } });
  r.registerPath({ method: 'get', path: '/readyz', summary: 'Readiness: the anchorer is not halted and nothing is unanchored past the maximum merge delay', responses: { 200: { description: 'ready' }, 503: { description: 'not ready, with the reason' } } });
  r.registerPath({ method: 'get', path: '/metrics', summary: 'Prometheus metrics (text exposition format)', responses: { 200: { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } } } });
  r.registerPath({ method: 'get', path: '/v1/openapi.json', summary: 'This OpenAPI 3.1 document', responses: { 200: { description: 'the document', content: { 'application/json': { schema: { type: 'object' } } } } } });
}

export function healthRouter(ledger: Ledger, metrics: ApiMetrics): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  /** Ready = the anchorer keeps its promise: no entry older than the maximum merge delay is unanchored. */
  r.get('/readyz', (_req, res) => {
    const s = ledger.anchorer.status();
    const reasons: string[] = [];
    if (ledger.anchorer.fatalError) reasons.push(`anchorer halted: ${ledger.anchorer.fatalError.message}`);
    if (s.mmdExceeded) reasons.push(`entry accepted at ${s.oldestUnanchoredAt} is still unanchored after the maximum merge delay of ${ledger.config.mmdMs} ms`);
    const body = {
      status: reasons.length === 0 ? 'ready' : 'not-ready',
      reasons,
      treeSize: s.treeSize,
      anchoredTreeSize: s.anchored?.treeSize ?? 0,
      checkpointLag: s.treeSize - (s.anchored?.treeSize ?? 0),
      oldestUnanchoredAt: s.oldestUnanchoredAt,
      chainReachable: s.chainReachable,
      lastError: s.lastError,
    };
    res.status(reasons.length === 0 ? 200 : 503).json(body);
  });
  r.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return r;
}
