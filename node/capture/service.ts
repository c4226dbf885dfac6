/**
 * Capture jobs (docs/capture.md, "Jobs"): durable in LevelDB, run at most `concurrency` at once, the
 * queue bounded. A job's attempt that ends without a deposit is a log entry of its own
 * (`evidence.capture-failed`: the URL, the reason, a message, never page content); a job that was
 * running when the node stopped is logged as attempt n `interrupted` at the next start and re-run as
 * attempt n + 1. A successful attempt deposits the package as evidence (method `web-page`, the
 * collector who asked, the manifest's digests in the deposit record).
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { DomainError, type Actor } from '../domain/types';
import type { Database, BatchOp } from '../store/db';
import type { Sequencer } from '../sequencer';
import type { EvidenceService } from '../evidence/service';
import { CAPTURE_FAILED_KIND } from '../evidence/history';
import { CAPTURE_FAILED_RECORD_TYPE } from '../evidence/custody';
import type { ActorRef } from '../evidence/model';
import { WACZ_MEDIA_TYPE, type CaptureBlockRef } from '../protocol/capture-package';
import type { Hex } from '../protocol/bytes';
import { CaptureGuard, CaptureRefusal } from './guard';
import { capturePage, CaptureFailure, type CaptureOptions, type EngineSettings } from './engine';
import { buildPackage } from './package';
import { environmentRecord } from './environment';
import { CAPTURE_ID_RE } from '../evidence/history';
import { newCaptureId, resolveOptions, CaptureRequestSchema, type CaptureRequest, type CaptureStatus } from './model';

const JOB = '!cap!j'; // !cap!j<captureId> → CaptureJob
const SEQ = '!cap!seq';

export interface CaptureJob {
  captureId: string;
  seq: number;
  collector: ActorRef;
  request: { url: string; title?: string; caseRef?: string; options: CaptureOptions };
  status: 'queued' | 'running' | 'done' | 'failed';
  step: string;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  evidenceId?: string;
  package?: { sha256: Hex; sm3: Hex; size: number; manifestSha256: Hex };
  error?: { reason: string; message: string };
  failedEntries: number[];
}

export interface CaptureLedger {
  readonly db: Database;
  readonly sequencer: Sequencer;
  readonly evidence: EvidenceService;
  readonly config: {
    readonly capture: { allowHosts: string[]; concurrency: number; queueMax: number; maxBytes: number; maxRequests: number; maxHeight: number; caFile: string | undefined; chromiumPath: string };
  };
  /** The chain's latest block. */
  latestBlock(): Promise<CaptureBlockRef>;
}

export interface CaptureLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** A refusal of the page's own URL at submission: the API answers 422 CAPTURE_TARGET_FORBIDDEN. */
export class CaptureTargetForbidden extends Error {
  override readonly name = 'CaptureTargetForbidden';
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class CaptureQueueFull extends Error {
  override readonly name = 'CaptureQueueFull';
}

export class CaptureNotFound extends Error {
  override readonly name = 'CaptureNotFound';
}

export class CaptureService {
  private readonly queue: string[] = [];
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly jobs = new Map<string, CaptureJob>();
  private seq = 0;
  private stopping = false;
  private started: Promise<void> | null = null;
  readonly guard: CaptureGuard;
  /** Called after each attempt ends (tests, the bench). */
  onSettled?: (job: CaptureJob) => void;

  constructor(
    private readonly ledger: CaptureLedger,
    private readonly logger: CaptureLogger = { info: () => undefined, warn: () => undefined },
    guard?: CaptureGuard,
  ) {
    this.guard = guard ?? new CaptureGuard({ allowHosts: ledger.config.capture.allowHosts });
  }

  private get settings(): EngineSettings {
    const c = this.ledger.config.capture;
    const s: EngineSettings = { chromiumPath: c.chromiumPath, allowHosts: c.allowHosts, maxBytes: c.maxBytes, maxRequests: c.maxRequests, maxHeight: c.maxHeight, guard: this.guard };
    if (c.caFile) s.ca = [fs.readFileSync(c.caFile, 'utf8')];
    return s;
  }

  /**
   * Loads the jobs still to run (queued, or running when the node stopped: that attempt is logged as
   * interrupted and the job queued again). Settled jobs stay in the store and are read from it when
   * asked for: memory holds only the queued and running ones, however many captures the node has made.
   */
  start(): Promise<void> {
    this.started ??= this.load();
    return this.started;
  }

