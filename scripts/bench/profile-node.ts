/**
 * CPU profile of the node's thread while records go through Sequencer.submit (256 submitters), with or
 * without the state map: `npx tsx scripts/bench/profile-node.ts on|off|storage [records]`. Prints self time by function and file
 * and CPU per record by thread (Linux); writes bench-out/profiles/node-on|off|storage.cpuprofile (open in Chrome DevTools).
 * `storage` is the node without the map that writes, in every group's batch, as many keys and bytes a record
 * as the map writes (scripts/bench/storage.ts: one 473-byte leaf at a random key, 3.16 65-byte nodes under
 * position-like keys of the group's epoch), with no map work: what the map's storage alone costs.
 * NOPROF=1 runs without the profiler (its overhead is ~10-20 %). Not part of `npm run bench`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { startProfiler, threadTicks } from './profiler';
import { startWriterLedger } from './writer-ledger';
import { issueRequest } from '../../test/node/fixtures/invoices';
import type { Database } from '../../node/store/db';

/**
 * Makes every batch on `db` that holds log entries also put the state map's keys and bytes for as many
 * records (no map work: values are slices of one random buffer, keys slices of its hex).
 */
function addMapLikeStorage(db: Database): void {
  const pool = randomBytes(1 << 22);
  const poolHex = pool.toString('hex');
  let at = 0;
  const next = (n: number): number => {
    if (at + n > pool.length) at = 0;
    const here = at;
    at += n + 1;
    return here;
  };
  const bytes = (n: number): Uint8Array => pool.subarray(next(n), at - 1);
  const hex = (n: number): string => { const i = next(n); return poolHex.slice(2 * i, 2 * (i + n)); };
  let epoch = 0;
  const batch = db.batch.bind(db);
  db.batch = ((): ReturnType<Database['batch']> => {
    const b = batch();
    const put = b.put.bind(b);
    let records = 0;
    b.put = ((key: string, value: Uint8Array, options: never) => {
      if (key.startsWith('!log!e')) records++;
      return put(key, value, options);
    }) as typeof b.put;
    const write = b.write.bind(b);
    b.write = ((options: never) => {
      const suffix = '!' + (++epoch).toString(16).padStart(10, '0');
      for (let i = 0; i < records; i++) {
        put('!dum!v' + hex(32), bytes(473));
        const nodes = 3 + (Math.random() < 0.16 ? 1 : 0);
        for (let j = 0; j < nodes; j++) put('!dum!h' + (12 + j).toString(16).padStart(3, '0') + hex(3) + suffix, bytes(65));
      }
      return write(options);
    }) as typeof b.write;
    return b;
  }) as typeof db.batch;
}

async function main(): Promise<void> {
  const mode = process.argv[2] === 'off' || process.argv[2] === 'storage' ? process.argv[2] : 'on';
  const on = mode === 'on';
  const total = Number(process.argv[3] ?? 20000);
  const { ledger, dir } = await startWriterLedger(on, 'tianfu-prof-node-');
  if (mode === 'storage') addMapLikeStorage(ledger.db);
  let n = 1;
  const loop = async (c: number, count: number): Promise<number> => {
    const reqs = Array.from({ length: count }, () => issueRequest(n++));
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: c }, async () => { while (next < count) await ledger.sequencer.submit(reqs[next++]!); }));
    if (ledger.sequencer.stateMap) await ledger.sequencer.appendStateRoot();
    return performance.now() - t0;
  };
  await loop(16, 2000);
  // Linux: CPU ticks per thread from /proc (elsewhere nothing is shown per thread).
  const th0 = threadTicks();
  const c0 = process.cpuUsage();
  const profiler = process.env.NOPROF ? null : await startProfiler();
  const ms = await loop(256, total);
  const cpu = process.cpuUsage(c0);
  const th1 = threadTicks();
  const byName = new Map<string, number>();
  for (const [k, v] of th1) { const tid = k.split('#')[1]!; const name = tid === String(process.pid) ? 'main' : k.split('#')[0]! + '-' + (v - (th0.get(k) ?? 0) > 50 ? tid : 'small'); byName.set(name, (byName.get(name) ?? 0) + v - (th0.get(k) ?? 0)); }
  console.log('threads (µs CPU per record): ' + [...byName].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${((v * 10000) / total).toFixed(0)}`).join(', '));
  console.log(`map ${mode}: ${total} records in ${ms.toFixed(0)} ms = ${(total * 1000 / ms).toFixed(0)}/s, CPU ${((cpu.user + cpu.system) / total).toFixed(0)} µs/record`);
  if (profiler) console.log(await profiler.stop(`node-${mode}`, total, 'record'));
  await ledger.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
void main();
