/**
 * Storage per invoice: LevelDB keys and bytes (key + value) written per invoice registered through
 * `POST /v1/invoices/batch` on a real node (state map on, as the node's default), counted by reading
 * the whole database back after the run and grouping keys by their prefix. Since receipts v2 nothing
 * per record is written for the receipt; before, each record had a cached v1 receipt (`!seq!c…`), whose
 * size is taken here from a real v1 receipt (test/fixtures/receipt-v1), so the "before" figure is this
 * run's plus that key and value per record and minus the group checkpoints.
 *
 * Standalone: `npx tsx scripts/bench/storage.ts [invoices]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../node';
import { startServer } from '../../api/server';
import { SELLER_TAX_ID, sampleInvoice } from '../../test/invoice/fixtures';

export interface StorageBenchResult {
  invoices: number;
  groups: number;
  keysPerInvoice: number;
  bytesPerInvoice: number;
  /** What each key prefix holds, per invoice. */
  byPrefix: Record<string, { keys: number; bytes: number }>;
  /** The same log with receipts v1 (one cached receipt per record, no group checkpoints). */
  beforeV2: { keysPerInvoice: number; bytesPerInvoice: number };
}

/** `!seq!r000…` → `!seq!r`; `!log!n03…` → `!log!n`; `!inv!n…` → `!inv!n`. */
function prefixOf(key: string): string {
  const m = /^(![a-z]+!)([a-zA-Z]{0,2})/.exec(key);
  return m ? m[1]! + (m[2]![0] ?? '') : key.slice(0, 6);
}

export async function benchStorage(opts: { invoices?: number; log?: (l: string) => void } = {}): Promise<StorageBenchResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const n = opts.invoices ?? 2000;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-bench-storage-'));
  const config = loadConfig({ TIANFU_DATA_DIR: dataDir, TIANFU_PORT: '0', TIANFU_HOST: '127.0.0.1', TIANFU_CHAIN_PORT: '0', TIANFU_LOG_LEVEL: 'silent', TIANFU_RATE_LIMIT_PER_MIN: '0', TIANFU_MAX_BODY_BYTES: String(8 * 1024 * 1024), TIANFU_CHECKPOINT_INTERVAL_MS: '3600000' });
  const running = await startServer(config, pino({ level: 'silent' }));
  try {
    const { ledger } = running;
    const issuer = (await ledger.keys.create({ role: 'issuer', taxId: SELLER_TAX_ID, name: 'bench' })).key;
    // Keys and bytes before the invoices (API keys, the log's own metadata): not the invoices'.
    const count = async (): Promise<Map<string, { keys: number; bytes: number }>> => {
      const out = new Map<string, { keys: number; bytes: number }>();
      for await (const [k, v] of ledger.db.iterator({ keyEncoding: 'utf8', valueEncoding: 'buffer' })) {
        const p = prefixOf(k as string);
        const e = out.get(p) ?? { keys: 0, bytes: 0 };
        e.keys++;
        e.bytes += Buffer.byteLength(k as string) + (v as Buffer).length;
        out.set(p, e);
      }
      return out;
    };
    const base = await count();
    const groups0 = ledger.sequencer.stats.groups;
    for (let b = 0; b * 1000 < n; b++) {
      const invoices = Array.from({ length: Math.min(1000, n - b * 1000) }, (_, i) => sampleInvoice({ invoiceNumber: '2551209' + String(b * 1000 + i).padStart(13, '0') }));
      const res = await fetch(running.url + '/v1/invoices/batch', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${issuer}` }, body: JSON.stringify({ invoices }) });
      const body = (await res.json()) as { created: number };
      if (res.status !== 200 || body.created !== invoices.length) throw new Error(`batch ${b}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      // The state map is written once per epoch, at its state root: one after every batch (an epoch of
      // 1 000 invoices, shorter than a node's one-second epoch at these rates), so its keys are counted.
      await ledger.sequencer.appendStateRoot();
    }
    const groups = ledger.sequencer.stats.groups - groups0;
    const after = await count();
    const byPrefix: StorageBenchResult['byPrefix'] = {};
    let keys = 0;
    let bytes = 0;
    for (const [p, e] of after) {
      const d = { keys: e.keys - (base.get(p)?.keys ?? 0), bytes: e.bytes - (base.get(p)?.bytes ?? 0) };
      if (d.keys === 0 && d.bytes === 0) continue;
      byPrefix[p] = { keys: Math.round((d.keys / n) * 1000) / 1000, bytes: Math.round((d.bytes / n) * 10) / 10 };
      keys += d.keys;
      bytes += d.bytes;
    }
    // Before v2: a cached v1 receipt per record (key !seq!c<40 hex>!<12 hex>, value its JSON), no group keys.
    const v1 = JSON.stringify((JSON.parse(fs.readFileSync(path.join(__dirname, '../../test/fixtures/receipt-v1/responses.json'), 'utf8')) as { single: { receipt: unknown } }).single.receipt);
    const receiptKeyBytes = '!seq!c'.length + 40 + 1 + 12;
    const g = after.get('!seq!g');
    const beforeKeys = keys + n - (g?.keys ?? 0);
    const beforeBytes = bytes + n * (receiptKeyBytes + Buffer.byteLength(v1)) - (g?.bytes ?? 0);
    const result: StorageBenchResult = {
      invoices: n,
      groups,
      keysPerInvoice: Math.round((keys / n) * 1000) / 1000,
      bytesPerInvoice: Math.round((bytes / n) * 10) / 10,
      byPrefix,
      beforeV2: { keysPerInvoice: Math.round((beforeKeys / n) * 1000) / 1000, bytesPerInvoice: Math.round((beforeBytes / n) * 10) / 10 },
    };
    log(`storage: ${n} invoices in ${groups} group commits: ${result.keysPerInvoice} keys, ${result.bytesPerInvoice} bytes per invoice (with v1 receipts: ${result.beforeV2.keysPerInvoice} keys, ${result.beforeV2.bytesPerInvoice} bytes)`);
    for (const [p, e] of Object.entries(byPrefix)) log(`  ${p.padEnd(8)} ${String(e.keys).padStart(7)} keys ${String(e.bytes).padStart(8)} bytes per invoice`);
    return result;
  } finally {
    await running.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchStorage({ invoices: Number(process.argv[2] ?? 2000) }).then(
    (r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'),
    (err: unknown) => {
      process.stderr.write(`storage bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
