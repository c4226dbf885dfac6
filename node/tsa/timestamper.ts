/**
 * RFC 3161 client of the node (TIANFU_TSA_URLS): for every anchored checkpoint it asks each configured
 * TSA for a time-stamp token over the operator-signed checkpoint (imprint = SHA-256 of its JCS bytes,
 * certReq TRUE, a fresh nonce) and keeps the token in LevelDB. Independent time: a court need not take
 * the chain operator's or the log operator's word for when the checkpoint existed.
 *
 * It never holds up anchoring: the anchorer only records that a token is wanted (one durable write);
 * requests run in the background, and a TSA that is down is retried with a growing delay until it
 * answers. The wish is durable, so a restart resumes it; at start the latest anchored checkpoint is
 * wished for too (a crash between anchoring and the wish, or a TSA added to the configuration).
 *
 * A token is kept only when it is for the request sent (imprint and nonce, RFC 3161 §2.4.2) and its
 * signature verifies with the certificate it carries; whether that TSA is trusted is the verifier's call.
 */
import { randomBytes, createHash } from 'node:crypto';
import {
  CHECKPOINT_TYPE,
  buildTimestampRequest,
  bytesToBase64,
  checkpointImprint,
  readToken,
  tokenFromResponse,
  toHex,
  verifyTimestampToken,
  type BundleTimestamp,
  type Hex,
  type SignedCheckpoint,
} from '../protocol';
import type { BatchOp, Database } from '../store/db';
import type { AnchoredRecord } from '../anchorer';

const WANT = '!tsa!want!';
const TOKEN = '!tsa!tok!';
const pad = (n: number): string => n.toString(16).padStart(12, '0');
/** Keys by a hash of the URL, so reordering TIANFU_TSA_URLS changes nothing. */
const urlKey = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 16);

interface Want {
  checkpoint: SignedCheckpoint;
  url: string;
  attempts: number;
  nextAt: number;
  lastError: string | null;
}

export interface TimestamperLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface TimestamperOptions {
  db: Database;
  urls: readonly string[];
  logId: Hex;
  /** First retry delay; doubles on each failure up to 32×. */
  retryMs: number;
  timeoutMs: number;
  logger?: TimestamperLogger;
  clock?: () => number;
}

export interface TimestamperStatus {
  urls: string[];
  /** Tokens wanted and not yet obtained. */
  pending: { treeSize: number; url: string; attempts: number; lastError: string | null }[];
  tokens: number;
}

const silent: TimestamperLogger = { info: () => undefined, warn: () => undefined };

