/**
 * XML import benchmark (issue 16): 数电票 XML invoices/s through `tianfu import` (the CLI as a separate
 * process, and its import function in this process, without the process start), beside the JSON batch
 * route in the same run, same node, same batch size. Also the per-document CPU of the XML path's own
 * steps (parse, map + validate, SHA-256 + SM3), which JSON does not have.
 *
 * The documents are the blue special fixture (2 lines, 13%, about 3 KB) with their numbers changed;
 * the JSON invoices are the same invoices as JSON (the mapping's output), so both sides register the
 * same records but for `original`.
 *
 * Standalone: `npx tsx scripts/bench/invoices-xml.ts [documents]` (default 2000, BENCH_XML_DOCS too).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import pino from 'pino';
import { loadConfig, invoiceServiceFor } from '../../node';
import { startServer } from '../../api/server';
import { parseXml, mapInvoiceXml, digestsOf } from '../../node/invoice/xml';
import { runImport } from '../cli/import';
import { SELLER_TAX_ID } from '../../test/invoice/fixtures';

export interface BenchInvoicesXmlOptions {
  documents?: number;
  batchSize?: number;
  log?: (line: string) => void;
}

export interface BenchInvoicesXmlResult {
  machine: { cpus: number; node: string };
  documents: number;
  batchSize: number;
  documentBytes: number;
  /** `tianfu import DIR` as its own process, wall time including the process start (about 1 s of tsx). */
  cliXmlPerSec: number;
  cliSeconds: number;
  /** The same import function in this process (no process start). */
  importXmlPerSec: number;
  /** POST /v1/invoices/batch with JSON invoices, same batch size, in this process. */
  jsonBatchPerSec: number;
  xmlOverJson: number;
  /** CPU µs per document of the XML path's own steps. */
  perDocumentUs: { parse: number; mapAndValidate: number; digests: number };
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const CLI = path.join(__dirname, '..', 'tianfu.js');
const TEMPLATE = path.join(__dirname, '..', '..', 'test', 'invoice', 'xml', 'fixtures', 'blue-special.xml');

/** Invoice number n of prefix p: 2025, Sichuan, unique per (p, n). */
const numbered = (p: number, n: number): string => `255120${String(p).padStart(4, '0')}${String(n).padStart(10, '0')}`;

function writeDocuments(dir: string, prefix: number, n: number): number {
  const template = fs.readFileSync(TEMPLATE, 'utf8');
  fs.mkdirSync(dir, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const text = template.split('25512000000000000011').join(numbered(prefix, i));
    fs.writeFileSync(path.join(dir, `${String(i).padStart(6, '0')}.xml`), text);
    bytes = Buffer.byteLength(text);
  }
  return bytes;
}

function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 }, (error, out, err) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err }));
  });
}

