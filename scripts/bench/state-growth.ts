/**
 * How the node's durable records/s and CPU per record move as the log grows, with and without the
 * state map: `npx tsx scripts/bench/state-growth.ts [segments] [records per segment]` (defaults 5 and
 * 20 000, 256 submitters, one node at a time, the map's node then the node without it). The state-map
 * module of `npm run bench` compares the two on small logs (a few thousand records); this shows the
 * trend beyond: the map's tree deepens (nodes written per record grow with log2 of subjects per epoch)
 * and its LevelDB keys spread over the whole key space. Prints, per segment: records/s, CPU µs per
 * record (process; and the node's main thread), the map's node writes per record and node reads.
 * Linux for the per-thread figure. Not part of `npm run bench` (~2 minutes).
 */
import fs from 'node:fs';
import { threadTicks } from './profiler';
import { startWriterLedger } from './writer-ledger';
import { issueRequest } from '../../test/node/fixtures/invoices';

/** CPU ticks (1/100 s) of this process's main thread, or NaN where /proc is missing. */
function mainThreadTicks(): number {
  for (const [k, v] of threadTicks()) if (k.endsWith(`#${process.pid}`)) return v;
  return Number.NaN;
}

interface Segment {
  records: number;
  recordsPerSecond: number;
  cpuUsPerRecord: number;
  mainThreadUsPerRecord: number;
  mapNodeWritesPerRecord: number | null;
  mapNodeReadsPerRecord: number | null;
}

async function grow(stateMap: boolean, segments: number, perSegment: number): Promise<Segment[]> {
  const { ledger, dir } = await startWriterLedger(stateMap, 'tianfu-bench-growth-');
  const out: Segment[] = [];
  try {
    let n = 1;
    for (let s = 0; s < segments; s++) {
      const reqs = Array.from({ length: perSegment }, () => issueRequest(n++));
      const map = ledger.sequencer.stateMap;
      const w0 = map?.stats.nodeWrites ?? 0;
      const r0 = map?.stats.nodeReads ?? 0;
      let next = 0;
      const c0 = process.cpuUsage();
      const m0 = mainThreadTicks();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 256 }, async () => { while (next < perSegment) await ledger.sequencer.submit(reqs[next++]!); }));
      if (map) await ledger.sequencer.appendStateRoot();
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(c0);
      out.push({
        records: n - 1,
        recordsPerSecond: Math.round((perSegment * 1000) / ms),
        cpuUsPerRecord: Math.round((cpu.user + cpu.system) / perSegment),
        mainThreadUsPerRecord: Math.round(((mainThreadTicks() - m0) * 10_000) / perSegment),
        mapNodeWritesPerRecord: map ? Math.round(((map.stats.nodeWrites - w0) / perSegment) * 100) / 100 : null,
        mapNodeReadsPerRecord: map ? Math.round(((map.stats.nodeReads - r0) / perSegment) * 100) / 100 : null,
      });
      const g = out[out.length - 1]!;
      console.log(`map ${stateMap ? 'on ' : 'off'} at ${g.records} records: ${g.recordsPerSecond} records/s, CPU ${g.cpuUsPerRecord} µs/record (main thread ${g.mainThreadUsPerRecord})${map ? `, map ${g.mapNodeWritesPerRecord} node writes and ${g.mapNodeReadsPerRecord} node reads per record` : ''}`);
    }
  } finally {
    await ledger.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function main(): Promise<void> {
  const segments = Number(process.argv[2] ?? 5);
  const perSegment = Number(process.argv[3] ?? 20_000);
  const on = await grow(true, segments, perSegment);
  const off = await grow(false, segments, perSegment);
  for (let i = 0; i < on.length; i++) {
    console.log(`at ${on[i]!.records} records: the map costs ${((1 - on[i]!.recordsPerSecond / off[i]!.recordsPerSecond) * 100).toFixed(1)} % of records/s, ${((1 - off[i]!.cpuUsPerRecord / on[i]!.cpuUsPerRecord) * 100).toFixed(1)} % of CPU`);
  }
  process.exit(0);
}
void main();