  private async load(): Promise<void> {
    this.seq = Number((await this.ledger.db.get(SEQ, { valueEncoding: 'utf8' })) ?? 0);
    const pending: CaptureJob[] = [];
    for await (const [, value] of this.ledger.db.iterator({ gte: JOB, lt: JOB + '\xff', valueEncoding: 'json' })) {
      const job = value as unknown as CaptureJob;
      if (job.status === 'queued' || job.status === 'running') {
        this.jobs.set(job.captureId, job);
        pending.push(job);
      }
    }
    pending.sort((a, b) => a.seq - b.seq);
    for (const job of pending) {
      if (job.status === 'running') {
        // Attempt n was cut short by a stop or a crash: it is logged as such, and the job runs again as attempt n + 1.
        await this.logFailure(job, 'interrupted', 'the node stopped while this attempt was running; the job was queued again at the next start');
        job.status = 'queued';
        job.step = 'queued';
        await this.save(job);
        this.logger.info({ captureId: job.captureId, attempt: job.attempts }, 'capture interrupted by a restart; queued again');
      }
      this.queue.push(job.captureId);
    }
    this.pump();
  }

  /** Stops taking work; aborts running captures (they stay `running` and are re-run at the next start). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const r of this.running.values()) r.abort.abort();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  private async save(job: CaptureJob): Promise<void> {
    job.updatedAt = new Date().toISOString();
    await this.ledger.db.batch<unknown, unknown>([{ type: 'put', key: JOB + job.captureId, value: job, valueEncoding: 'json' } as BatchOp], { sync: true });
  }

  private active(): number {
    return this.queue.length + this.running.size;
  }

  /** POST /v1/captures: validated, the page's URL checked, then durable before the 202. */
  async submit(actor: Actor, body: unknown): Promise<CaptureJob> {
    await this.start();
    if (actor.role !== 'collector') throw new DomainError('EVIDENCE_FORBIDDEN', `only a collector starts a capture (got ${actor.role})`, { role: actor.role });
    const parsed = CaptureRequestSchema.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? p : String(p))), message: i.message, code: 'VALIDATION' }));
      throw new DomainError('VALIDATION', problems[0]?.message ?? 'invalid capture request', { problems });
    }
    const req: CaptureRequest = parsed.data;
    if (this.active() >= this.ledger.config.capture.queueMax) throw new CaptureQueueFull(`${this.active()} captures are queued or running (TIANFU_CAPTURE_QUEUE_MAX ${this.ledger.config.capture.queueMax}); retry later`);
    const now = new Date().toISOString();
    const job: CaptureJob = {
      captureId: newCaptureId(),
      seq: ++this.seq,
      collector: { keyId: actor.keyId, role: 'collector', ...(actor.name !== undefined ? { name: actor.name } : {}) } as ActorRef,
      request: { url: req.url, ...(req.title !== undefined ? { title: req.title } : {}), ...(req.caseRef !== undefined ? { caseRef: req.caseRef } : {}), options: resolveOptions(req.options) },
      status: 'queued',
      step: 'queued',
      attempts: 0,
      createdAt: now,
      updatedAt: now,
      failedEntries: [],
    };
    // The page's own URL, before anything is fetched. A forbidden target is refused (and the attempt
    // logged); a name that does not resolve now is the attempt's failure, not the request's.
    try {
      await this.guard.check(req.url);
    } catch (err) {
      if (!(err instanceof CaptureRefusal)) throw err;
      if (err.forbidden) {
        job.attempts = 1;
        job.status = 'failed';
        job.error = { reason: 'target-forbidden', message: err.message };
        const index = await this.logFailure(job, 'target-forbidden', err.message);
        await this.save(job); // settled at once: read from the store when asked for
        throw new CaptureTargetForbidden(err.message, { captureId: job.captureId, index, reason: err.reason, ...err.details });
      }
    }
    await this.ledger.db.batch<unknown, unknown>(
      [
        { type: 'put', key: JOB + job.captureId, value: job, valueEncoding: 'json' } as BatchOp,
        { type: 'put', key: SEQ, value: String(this.seq), valueEncoding: 'utf8' } as BatchOp,
      ],
      { sync: true },
    );
    this.jobs.set(job.captureId, job);
    this.queue.push(job.captureId);
    this.pump();
    return job;
  }

  /** The job, for the collector who asked, a court or an auditor; anyone else: not found. */
  async view(actor: Actor, captureId: string): Promise<CaptureStatus> {
    const job = await this.job(captureId);
    if (!job || (actor.role === 'collector' && job.collector.keyId !== actor.keyId) || !['collector', 'court', 'auditor'].includes(actor.role)) {
      throw new CaptureNotFound(`no capture ${captureId}`);
    }
    return statusOf(job);
  }

  /** The job: in memory while queued or running, else as stored. */
  async job(captureId: string): Promise<CaptureJob | undefined> {
    const live = this.jobs.get(captureId);
    if (live) return live;
    if (!CAPTURE_ID_RE.test(captureId)) return undefined; // not a capture id: nothing to look up
    return (await this.ledger.db.get(JOB + captureId, { valueEncoding: 'json' })) as CaptureJob | undefined;
  }

  /** Jobs held in memory (queued and running). */
  get liveJobs(): number {
    return this.jobs.size;
  }

  private pump(): void {
    while (!this.stopping && this.running.size < this.ledger.config.capture.concurrency && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const job = this.jobs.get(id);
      if (!job) continue;
      const abort = new AbortController();
      const done = this.run(job, abort.signal)
        .catch((err: unknown) => this.logger.warn({ captureId: id, err: (err as Error).message }, 'capture job failed unexpectedly'))
        .finally(() => {
          this.running.delete(id);
          this.pump();
        });
      this.running.set(id, { abort, done });
    }
  }

  private async logFailure(job: CaptureJob, reason: string, message: string): Promise<number> {
    const record = { type: CAPTURE_FAILED_RECORD_TYPE, captureId: job.captureId, attempt: job.attempts, collector: job.collector, url: job.request.url, reason, message: message.slice(0, 2000) };
    const accepted = await this.ledger.sequencer.submit({ kind: CAPTURE_FAILED_KIND, subject: job.captureId, record, actor: null });
    job.failedEntries.push(accepted.index);
    return accepted.index;
  }

  private async run(job: CaptureJob, signal: AbortSignal): Promise<void> {
    job.attempts += 1;
    job.status = 'running';
    job.step = 'starting';
    await this.save(job);
    const setStep = (step: string): void => {
      job.step = step;
    };
    try {
      const chainStart = await this.ledger.latestBlock();
      const result = await capturePage(job.request.url, job.request.options, this.settings, setStep, signal);
      if (signal.aborted) throw new CaptureFailure('interrupted', 'the node stopped during the capture');
      setStep('packaging');
      const chainEnd = await this.ledger.latestBlock().catch(() => null);
      const hosts = [...new Set(result.exchanges.map((x) => new URL(x.url).hostname.replace(/^\[|\]$/g, '')))];
      const environment = environmentRecord({ browser: result.browser, viewport: job.request.options.viewport, hostsTouched: hosts, clock: { startedAt: result.startedAt, endedAt: result.endedAt, chainStart, chainEnd } });
      const pkg = await buildPackage({ captureId: job.captureId, attempt: job.attempts, request: job.request, result, chainStart, chainEnd, environment });
      if (signal.aborted) throw new CaptureFailure('interrupted', 'the node stopped during the capture');
      setStep('depositing');
      const actor: Actor = { keyId: job.collector.keyId, role: 'collector', ...(job.collector.name !== undefined ? { name: job.collector.name } : {}) };
      const metadata: Record<string, unknown> = {
        title: job.request.title ?? `Web capture ${job.captureId}`,
        mediaType: WACZ_MEDIA_TYPE,
        fileName: `${job.captureId}.wacz`,
        method: 'web-page',
        source: { url: job.request.url },
        capturedAt: result.startedAt,
        environment: {
          tool: 'tianfu-ledger capture',
          captureId: job.captureId,
          attempt: job.attempts,
          browser: `${result.browser.name} ${result.browser.version}`,
          finalUrl: result.finalUrl.slice(0, 4096),
          status: result.status,
          serverAddress: result.serverAddress,
          chainStart: { number: chainStart.number, hash: chainStart.hash },
          manifest: 'tianfu/manifest.json in the package: the full environment record',
        },
      };
      if (job.request.caseRef !== undefined) metadata.caseRef = job.request.caseRef;
      const dep = await this.ledger.evidence.deposit(actor, metadata, Readable.from([Buffer.from(pkg.bytes)]), { capture: pkg.ref });
      job.evidenceId = dep.evidenceId;
      job.package = { sha256: pkg.sha256, sm3: pkg.sm3, size: pkg.bytes.length, manifestSha256: pkg.ref.manifest.sha256 };
      job.status = 'done';
      job.step = 'done';
      delete job.error;
      await this.save(job);
      this.logger.info({ captureId: job.captureId, evidenceId: dep.evidenceId, index: dep.index }, 'capture deposited');
    } catch (err) {
      const reason = err instanceof CaptureFailure ? err.reason : 'browser';
      const message = err instanceof CaptureFailure ? err.message : `the capture could not be completed: ${(err as Error).message}`;
      if (reason === 'interrupted' || this.stopping) {
        // Left `running` in the store: the next start logs this attempt as interrupted and runs the job again.
        return;
      }
      // The failure entry first: a status that says `failed` always names its entry, already in the log.
      await this.logFailure(job, reason, message);
      job.status = 'failed';
      job.step = 'failed';
      job.error = { reason, message };
      await this.save(job);
      this.logger.info({ captureId: job.captureId, reason }, 'capture failed');
    } finally {
      // Settled and saved: from now on read from the store (an interrupted attempt stays, to be re-run).
      if (job.status === 'done' || job.status === 'failed') this.jobs.delete(job.captureId);
      this.onSettled?.(job);
    }
  }
}

export function statusOf(job: CaptureJob): CaptureStatus {
  const s: CaptureStatus = {
    captureId: job.captureId,
    status: job.status,
    progress: { step: job.step, attempt: job.attempts },
    url: job.request.url,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    attempts: job.attempts,
    failedEntries: [...job.failedEntries],
  };
  if (job.evidenceId !== undefined) s.evidenceId = job.evidenceId;
  if (job.package !== undefined) s.package = job.package;
  if (job.error !== undefined) s.error = job.error;
  return s;
}