export async function benchInvoicesXml(opts: BenchInvoicesXmlOptions = {}): Promise<BenchInvoicesXmlResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const n = opts.documents ?? Number(process.env.BENCH_XML_DOCS ?? 2000);
  const batchSize = opts.batchSize ?? 100;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-bench-xml-'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-bench-xml-docs-'));
  const config = loadConfig({
    TIANFU_DATA_DIR: dataDir,
    TIANFU_PORT: '0',
    TIANFU_HOST: '127.0.0.1',
    TIANFU_CHAIN_PORT: '0',
    TIANFU_LOG_LEVEL: 'silent',
    TIANFU_RATE_LIMIT_PER_MIN: '0',
    TIANFU_DURABLE: 'true',
  });
  const running = await startServer(config, pino({ level: 'silent' }));
  try {
    const { ledger } = running;
    const issuer = (await ledger.keys.create({ role: 'issuer', taxId: SELLER_TAX_ID, name: 'bench' })).key;
    log(`invoice XML import: ${n} documents per run, batches of ${batchSize}, durable=${config.durable}, ${os.cpus().length} cpus, node ${process.version}`);

    // Per-document CPU of the XML path's own steps.
    const svc = invoiceServiceFor(ledger);
    const sample = Buffer.from(fs.readFileSync(TEMPLATE, 'utf8').split('25512000000000000011').join(numbered(9, 0)));
    const reps = 2000;
    const time = (f: () => void): number => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < reps; i++) f();
      return round(Number(process.hrtime.bigint() - t0) / 1000 / reps, 1);
    };
    const doc = parseXml(sample);
    // The JSON side sends the same invoice (the XML's face: what the mapping produces, minus the derived 大写).
    const { totalWithTaxUpper: _upper, ...face } = mapInvoiceXml(doc).body;
    const perDocumentUs = {
      parse: time(() => parseXml(sample)),
      mapAndValidate: time(() => {
        const m = mapInvoiceXml(doc);
        svc.validate({ ...m.body, original: { mediaType: 'application/xml', ...digestsOf(sample), unmapped: m.unmapped } });
      }),
      digests: time(() => digestsOf(sample)),
    };

    // Warm-up: both routes, a few batches each.
    const warmDir = path.join(work, 'warm');
    writeDocuments(warmDir, 1, 300);
    await runImport([warmDir], { api: running.url, key: issuer, batch: batchSize, json: true });
    const jsonBatch = async (prefix: number, count: number): Promise<number> => {
      const t0 = performance.now();
      for (let s = 0; s < count; s += batchSize) {
        const invoices = Array.from({ length: Math.min(batchSize, count - s) }, (_, i) => ({ ...face, invoiceNumber: numbered(prefix, s + i) }));
        const res = await fetch(`${running.url}/v1/invoices/batch`, { method: 'POST', headers: { authorization: `Bearer ${issuer}`, 'content-type': 'application/json' }, body: JSON.stringify({ invoices }) });
        const body = (await res.json()) as { created?: number };
        if (res.status !== 200 || body.created !== invoices.length) throw new Error(`JSON batch: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      }
      return performance.now() - t0;
    };
    await jsonBatch(2, 300);

    // The CLI as a process.
    const cliDir = path.join(work, 'cli');
    const documentBytes = writeDocuments(cliDir, 10, n);
    const c0 = performance.now();
    const cli = await runCli(['import', cliDir, '--api', running.url, '--key', issuer, '--batch', String(batchSize), '--json']);
    const cliMs = performance.now() - c0;
    if (cli.code !== 0) throw new Error(`tianfu import exited ${cli.code}: ${cli.err.slice(0, 300)} ${cli.out.slice(0, 300)}`);
    const summary = (JSON.parse(cli.out) as { summary: { created: number } }).summary;
    if (summary.created !== n) throw new Error(`tianfu import registered ${summary.created} of ${n}`);

    // The import function in this process, then JSON, alternating once more the other way round.
    const inDir = path.join(work, 'in');
    writeDocuments(inDir, 11, n);
    const i0 = performance.now();
    const r = await runImport([inDir], { api: running.url, key: issuer, batch: batchSize, json: true });
    const importMs = performance.now() - i0;
    if (r.results.some((x) => x.outcome !== 'created')) throw new Error('in-process import: not every document registered');
    const jsonMs = await jsonBatch(12, n);

    const result: BenchInvoicesXmlResult = {
      machine: { cpus: os.cpus().length, node: process.version },
      documents: n,
      batchSize,
      documentBytes,
      cliXmlPerSec: round(n / (cliMs / 1000), 0),
      cliSeconds: round(cliMs / 1000),
      importXmlPerSec: round(n / (importMs / 1000), 0),
      jsonBatchPerSec: round(n / (jsonMs / 1000), 0),
      xmlOverJson: round(jsonMs / importMs),
      perDocumentUs,
    };
    log(`  tianfu import (process): ${result.cliXmlPerSec} XML invoices/s (${result.cliSeconds} s for ${n}, process start included)`);
    log(`  import (in process):     ${result.importXmlPerSec} XML invoices/s`);
    log(`  JSON batch route:        ${result.jsonBatchPerSec} invoices/s   (XML/JSON ${result.xmlOverJson})`);
    log(`  XML path per document:   parse ${perDocumentUs.parse} µs, map + validate ${perDocumentUs.mapAndValidate} µs, SHA-256 + SM3 ${perDocumentUs.digests} µs (${documentBytes} bytes)`);
    return result;
  } finally {
    await running.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  benchInvoicesXml(n !== undefined ? { documents: n } : {}).then(
    (r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'),
    (err: unknown) => {
      process.stderr.write(String((err as Error).stack ?? err) + '\n');
      process.exitCode = 1;
    },
  );
}
