/**
 * Intake workers: the strict JSON reader, validateInvoice and the record digest of invoice requests
 * (node/invoice/intake.ts) on worker threads, so that the request thread — which also runs the
 * sequencer, the one writer that orders every append — only orders, applies the lifecycle rules and
 * writes. Measured per invoice of a batch on the request thread (docs/BENCH.md): reader, validation and
 * digest were ~55–65 µs of ~165.
 *
 * Jobs carry the body's bytes (copied) and come back as data; workers are long-lived, ref'd only
 * while a job is pending. A worker that dies (or fails a job) rejects what it had pending; the caller
 * then runs the same intake inline (`run` never rejects for that reason), so a request is never lost
 * to a worker and never applied twice: intake has no side effects, nothing reaches the sequencer
 * before it returns. The dead worker is replaced on the next job. Workers start with the first job;
 * until one has loaded its modules (~0.5–2 s), jobs run inline.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { intakeInvoices, type IntakeRequest, type IntakeResult } from './intake';
import type { InvoiceRuleOptions, InvoiceRules } from './lifecycle';

// Plain JS evaluated in the worker; it loads the TypeScript intake module through tsx's require hook
// (a dependency of the node), resolved by the parent, so the worker does not depend on the cwd.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.tsx).register();
const { intakeInvoices, intakeRules } = require(workerData.intake);
const rules = intakeRules(workerData.options);
parentPort.on('message', (m) => {
  try {
    parentPort.postMessage({ id: m.id, result: intakeInvoices(rules, m.req) });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.stack) || err) });
  }
});
parentPort.postMessage({ ready: true });
`;

/** Worker count from TIANFU_INTAKE_WORKERS (default 1; 0 = intake on the request thread). */
export function intakeWorkersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TIANFU_INTAKE_WORKERS;
  if (raw === undefined || raw.trim() === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new RangeError(`TIANFU_INTAKE_WORKERS must be an integer 0..64, got ${JSON.stringify(raw)}`);
  return n;
}

interface Job {
  resolve: (r: IntakeResult) => void;
  reject: (err: Error) => void;
}

class IntakeWorker {
  readonly worker: Worker;
  readonly jobs = new Map<number, Job>();
  ready = false;
  dead = false;

  constructor(options: InvoiceRuleOptions) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { tsx: require.resolve('tsx/cjs/api'), intake: path.join(__dirname, 'intake.ts'), options },
    });
    this.worker.unref();
    this.worker.on('message', (m: { ready?: boolean; id?: number; result?: IntakeResult; error?: string }) => {
      if (m.ready) {
        this.ready = true;
        return;
      }
      const job = this.jobs.get(m.id!);
      if (!job) return;
      this.jobs.delete(m.id!);
      if (this.jobs.size === 0) this.worker.unref();
      if (m.error !== undefined) job.reject(new Error(`intake worker: ${m.error}`));
      else job.resolve(m.result!);
    });
    const fail = (err: Error): void => {
      this.dead = true;
      for (const job of this.jobs.values()) job.reject(err);
      this.jobs.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`intake worker exited with code ${code}`)));
  }

  post(id: number, req: IntakeRequest): Promise<IntakeResult> {
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      this.worker.ref();
      // The body goes over as an exact-size copy, transferred: a request body is usually a view on
      // a shared 8 KiB pool buffer, and cloning a view clones its whole backing buffer (measured 5-12
      // µs a post against ~2 for 1.5 KB of its own). The caller keeps the original for the fallback.
      const bytes = new Uint8Array(req.bytes);
      this.worker.postMessage({ id, req: { ...req, bytes } }, [bytes.buffer]);
    });
  }
}

export class IntakePool {
  private readonly workers: IntakeWorker[] = [];
  private nextId = 1;
  private closed = false;
  /** Counters for tests and /metrics: jobs done on a worker, inline (no worker ready), and re-run inline after a worker failed. */
  readonly stats = { pooled: 0, inline: 0, fallbacks: 0 };

  constructor(
    private readonly rules: InvoiceRules,
    readonly size: number,
  ) {}

  /** Workers start with the first job (a node that takes no JSON invoice requests never loads them). */
  private start(): void {
    if (this.workers.length === 0 && !this.closed) for (let i = 0; i < this.size; i++) this.workers.push(new IntakeWorker(this.rules.options));
  }

  /** Whether every worker has loaded its modules (tests wait for it to be sure jobs go to a worker). */
  get ready(): boolean {
    return this.workers.length > 0 && this.workers.every((w) => w.ready && !w.dead);
  }

  /** Jobs pending on the workers. */
  get pending(): number {
    return this.workers.reduce((n, w) => n + w.jobs.size, 0);
  }

  /** Reads and checks one invoice request body; on a worker when one is ready, else here. Never rejects because of a worker. */
  async run(req: IntakeRequest): Promise<IntakeResult> {
    const w = this.pick();
    if (!w) {
      this.stats.inline++;
      return intakeInvoices(this.rules, req);
    }
    try {
      const r = await w.post(this.nextId++, req);
      this.stats.pooled++;
      return r;
    } catch {
      // The worker died with this job (it is replaced on the next one): the same function, here.
      this.stats.fallbacks++;
      return intakeInvoices(this.rules, req);
    }
  }

  /** The ready worker with the fewest jobs; dead ones are replaced (ready for later jobs). */
  private pick(): IntakeWorker | null {
    if (this.closed) return null;
    this.start();
    let best: IntakeWorker | null = null;
    for (let i = 0; i < this.workers.length; i++) {
      if (this.workers[i]!.dead) this.workers[i] = new IntakeWorker(this.rules.options);
      const w = this.workers[i]!;
      if (w.ready && (!best || w.jobs.size < best.jobs.size)) best = w;
    }
    return best;
  }

  /** Waits until every worker is ready (or `timeoutMs` passed). */
  async whenReady(timeoutMs = 30_000): Promise<boolean> {
    this.start();
    const deadline = Date.now() + timeoutMs;
    while (!this.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.ready;
  }

  /** For tests: kills worker `i` as a crash would (its pending jobs fail over to inline). */
  async crashWorker(i = 0): Promise<number> {
    return this.workers[i]!.worker.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

export function createIntakePool(rules: InvoiceRules, workers: number): IntakePool | null {
  return workers > 0 ? new IntakePool(rules, workers) : null;
}