export class Timestamper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private tokenCount = 0;
  private readonly log: TimestamperLogger;
  private readonly clock: () => number;
  readonly metrics = { granted: 0, failures: 0 };

  private constructor(private readonly o: TimestamperOptions) {
    this.log = o.logger ?? silent;
    this.clock = o.clock ?? Date.now;
  }

  static async open(o: TimestamperOptions, latest: AnchoredRecord | null): Promise<Timestamper> {
    const t = new Timestamper(o);
    for await (const _ of o.db.keys({ gte: TOKEN, lt: TOKEN + '~' })) t.tokenCount++;
    if (latest) await t.want(latest);
    t.schedule(0);
    return t;
  }

  /** The signed checkpoint of an anchored record (what is stamped). */
  signedCheckpoint(rec: AnchoredRecord): SignedCheckpoint {
    return { type: CHECKPOINT_TYPE, logId: this.o.logId, treeSize: rec.treeSize, rootHash: rec.rootHash, signature: rec.signature };
  }

  /** Records (durably) that a token is wanted from every TSA for this checkpoint, and starts asking. */
  async want(rec: AnchoredRecord): Promise<void> {
    if (this.stopped) return;
    const cp = this.signedCheckpoint(rec);
    const ops: BatchOp[] = [];
    for (const url of this.o.urls) {
      const k = `${pad(rec.treeSize)}!${urlKey(url)}`;
      if ((await this.o.db.get(TOKEN + k)) !== undefined) continue;
      if ((await this.o.db.get(WANT + k)) !== undefined) continue;
      const w: Want = { checkpoint: cp, url, attempts: 0, nextAt: 0, lastError: null };
      ops.push({ type: 'put', key: WANT + k, value: w, valueEncoding: 'json' } as BatchOp);
    }
    if (ops.length === 0) return;
    await this.o.db.batch<unknown, unknown>(ops, { sync: true });
    this.schedule(0);
  }

  /** Tokens held for the checkpoint of this tree size, in TSA URL order. */
  async tokensFor(treeSize: number): Promise<BundleTimestamp[]> {
    const out: BundleTimestamp[] = [];
    for await (const v of this.o.db.values({ gte: TOKEN + pad(treeSize) + '!', lt: TOKEN + pad(treeSize) + '!~', valueEncoding: 'json' })) out.push(v as unknown as BundleTimestamp);
    const order = (t: BundleTimestamp): number => (t.url === undefined ? 1e9 : this.o.urls.indexOf(t.url) >>> 0);
    return out.sort((a, b) => order(a) - order(b));
  }

  async status(): Promise<TimestamperStatus> {
    const pending: TimestamperStatus['pending'] = [];
    for await (const v of this.o.db.values({ gte: WANT, lt: WANT + '~', valueEncoding: 'json', limit: 100 })) {
      const w = v as unknown as Want;
      pending.push({ treeSize: w.checkpoint.treeSize, url: w.url, attempts: w.attempts, lastError: w.lastError });
    }
    return { urls: [...this.o.urls], pending, tokens: this.tokenCount };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.running) {
        // Called again while a round runs: run once more after it.
        void this.running.then(() => this.schedule(0));
        return;
      }
      this.running = this.round()
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'timestamp round failed'))
        .finally(() => {
          this.running = null;
        });
    }, delayMs);
    this.timer.unref?.();
  }

  /** Asks for every wanted token that is due; schedules the next round for the earliest one not due. */
  private async round(): Promise<void> {
    const now = this.clock();
    let next = Infinity;
    const due: [string, Want][] = [];
    for await (const [k, v] of this.o.db.iterator({ gte: WANT, lt: WANT + '~', valueEncoding: 'json' })) {
      const w = v as unknown as Want;
      if (w.nextAt <= now) due.push([k as string, w]);
      else next = Math.min(next, w.nextAt);
    }
    for (const [k, w] of due) {
      if (this.stopped) return;
      const rest = k.slice(WANT.length);
      try {
        const ts = await this.request(w);
        await this.o.db.batch<unknown, unknown>([
          { type: 'put', key: TOKEN + rest, value: ts, valueEncoding: 'json' } as BatchOp,
          { type: 'del', key: k } as BatchOp,
        ], { sync: true });
        this.tokenCount++;
        this.metrics.granted++;
        this.log.info({ treeSize: w.checkpoint.treeSize, tsa: ts.tsa, genTime: ts.genTime }, 'RFC 3161 token obtained');
      } catch (err) {
        this.metrics.failures++;
        const attempts = w.attempts + 1;
        const delay = this.o.retryMs * 2 ** Math.min(attempts - 1, 5);
        const upd: Want = { ...w, attempts, nextAt: this.clock() + delay, lastError: (err as Error).message };
        if (this.stopped) return;
        await this.o.db.batch<unknown, unknown>([{ type: 'put', key: k, value: upd, valueEncoding: 'json' } as BatchOp], { sync: false });
        this.log.warn({ treeSize: w.checkpoint.treeSize, url: w.url, attempts, retryInMs: delay, err: upd.lastError }, 'TSA request failed; will retry');
        next = Math.min(next, upd.nextAt);
      }
    }
    if (next !== Infinity) this.schedule(Math.max(0, next - this.clock()));
  }

  private async request(w: Want): Promise<BundleTimestamp> {
    const nonce = randomBytes(16);
    const imprint = checkpointImprint(w.checkpoint);
    const body = buildTimestampRequest(imprint, nonce);
    const res = await fetch(w.url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: Buffer.from(body),
      signal: AbortSignal.timeout(this.o.timeoutMs),
      redirect: 'error',
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`the TSA answered HTTP ${res.status}`);
    if (bytes.length > 48 * 1024) throw new Error(`the TSA answered ${bytes.length} bytes; a token is far smaller`);
    const der = tokenFromResponse(bytes);
    const { info } = readToken(der);
    // RFC 3161 §2.4.2: the requester checks that the token is for its request.
    const n = nonce[0]! & 0x80 ? Uint8Array.from([0, ...nonce]) : nonce;
    if (info.nonce !== toHex(n)) throw new Error(`the token's nonce ${info.nonce} is not the request's`);
    const check = await verifyTimestampToken(der, { checkpoint: w.checkpoint });
    const bad = check.steps.find((s) => s.status === 'failed');
    if (bad) throw new Error(`the TSA's token fails ${bad.name}: ${bad.detail}`);
    return { token: bytesToBase64(der), tsa: info.signer ?? w.url, genTime: info.genTime, treeSize: w.checkpoint.treeSize, url: w.url };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
