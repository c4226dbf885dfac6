/** Liveness, readiness and metrics. */
import { Router } from 'express';
import type { Ledger } from '../../node';
import type { ApiMetrics } from '../metrics';

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
