/**
 * `tianfu export`: copies a node's log into an export directory (node/audit/export-format.ts) over
 * the HTTP API. A new export is written under `<out>.partial` and renamed to `<out>` only once its
 * manifest is written, so a failed or interrupted export never leaves a directory at `<out>` that looks
 * like an export. Resumable: run again, it continues `<out>.partial` (each JSONL file cut back to its
 * last complete line) and says so. Running it on a finished export brings that up to the node's size.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Hex } from '../protocol/bytes';
import { EXPORT_FORMAT, FILES, completeLines, type ExportManifest } from './export-format';
import { API_PAGE, SourceError, apiGet, fetchNodeCheckpoints, type ApiClientOptions } from './sources';

/** What a run found already there, before it fetched anything (the CLI says it, so a re-run is never silent). */
export interface ResumeInfo {
  /** 'unfinished': continues `<out>.partial`; 'update': appends to a finished export. */
  mode: 'unfinished' | 'update';
  dir: string;
  entries: number;
  receipts: number;
  records: number | null;
}

export interface ExportOptions extends ApiClientOptions {
  api: string;
  out: string;
  records?: boolean;
  /** Stop after this many entries (tests: an interrupted export). */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
  onResume?: (info: ResumeInfo) => void;
}

/** Where an unfinished export of `out` is written. */
export function partialDirOf(out: string): string {
  return path.resolve(out) + '.partial';
}

export interface ExportResult {
  manifest: ExportManifest | null;
  /** Entries already present when this run started (resumed from). */
  resumedFrom: number;
  /** What was there before (null: a fresh start). */
  resumed: ResumeInfo | null;
  /** Where the files are: `out` once complete, `<out>.partial` while not. */
  dir: string;
  written: { entries: number; receipts: number; records: number };
  complete: boolean;
}

