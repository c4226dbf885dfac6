/**
 * CPU profile of the request thread while POST /v1/invoices (single) or /v1/invoices/batch runs.
 * `npx tsx scripts/bench/profile-http.ts single|batch [count]` — prints self time by function and by file and writes
 * bench-out/profiles/http-single|batch.cpuprofile (open in Chrome DevTools). Not part of `npm run bench`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../node';
import { startServer } from '../../api/server';
import { SELLER_TAX_ID, sampleInvoice } from '../../test/invoice/fixtures';
import { runClients } from './invoices-http';
import { startProfiler } from './profiler';

function run(url: string, route: string, headers: Record<string, string>, bodies: string[], concurrency: number): Promise<{ ms: number; st: Record<string, number> }> {
  return runClients(url, route, headers, bodies, concurrency).then((o) => ({ ms: o.elapsedMs, st: o.statuses }));
}
const numbered = (prefix: number, n: number): string => '2551' + String(prefix) + String(n).padStart(16 - String(prefix).length, '0');

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'single';
  const count = Number(process.argv[3] ?? (mode === 'single' ? 8000 : 20));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-prof-'));
  const config = loadConfig({
    TIANFU_DATA_DIR: dataDir, TIANFU_PORT: '0', TIANFU_HOST: '127.0.0.1', TIANFU_CHAIN_PORT: '0',
    TIANFU_LOG_LEVEL: 'silent', TIANFU_RATE_LIMIT_PER_MIN: '0', TIANFU_DURABLE: 'true', TIANFU_MAX_BODY_BYTES: String(8 << 20),
    ...(process.env.TIANFU_STATE_MAP ? { TIANFU_STATE_MAP: process.env.TIANFU_STATE_MAP } : {}),
  });
  const running = await startServer(config, pino({ level: 'silent' }));
  const { ledger } = running;
  const issuer = (await ledger.keys.create({ role: 'issuer', taxId: SELLER_TAX_ID, name: 'bench' })).key;
  const auth = { authorization: `Bearer ${issuer}` };
  const body = (prefix: number, n: number) => JSON.stringify(sampleInvoice({ invoiceNumber: numbered(prefix, n) }));
  await run(running.url, '/v1/invoices', auth, Array.from({ length: 3000 }, (_, i) => body(1, i)), 32);
  const bodies = mode === 'single'
    ? Array.from({ length: count }, (_, i) => body(2, i))
    : Array.from({ length: count }, (_, b) => JSON.stringify({ invoices: Array.from({ length: 1000 }, (_, i) => sampleInvoice({ invoiceNumber: numbered(3, b * 1000 + i) })) }));
  const profiler = await startProfiler();
  const r = await run(running.url, mode === 'single' ? '/v1/invoices' : '/v1/invoices/batch', auth, bodies, mode === 'single' ? 32 : 2);
  const invoices = mode === 'single' ? count : count * 1000;
  const summary = await profiler.stop(`http-${mode}`, invoices, 'invoice');
  console.log(`${mode}: ${invoices} invoices in ${r.ms.toFixed(0)} ms = ${((invoices * 1000) / r.ms).toFixed(0)}/s ${JSON.stringify(r.st)}\n${summary}`);
  await running.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}
void main();
