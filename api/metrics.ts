/** Prometheus metrics (issue 3): entries, checkpoint lag, anchoring latency, RPC errors, HTTP. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestHandler } from 'express';
import type { Ledger } from '../node';

export interface ApiMetrics {
  registry: Registry;
  httpMiddleware: RequestHandler;
}

/** A counter that mirrors a monotonic value kept elsewhere. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v > last) this.inc(v - last);
      last = Math.max(last, v);
    },
  });
}

export function createMetrics(ledger: Ledger): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tianfu_' });
  const a = ledger.anchorer;
  new Gauge({ name: 'tianfu_log_entries', help: 'Entries in the log (tree size)', registers: [registry], collect() { this.set(ledger.log.size); } });
  new Gauge({ name: 'tianfu_anchored_tree_size', help: 'Tree size of the latest anchored checkpoint', registers: [registry], collect() { this.set(a.status().anchored?.treeSize ?? 0); } });
  new Gauge({
    name: 'tianfu_checkpoint_lag_entries',
    help: 'Entries appended but not yet covered by an anchored checkpoint',
    registers: [registry],
    collect() { this.set(ledger.log.size - (a.status().anchored?.treeSize ?? 0)); },
  });
  new Gauge({
    name: 'tianfu_oldest_unanchored_age_seconds',
    help: 'Age of the oldest entry not yet anchored (0 when all are anchored)',
    registers: [registry],
    collect() {
      const at = a.status().oldestUnanchoredAt;
      this.set(at ? Math.max(0, (Date.now() - Date.parse(at)) / 1000) : 0);
    },
  });
  new Gauge({ name: 'tianfu_mmd_exceeded', help: '1 when an entry is older than the maximum merge delay and still unanchored', registers: [registry], collect() { this.set(a.status().mmdExceeded ? 1 : 0); } });
  new Gauge({ name: 'tianfu_chain_reachable', help: '1 when the last chain call succeeded', registers: [registry], collect() { this.set(a.status().chainReachable ? 1 : 0); } });
  mirroredCounter(registry, 'tianfu_rpc_errors_total', 'Chain JSON-RPC errors seen by the anchorer', () => a.metrics.rpcErrors);
  mirroredCounter(registry, 'tianfu_reorgs_total', 'Anchored checkpoints dropped by a chain reorganisation', () => a.metrics.reorgs);
  mirroredCounter(registry, 'tianfu_anchors_sent_total', 'Anchor transactions broadcast', () => a.metrics.anchorsSent);
  mirroredCounter(registry, 'tianfu_anchors_confirmed_total', 'Checkpoints confirmed on chain', () => a.metrics.anchorsConfirmed);
  mirroredCounter(registry, 'tianfu_anchor_gas_used_total', 'Gas used by confirmed anchor transactions', () => Number(a.metrics.totalGasUsed));
  mirroredCounter(registry, 'tianfu_records_accepted_total', 'Records accepted by the sequencer', () => ledger.sequencer.stats.accepted);
  mirroredCounter(registry, 'tianfu_records_refused_total', 'Submissions refused by domain rules', () => ledger.sequencer.stats.refused);
  mirroredCounter(registry, 'tianfu_group_commits_total', 'Durable group commits', () => ledger.sequencer.stats.groups);

  const anchorLatency = new Histogram({
    name: 'tianfu_anchor_latency_seconds',
    help: 'From the acceptance of the oldest entry in a checkpoint to that checkpoint being confirmed on chain',
    buckets: [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300],
    registers: [registry],
  });
  const prev = a.onAnchored;
  a.onAnchored = (rec, previousSize, latencyMs) => {
    prev?.(rec, previousSize, latencyMs);
    if (latencyMs !== null) anchorLatency.observe(latencyMs / 1000);
  };

  const httpDuration = new Histogram({
    name: 'tianfu_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const httpMiddleware: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
  return { registry, httpMiddleware };
}
