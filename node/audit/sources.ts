/**
 * Where the audit reads the log from: an export directory or a node's HTTP API. Either way the rows
 * are only material to check; the chain is read separately (node/audit/chain.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Hex } from '../protocol/bytes';
import type { Receipt } from '../protocol/formats';
import type { EntryRow, NodeCheckpoint, RecordRow } from './engine';
import { EXPORT_FORMAT, FILES, LineReader, type ExportManifest } from './export-format';

/** What a source says about the log it serves: the manifest's fields, whether from an export or a live node. */
export type SourceMeta = Pick<ExportManifest, 'logId' | 'chainId' | 'registry' | 'operator' | 'treeSize' | 'rootHash'>;

export interface SourceRow {
  row: EntryRow;
  receipt: Receipt | undefined;
  record: RecordRow | undefined;
}

export interface LogSource {
  readonly description: string;
  readonly meta: SourceMeta;
  readonly nodeCheckpoints: NodeCheckpoint[] | null;
  readonly hasReceipts: boolean;
  readonly hasRecords: boolean;
  /** Rows in the order served, in batches. */
  rows(): AsyncIterable<SourceRow[]>;
  /** After `rows` is exhausted: receipts/records whose index matched no entry. */
  orphans(): { receipts: number[]; records: number[] };
  close(): void;
}

/** The source is unusable (exit 2): unreadable, malformed, unreachable. */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Pairs a stream of {index, …} objects with entries by index, tolerating local disorder (an entry
 * served out of order still meets its own receipt): reads ahead until it passes the index asked for
 * and keeps what it read in a small buffer.
 */
class ByIndex<T extends { index: number }> {
  private readonly buffer = new Map<number, T>();
  private done = false;
  constructor(private readonly pull: () => T | null) {}

  take(index: number): T | undefined {
    const b = this.buffer.get(index);
    if (b !== undefined) {
      this.buffer.delete(index);
      return b;
    }
    while (!this.done) {
      const next = this.pull();
      if (next === null) {
        this.done = true;
        break;
      }
      if (next.index === index) return next;
      this.buffer.set(next.index, next);
      if (next.index > index) break;
    }
    return undefined;
  }

  /** Everything not taken, after draining the stream. */
  leftovers(): number[] {
    for (let next = this.pull(); next !== null; next = this.pull()) this.buffer.set(next.index, next);
    this.done = true;
    return [...this.buffer.keys()].sort((a, b) => a - b);
  }
}