interface Stream {
  name: string;
  file: string;
  count: number;
  fd: number;
  route: string;
  key: 'entries' | 'receipts' | 'records';
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  fs.writeSync(fd, JSON.stringify(value, null, 2) + '\n');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

function openStream(dir: string, name: string, key: Stream['key']): Stream {
  const file = path.join(dir, name);
  const { bytes, count, last } = completeLines(file);
  if (count > 0) {
    const idx = (last as { index?: unknown } | undefined)?.index;
    if (idx !== count - 1) throw new SourceError(`${file} has ${count} complete lines but its last line is index ${JSON.stringify(idx)}: not a contiguous export; use a fresh directory`);
  }
  // Cut a torn last line (interrupted write) so appending continues on a line boundary.
  if (fs.existsSync(file)) fs.truncateSync(file, bytes);
  const fd = fs.openSync(file, 'a', 0o600);
  return { name, file, count, fd, route: `/v1/log/${key}`, key };
}

/** The directory this run writes in: `out` for a finished export, else `<out>.partial` (moving an unfinished export of the old layout there). */
function workDir(out: string): { dir: string; finished: boolean; existed: boolean } {
  const partial = partialDirOf(out);
  if (fs.existsSync(path.join(out, FILES.manifest))) return { dir: out, finished: true, existed: true };
  if (fs.existsSync(out)) {
    const names = fs.readdirSync(out);
    if (names.length > 0 && !names.includes(FILES.entries)) throw new SourceError(`${out} exists and is not an export (no ${FILES.manifest}, no ${FILES.entries}); use another --out`);
    if (names.length > 0) {
      if (fs.existsSync(partial)) throw new SourceError(`both ${out} (unfinished, no ${FILES.manifest}) and ${partial} exist; remove one`);
      fs.renameSync(out, partial); // an unfinished export written in place by an older version
    } else fs.rmdirSync(out);
  }
  const existed = fs.existsSync(partial);
  fs.mkdirSync(partial, { recursive: true, mode: 0o700 });
  return { dir: partial, finished: false, existed };
}

export async function exportLog(o: ExportOptions): Promise<ExportResult> {
  const head = await apiGet(o.api, '/v1/log', o);
  const target = { treeSize: Number(head.treeSize), rootHash: String(head.rootHash) as Hex };
  const work = workDir(o.out);
  const manifestFile = path.join(work.dir, FILES.manifest);
  if (fs.existsSync(manifestFile)) {
    const prev = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ExportManifest;
    for (const f of ['logId', 'chainId', 'registry'] as const) {
      if (String(prev[f]).toLowerCase() !== String(head[f]).toLowerCase()) throw new SourceError(`${manifestFile} is an export of ${f} ${prev[f]}, the node serves ${String(head[f])}; use another directory`);
    }
  }
  const streams = [openStream(work.dir, FILES.entries, 'entries'), openStream(work.dir, FILES.receipts, 'receipts')];
  if (o.records) streams.push(openStream(work.dir, FILES.records, 'records'));
  const resumedFrom = Math.min(...streams.map((s) => s.count));
  const resumed: ResumeInfo | null = work.existed
    ? { mode: work.finished ? 'update' : 'unfinished', dir: work.dir, entries: streams[0]!.count, receipts: streams[1]!.count, records: streams[2]?.count ?? null }
    : null;
  if (resumed) o.onResume?.(resumed);
  const written = { entries: 0, receipts: 0, records: 0 };
  try {
    for (const s of streams) {
      if (s.count > target.treeSize) throw new SourceError(`${s.file} holds ${s.count} lines, but the node now serves only ${target.treeSize} entries: its log shrank (audit the export to see what changed)`);
    }
    const stop = o.limit === undefined ? target.treeSize : Math.min(target.treeSize, resumedFrom + o.limit);
    let pos = resumedFrom;
    while (pos < stop) {
      const end = Math.min(stop, pos + API_PAGE);
      let advanced = end - pos;
      for (const s of streams) {
        if (s.count >= end) continue;
        const from = Math.max(pos, s.count);
        const body = await apiGet(o.api, `${s.route}?start=${from}&end=${end}`, o);
        const rows = body[s.key];
        if (!Array.isArray(rows) || rows.length === 0) throw new SourceError(`GET ${s.route}?start=${from}&end=${end} returned no ${s.key}`);
        // Each row must be the next index: the export is a faithful copy, order and all.
        rows.forEach((r: { index?: unknown }, i) => {
          if (r?.index !== from + i) throw new SourceError(`GET ${s.route}?start=${from}: row ${i} has index ${JSON.stringify(r?.index)}, expected ${from + i}`);
        });
        fs.writeSync(s.fd, rows.map((r) => JSON.stringify(r)).join('\n') + '\n', null, 'utf8');
        fs.fsyncSync(s.fd);
        s.count = from + rows.length;
        written[s.key] += rows.length;
        advanced = Math.min(advanced, s.count - pos);
      }
      pos += advanced;
      o.onProgress?.(pos, target.treeSize);
    }
  } finally {
    for (const s of streams) fs.closeSync(s.fd);
  }
  if (Math.min(...streams.map((s) => s.count)) < target.treeSize) return { manifest: null, resumedFrom, resumed, dir: work.dir, written, complete: false };

  const cps = await fetchNodeCheckpoints(o.api, o);
  writeJsonAtomic(path.join(work.dir, FILES.checkpoints), cps);
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    logId: String(head.logId) as Hex,
    chainId: String(head.chainId),
    registry: String(head.registry).toLowerCase() as Hex,
    operator: String(head.operator).toLowerCase() as Hex,
    treeSize: target.treeSize,
    rootHash: target.rootHash,
    exportedAt: new Date().toISOString(),
    records: o.records === true,
  };
  writeJsonAtomic(manifestFile, manifest);
  // Only a complete export gets the name asked for (the rename is atomic on one file system).
  if (!work.finished) fs.renameSync(work.dir, o.out);
  return { manifest, resumedFrom, resumed, dir: o.out, written, complete: true };
}
