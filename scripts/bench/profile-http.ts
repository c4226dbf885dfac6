/**
 * CPU profile of the request thread while POST /v1/invoices (single) or /v1/invoices/batch runs.
 * `npx tsx scripts/bench/profile-http.ts single|batch [count]` — prints self time by function and by file and writes
 * bench-out/profiles/http-single|batch.cpuprofile (open in Chrome DevTools). Not part of `npm run bench`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector';
import pino from 'pino';
import { loadConfig } from '../../node';
import { startServer } from '../../api/server';
import { SELLER_TAX_ID, sampleInvoice } from '../../test/invoice/fixtures';
import { Worker } from 'node:worker_threads';

const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, path, headers, bodies, concurrency } = workerData;
const u = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method: 'POST', agent,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => {}); res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject); req.end(body);
  });
}
(async () => { let next = 0; const t0 = performance.now(); const st = {};
  await Promise.all(Array.from({ length: concurrency }, async () => { for (;;) { const i = next++; if (i >= bodies.length) return; const s = await post(bodies[i]); st[s] = (st[s]||0)+1; } }));
  parentPort.postMessage({ ms: performance.now() - t0, st }); agent.destroy(); })();
`;
function run(url: string, route: string, headers: Record<string, string>, bodies: string[], concurrency: number): Promise<{ ms: number; st: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT, { eval: true, workerData: { url, path: route, headers, bodies, concurrency } });
    w.once('message', (m) => { void w.terminate(); resolve(m); });
    w.once('error', reject);
  });
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
  const s = new Session();
  s.connect();
  const post = <T>(m: string, p?: object) => new Promise<T>((res, rej) => s.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r as T))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  const r = await run(running.url, mode === 'single' ? '/v1/invoices' : '/v1/invoices/batch', auth, bodies, mode === 'single' ? 32 : 2);
  const { profile } = await post<{ profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]; samples: number[]; timeDeltas: number[] } }>('Profiler.stop');
  const invoices = mode === 'single' ? count : count * 1000;
  console.log(`${mode}: ${invoices} invoices in ${r.ms.toFixed(0)} ms = ${(invoices * 1000 / r.ms).toFixed(0)}/s ${JSON.stringify(r.st)}`);
  fs.mkdirSync('bench-out/profiles', { recursive: true });
  fs.writeFileSync(`bench-out/profiles/http-${mode}.cpuprofile`, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>(); const file = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!; const f = n.callFrame;
    const short = f.url.replace(/^.*\/(node_modules\/[^/]+|node|api|scripts)\//, '$1/');
    const k = `${f.functionName || '(anon)'} ${short}:${f.lineNumber}`;
    fn.set(k, (fn.get(k) ?? 0) + t); file.set(short || f.functionName, (file.get(short || f.functionName) ?? 0) + t);
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `  ${(100 * t / total).toFixed(1).padStart(5)}%  ${(t / invoices).toFixed(1).padStart(7)} µs/inv  ${k}`).join('\n');
  console.log(`total sampled ${(total / 1000).toFixed(0)} ms = ${(total / invoices).toFixed(1)} µs/invoice\nby function:\n${top(fn, 45)}\nby file:\n${top(file, 30)}`);
  await running.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}
void main();
