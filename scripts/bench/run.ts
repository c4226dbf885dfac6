/**
 * `npm run bench`: runs every benchmark module under scripts/bench/ that exists, one after another
 * (they share two cores; running them in parallel would measure the contention), prints a table of
 * their headline figures and writes everything to bench-out/results.json.
 *
 * Each module is loaded with a guarded require, so one that is missing (another engineer's, not yet
 * landed) is reported as skipped; one that throws is reported as failed and the rest still run.
 *
 * The default run stays around ten minutes on a 2-core machine. Sizes, by environment:
 *   BENCH_ONLY=node,gas        run only these modules (names as in the table)
 *   BENCH_LOG_MAX=1000000      largest log-store tree (default 100000)
 *   BENCH_EVIDENCE_BYTES=...   size of the large evidence file (default 256 MiB)
 *   BENCH_NODE_RECORDS / BENCH_NODE_TX   see scripts/bench/node.ts
 *   BENCH_STATE_NODE / BENCH_STATE_STORE / BENCH_STATE_SUBJECTS   see scripts/bench/state-map.ts
 *   BENCH_SOAK_PASSES=6         passes of the bad-input mix (scripts/bench/soak.ts)
 *   BENCH_EVIDENCE_HTTP_RUNS=3  runs of the 2 GiB deposit (scripts/bench/evidence-http.ts)
 *   BENCH_CAPTURE_RUNS=5        captures per page (scripts/bench/capture.ts)
 * Modules owned by others read their own BENCH_* variables.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';

interface Module {
  name: string;
  file: string;
  fn: string;
  opts: () => Record<string, unknown>;
}

const log = (line: string): void => void process.stderr.write(line + '\n');

const MODULES: Module[] = [
  {
    name: 'log-store',
    file: './log-store',
    fn: 'benchLogStore',
    opts: () => {
      const max = Number(process.env.BENCH_LOG_MAX ?? 100_000);
      return { sizes: [...new Set([1_000, 100_000, 1_000_000].filter((s) => s < max).concat([max]))], log };
    },
  },
  { name: 'gas', file: './gas', fn: 'benchGas', opts: () => ({ log }) },
  { name: 'evidence', file: './evidence', fn: 'benchEvidenceIngest', opts: () => ({ bytes: Number(process.env.BENCH_EVIDENCE_BYTES ?? 256 * 1024 ** 2), log }) },
  { name: 'node', file: './node', fn: 'benchNode', opts: () => ({ log }) },
  { name: 'invoices-http', file: './invoices-http', fn: 'benchInvoicesHttp', opts: () => ({ log }) },
  { name: 'storage', file: './storage', fn: 'benchStorage', opts: () => ({ log }) },
  { name: 'invoices-xml', file: './invoices-xml', fn: 'benchInvoicesXml', opts: () => ({ log }) },
  { name: 'evidence-http', file: './evidence-http', fn: 'benchEvidenceHttp', opts: () => ({ log }) },
  { name: 'verify', file: './verify', fn: 'benchVerify', opts: () => ({ log }) },
  { name: 'audit', file: './audit', fn: 'benchAudit', opts: () => ({ log }) },
  { name: 'state-map', file: './state-map', fn: 'benchStateMap', opts: () => ({ log }) },
  { name: 'report', file: './report', fn: 'benchReport', opts: () => ({ log }) },
  { name: 'soak', file: './soak', fn: 'benchSoak', opts: () => ({ log }) },
  { name: 'capture', file: './capture', fn: 'benchCapture', opts: () => ({ log }) },
];

type Outcome = { name: string; status: 'ok' | 'skipped' | 'failed'; seconds: number; result?: unknown; error?: string };

/** Loads a module if its file exists; a missing module is not an error (it has not landed yet). */
function load(m: Module): ((opts: Record<string, unknown>) => Promise<unknown>) | string {
  const base = path.join(__dirname, m.file);
  if (!['.ts', '.js'].some((ext) => fs.existsSync(base + ext))) return `${m.file}.ts not present`;
  const mod = require(base) as Record<string, unknown>;
  const fn = mod[m.fn];
  if (typeof fn !== 'function') return `${m.file} does not export ${m.fn}()`;
  return fn as (opts: Record<string, unknown>) => Promise<unknown>;
}

/** Headline numbers of a result: numeric leaves, flattened to dotted paths (first 12). */
function headline(value: unknown, prefix = '', out: string[] = []): string[] {
  if (out.length >= 12) return out;
  if (typeof value === 'number' || typeof value === 'boolean') out.push(`${prefix}=${value}`);
  else if (Array.isArray(value)) value.slice(0, 3).forEach((v, i) => headline(v, `${prefix}[${i}]`, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) headline(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const outcomes: Outcome[] = [];
  for (const m of MODULES) {
    if (only && !only.includes(m.name)) continue;
    const started = performance.now();
    let fn: ReturnType<typeof load>;
    try {
      fn = load(m);
    } catch (err) {
      fn = `cannot load ${m.file}: ${(err as Error).message}`;
    }
    if (typeof fn === 'string') {
      log(`== ${m.name}: skipped (${fn})`);
      outcomes.push({ name: m.name, status: 'skipped', seconds: 0, error: fn });
      continue;
    }
    log(`== ${m.name}`);
    try {
      const result = await fn(m.opts());
      outcomes.push({ name: m.name, status: 'ok', seconds: Math.round((performance.now() - started) / 100) / 10, result });
    } catch (err) {
      log(`== ${m.name} failed: ${(err as Error).stack ?? String(err)}`);
      outcomes.push({ name: m.name, status: 'failed', seconds: Math.round((performance.now() - started) / 100) / 10, error: (err as Error).message });
    }
  }

  const rows = outcomes.map((o) => [o.name, o.status, String(o.seconds), o.status === 'ok' ? headline(o.result).join('  ') : (o.error ?? '')]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['module', 'status', 's'][i]!.length));
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join(' | ');
  process.stdout.write(line(['module', 'status', 's', 'headline figures (all figures in bench-out/results.json)']) + '\n');
  for (const r of rows) process.stdout.write(line(r) + '\n');

  const outDir = path.resolve('bench-out');
  fs.mkdirSync(outDir, { recursive: true });
  const doc = {
    format: 'tianfu.bench-results/v1',
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, memGiB: Math.round(os.totalmem() / 1024 ** 3), node: process.version, platform: `${os.platform()} ${os.release()}`, loadAvg: os.loadavg() },
    modules: outcomes,
  };
  const json = JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
  fs.writeFileSync(path.join(outDir, 'results.json'), json + '\n');
  process.stdout.write(`results: ${path.join(outDir, 'results.json')}\n`);
  if (outcomes.some((o) => o.status === 'failed')) process.exitCode = 1;
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  // Hardhat's in-process network (gas benchmark) keeps handles open; everything is written by now.
  .finally(() => process.exit());
