/**
 * The state map's own cost per record, alone on a real LevelDB (no sequencer, no load generator, so
 * the figure moves little between runs): `npx tsx scripts/bench/profile-state-store.ts [subjects]`
 * (default 100 000) grows a map in groups of 250 new subjects, a state root every 16 groups (epochs of
 * 4 000, one a second at the node's rate), and prints the time in prepare + commit per record over the
 * last 40 % of the growth (the tree update, the leaves, the write-out ops; not the LevelDB write).
 * PROF=1 adds a CPU profile of that part (bench-out/profiles/state-store.cpuprofile), HEAP=1 the bytes
 * allocated per record by function (sampled, collected objects included). Not part of `npm run bench`.
 */
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { startProfiler } from './profiler';
import { openDatabase, writeOps } from '../../node/store/db';
import { StateMapStore, type MapChange } from '../../node/state/state-map-store';
import { mapKey, toHex } from '../../node/protocol';

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** Bytes per record by allocating function and its caller, largest first. */
function allocationTable(head: SamplingNode, records: number): string {
  const by = new Map<string, number>();
  const walk = (n: SamplingNode, caller: string): void => {
    const here = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop() ?? ''}`;
    if (n.selfSize > 0) by.set(`${here} < ${caller}`, (by.get(`${here} < ${caller}`) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c, here);
  };
  walk(head, '');
  const total = [...by.values()].reduce((a, b) => a + b, 0);
  const rows = [...by].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, v]) => `${(v / records).toFixed(0).padStart(7)} B/record  ${k}`);
  return [`allocated ~${(total / records).toFixed(0)} bytes/record (sampled)`, ...rows].join('\n');
}

async function main(): Promise<void> {
  const subjects = Number(process.argv[2] ?? 100_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-bench-smt-profile-'));
  const db = await openDatabase(dir);
  try {
    const map = await StateMapStore.open(db);
    const GROUP = 250;
    const at = new Date().toISOString();
    let index = 0;
    let g = 0;
    let ms = 0;
    let measured = 0;
    let profiler: Awaited<ReturnType<typeof startProfiler>> | null = null;
    let heap: inspector.Session | null = null;
    while (index < subjects) {
      const changes: MapChange[] = [];
      for (let j = 0; j < GROUP; j++, index++) changes.push({ kind: 'invoice.issued', subject: toHex(mapKey(`subject ${index}`)), at, index, leafHash: toHex(mapKey(`leaf ${index}`)), fresh: true });
      const rootAt = g > 0 && g % 16 === 0 ? index - changes.length : undefined;
      const tail = index > subjects * 0.6;
      if (tail && process.env.PROF && profiler === null) profiler = await startProfiler();
      if (tail && process.env.HEAP && heap === null) {
        heap = new inspector.Session();
        heap.connect();
        await heap.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
      }
      const t0 = performance.now();
      const u = await map.prepare(changes, index, rootAt);
      const t1 = performance.now();
      await writeOps(db, u.ops, { sync: false });
      const t2 = performance.now();
      u.commit();
      if (tail) {
        ms += t1 - t0 + (performance.now() - t2);
        measured += changes.length;
      }
      g++;
    }
    console.log(`state map, ${subjects} subjects: prepare + commit ${((1000 * ms) / measured).toFixed(1)} µs/record over the last ${measured}; ${(map.stats.nodeWrites / subjects).toFixed(2)} node writes per record, ${map.stats.nodeReads} node reads`);
    if (heap) {
      const r = (await heap.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SamplingNode } };
      console.log(allocationTable(r.profile.head, measured));
      heap.disconnect();
    }
    if (profiler) console.log(await profiler.stop('state-store', measured, 'record'));
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
void main();