function parseLine(file: string, lineNo: number, line: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new SourceError(`${file} line ${lineNo} is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(v) || typeof v.index !== 'number') throw new SourceError(`${file} line ${lineNo} is not an object with a numeric index`);
  return v;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SourceError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SourceError(`${file} is not JSON: ${(err as Error).message}`);
  }
}

const HEX32 = /^0x[0-9a-f]{64}$/;
const ADDR = /^0x[0-9a-fA-F]{40}$/;

function checkMeta(where: string, m: Record<string, unknown>): SourceMeta {
  const bad: string[] = [];
  if (typeof m.logId !== 'string' || !HEX32.test(m.logId)) bad.push('logId');
  if (typeof m.chainId !== 'string' || !/^\d+$/.test(m.chainId)) bad.push('chainId');
  if (typeof m.registry !== 'string' || !ADDR.test(m.registry)) bad.push('registry');
  if (typeof m.operator !== 'string' || !ADDR.test(m.operator)) bad.push('operator');
  if (typeof m.treeSize !== 'number' || !Number.isSafeInteger(m.treeSize) || m.treeSize < 0) bad.push('treeSize');
  if (typeof m.rootHash !== 'string' || !HEX32.test(m.rootHash)) bad.push('rootHash');
  if (bad.length > 0) throw new SourceError(`${where}: missing or malformed ${bad.join(', ')}`);
  return {
    logId: m.logId as Hex,
    chainId: m.chainId as string,
    registry: (m.registry as string).toLowerCase() as Hex,
    operator: (m.operator as string).toLowerCase() as Hex,
    treeSize: m.treeSize as number,
    rootHash: m.rootHash as Hex,
  };
}

function checkpointsFrom(where: string, v: unknown): NodeCheckpoint[] {
  const list = isObject(v) ? v.checkpoints : undefined;
  if (!Array.isArray(list)) throw new SourceError(`${where}: expected {checkpoints: [...]}`);
  return list.map((c, i) => {
    if (!isObject(c) || typeof c.treeSize !== 'number' || typeof c.rootHash !== 'string') throw new SourceError(`${where}: checkpoints[${i}] needs treeSize and rootHash`);
    return c as unknown as NodeCheckpoint;
  });
}

/** An export directory written by `tianfu export`. */
export class ExportSource implements LogSource {
  readonly description: string;
  readonly meta: SourceMeta;
  readonly nodeCheckpoints: NodeCheckpoint[] | null;
  readonly hasReceipts: boolean;
  readonly hasRecords: boolean;
  private readonly readers: LineReader[] = [];
  private receipts: ByIndex<Receipt> | null = null;
  private records: ByIndex<RecordRow> | null = null;

  constructor(readonly dir: string) {
    this.description = `export ${dir}`;
    const manifestFile = path.join(dir, FILES.manifest);
    if (!fs.existsSync(manifestFile)) {
      const partial = path.resolve(dir) + '.partial';
      if (fs.existsSync(partial)) throw new SourceError(`${dir} is not there yet: the export into it did not finish (${partial} holds what it wrote); run the same tianfu export again to resume it`);
      throw new SourceError(`${manifestFile} is missing: not an export, or an export that did not finish (run tianfu export again to resume it)`);
    }
    const m = readJson(manifestFile);
    if (!isObject(m)) throw new SourceError(`${manifestFile} is not an object`);
    if (m.format !== EXPORT_FORMAT) throw new SourceError(`${manifestFile}: format ${JSON.stringify(m.format)} is not ${EXPORT_FORMAT}`);
    this.meta = checkMeta(manifestFile, m);
    const cpFile = path.join(dir, FILES.checkpoints);
    this.nodeCheckpoints = fs.existsSync(cpFile) ? checkpointsFrom(cpFile, readJson(cpFile)) : null;
    if (!fs.existsSync(path.join(dir, FILES.entries))) throw new SourceError(`${path.join(dir, FILES.entries)} is missing`);
    this.hasReceipts = fs.existsSync(path.join(dir, FILES.receipts));
    this.hasRecords = (m as unknown as ExportManifest).records === true && fs.existsSync(path.join(dir, FILES.records));
    if ((m as unknown as ExportManifest).records === true && !this.hasRecords) throw new SourceError(`the manifest says the export has records, but ${FILES.records} is missing`);
  }

  private open(name: string): () => Record<string, unknown> | null {
    const file = path.join(this.dir, name);
    const r = new LineReader(file);
    this.readers.push(r);
    return () => {
      for (let line = r.next(); line !== null; line = r.next()) {
        if (line.length === 0) continue;
        return parseLine(file, r.lineNo, line);
      }
      return null;
    };
  }

  async *rows(): AsyncIterable<SourceRow[]> {
    const entries = this.open(FILES.entries);
    if (this.hasReceipts) this.receipts = new ByIndex(this.open(FILES.receipts) as () => Receipt | null);
    if (this.hasRecords) this.records = new ByIndex(this.open(FILES.records) as () => RecordRow | null);
    const BATCH = 2000;
    let batch: SourceRow[] = [];
    for (let e = entries(); e !== null; e = entries()) {
      const row = e as unknown as EntryRow;
      batch.push({ row, receipt: this.receipts?.take(row.index), record: this.records?.take(row.index) });
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  orphans(): { receipts: number[]; records: number[] } {
    return { receipts: this.receipts?.leftovers() ?? [], records: this.records?.leftovers() ?? [] };
  }

  close(): void {
    for (const r of this.readers) r.close();
  }
}

export interface ApiClientOptions {
  key?: string;
  timeoutMs?: number;
}

/** GET a JSON body from the node; any failure is SourceError (exit 2). */
export async function apiGet(base: string, p: string, o: ApiClientOptions = {}): Promise<Record<string, unknown>> {
  const url = base.replace(/\/+$/, '') + p;
  let res: Response;
  try {
    res = await fetch(url, { headers: o.key ? { authorization: `Bearer ${o.key}` } : {}, signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
  } catch (err) {
    throw new SourceError(`the node at ${base} is unreachable (${p}): ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SourceError(`GET ${p}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const detail = isObject(body) ? `${String(body.code ?? '')} ${String(body.detail ?? body.title ?? '')}`.trim() : text.slice(0, 200);
    throw new SourceError(`GET ${p}: HTTP ${res.status}: ${detail}`);
  }
  if (!isObject(body)) throw new SourceError(`GET ${p}: expected a JSON object`);
  return body;
}

/** Every checkpoint the node lists (GET /v1/log/checkpoints, paged). */
export async function fetchNodeCheckpoints(base: string, o: ApiClientOptions = {}): Promise<{ chainId: string; registry: string; logId: string; checkpoints: NodeCheckpoint[] }> {
  const out: NodeCheckpoint[] = [];
  let first: Record<string, unknown> | null = null;
  let fromSize = 0;
  for (;;) {
    const body = await apiGet(base, `/v1/log/checkpoints?fromSize=${fromSize}&limit=1000`, o);
    first ??= body;
    const page = checkpointsFrom('GET /v1/log/checkpoints', body);
    out.push(...page);
    if (page.length < 1000) break;
    fromSize = page[page.length - 1]!.treeSize + 1;
  }
  return { chainId: String(first.chainId), registry: String(first.registry), logId: String(first.logId), checkpoints: out };
}

export const API_PAGE = 1000;

/** A live node: GET /v1/log, /v1/log/entries, /v1/log/receipts and (auditor/court key) /v1/log/records. */
export class ApiSource implements LogSource {
  readonly description: string;
  readonly hasReceipts = true;
  private constructor(
    readonly base: string,
    readonly meta: SourceMeta,
    readonly nodeCheckpoints: NodeCheckpoint[] | null,
    readonly hasRecords: boolean,
    private readonly o: ApiClientOptions,
  ) {
    this.description = `node ${base}`;
  }

  static async open(base: string, opts: ApiClientOptions & { records?: boolean } = {}): Promise<ApiSource> {
    const head = await apiGet(base, '/v1/log', opts);
    const meta = checkMeta('GET /v1/log', head);
    const cps = await fetchNodeCheckpoints(base, opts);
    return new ApiSource(base, meta, cps.checkpoints, opts.records === true, opts);
  }

  async *rows(): AsyncIterable<SourceRow[]> {
    const n = this.meta.treeSize;
    let start = 0;
    while (start < n) {
      const end = Math.min(n, start + API_PAGE);
      const q = `?start=${start}&end=${end}`;
      const [e, r, rec] = await Promise.all([
        apiGet(this.base, `/v1/log/entries${q}`, this.o),
        apiGet(this.base, `/v1/log/receipts${q}`, this.o),
        this.hasRecords ? this.fetchRange<RecordRow>('records', start, end) : Promise.resolve([]),
      ]);
      const entries = e.entries as EntryRow[];
      const receipts = new Map(((r.receipts as Receipt[]) ?? []).map((x) => [x.index, x]));
      const records = new Map(rec.map((x) => [x.index, x]));
      if (!Array.isArray(entries) || entries.length === 0) throw new SourceError(`GET /v1/log/entries${q} returned no entries below the claimed size ${n}`);
      yield entries.map((row) => ({ row, receipt: receipts.get(row.index), record: this.hasRecords ? records.get(row.index) : undefined }));
      start += entries.length; // a short page: continue where it ended
    }
  }

  /** Rows [start, end) of a paged route whose pages may be shorter than asked (records: 500). */
  private async fetchRange<T extends { index: number }>(what: 'records', start: number, end: number): Promise<T[]> {
    const out: T[] = [];
    let from = start;
    while (from < end) {
      const body = await apiGet(this.base, `/v1/log/${what}?start=${from}&end=${end}`, this.o);
      const rows = body[what] as T[] | undefined;
      if (!Array.isArray(rows) || rows.length === 0) break;
      out.push(...rows);
      from += rows.length;
    }
    return out;
  }

  orphans(): { receipts: number[]; records: number[] } {
    return { receipts: [], records: [] };
  }

  close(): void {}
}
