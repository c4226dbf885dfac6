/**
 * `tianfu export`: copies a node's log into an export directory (node/audit/export-format.ts) over
 * the HTTP API. Resumable: each JSONL file is cut back to its last complete line and continued from
 * there; the manifest is written last, so an export without one is known to be unfinished. Running
 * it again on a finished export brings it up to the node's current size.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Hex } from '../protocol/bytes';
import { EXPORT_FORMAT, FILES, completeLines, type ExportManifest } from './export-format';
import { API_PAGE, SourceError, apiGet, fetchNodeCheckpoints, type ApiClientOptions } from './sources';

export interface ExportOptions extends ApiClientOptions {
  api: string;
  out: string;
  records?: boolean;
  /** Stop after this many entries (tests: an interrupted export). */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ExportResult {
  manifest: ExportManifest | null;
  /** Entries already present when this run started (resumed from). */
  resumedFrom: number;
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

export async function exportLog(o: ExportOptions): Promise<ExportResult> {
  fs.mkdirSync(o.out, { recursive: true, mode: 0o700 });
  const head = await apiGet(o.api, '/v1/log', o);
  const target = { treeSize: Number(head.treeSize), rootHash: String(head.rootHash) as Hex };
  const manifestFile = path.join(o.out, FILES.manifest);
  if (fs.existsSync(manifestFile)) {
    const prev = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ExportManifest;
    for (const f of ['logId', 'chainId', 'registry'] as const) {
      if (String(prev[f]).toLowerCase() !== String(head[f]).toLowerCase()) throw new SourceError(`${manifestFile} is an export of ${f} ${prev[f]}, the node serves ${String(head[f])}; use another directory`);
    }
  }
  const streams = [openStream(o.out, FILES.entries, 'entries'), openStream(o.out, FILES.receipts, 'receipts')];
  if (o.records) streams.push(openStream(o.out, FILES.records, 'records'));
  const resumedFrom = Math.min(...streams.map((s) => s.count));
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
  if (Math.min(...streams.map((s) => s.count)) < target.treeSize) return { manifest: null, resumedFrom, written, complete: false };

  const cps = await fetchNodeCheckpoints(o.api, o);
  writeJsonAtomic(path.join(o.out, FILES.checkpoints), cps);
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
  return { manifest, resumedFrom, written, complete: true };
}
