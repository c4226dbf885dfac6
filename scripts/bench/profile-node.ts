/**
 * CPU profile of the node's thread while records go through Sequencer.submit (256 submitters), with or
 * without the state map: `npx tsx scripts/bench/profile-node.ts on|off [records]`. Prints self time by function and file
 * and CPU per record by thread (Linux); writes bench-out/profiles/node-on|off.cpuprofile (open in Chrome DevTools).
 * NOPROF=1 runs without the profiler (its overhead is ~10-20 %). Not part of `npm run bench`.
 */
import fs from 'node:fs';
import { startProfiler, threadTicks } from './profiler';
import { startWriterLedger } from './writer-ledger';
import { issueRequest } from '../../test/node/fixtures/invoices';

async function main(): Promise<void> {
  const on = process.argv[2] !== 'off';
  const total = Number(process.argv[3] ?? 20000);
  const { ledger, dir } = await startWriterLedger(on, 'tianfu-prof-node-');
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
  console.log(`map ${on}: ${total} records in ${ms.toFixed(0)} ms = ${(total * 1000 / ms).toFixed(0)}/s, CPU ${((cpu.user + cpu.system) / total).toFixed(0)} µs/record`);
  if (profiler) console.log(await profiler.stop(`node-${on ? 'on' : 'off'}`, total, 'record'));
  await ledger.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
void main();
