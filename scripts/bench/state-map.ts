/**
 * State map benchmark (issue 14; docs/status-proofs.md): what the sparse Merkle state map costs on the
 * write path and what its proofs cost to carry and check.
 *
 *  1. node: real invoices through the sequencer of two real nodes (LevelDB, durable group commit,
 *     embedded chain, anchorer every 1000 ms, a state.root with every checkpoint on the one with the
 *     map), one with the map and one without, measured alternately (on, off, off, on; half the records
 *     each time) at 16 and 256 closed-loop submitters. records/s with and without, and the time spent
 *     in the map's update (StateMapStore.prepare) per record, timed inside the node.
 *  2. store: the LevelDB map alone, grown in groups of 250 (the node's group at 256 submitters) to
 *     BENCH_STATE_STORE subjects, each group prepared and written with sync: µs per record, node reads
 *     and writes per group, and the map-proof reads (O(depth)) at the end.
 *  3. proofs at 10^6 subjects (BENCH_STATE_SUBJECTS): the map of that many invoice subjects, built in
 *     one pass from the sorted keys (the same tree the node keeps in LevelDB); map proof siblings and bytes, map-proof verification
 *     time; the whole tianfu.status-proof/v1 document's size (a real one with its map part from the big
 *     map and its inclusion proof padded to a log of that size) and its offline verification time (a
 *     real, valid proof's bundle steps, which do not depend on the number of subjects, plus the map
 *     proof at 10^6). The on-chain reads (a few JSON-RPC calls) are not included.
 *
 * Standalone: `npx tsx scripts/bench/state-map.ts` (progress on stderr, JSON on stdout).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Ledger, type SubmitRequest } from '../../node';
import { startWriterLedger } from './writer-ledger';
import { EMPTY_SUBTREE, keyBit, leafValueHash, mapInternalNode, mapKey, mapLeafNode, mapNodeHash, nextStateLeaf, toHex, verifyMapProof, type Hex, type MapProof, type StateLeaf } from '../../node/protocol';
import { StateMapStore, type MapChange } from '../../node/state';
import { openDatabase, writeOps } from '../../node/store/db';
import { verifyStatusProofOffline, type StatusProof } from '../../node/verifier';
import { issueRequest } from '../../test/node/fixtures/invoices';
import { percentile } from './node';

export interface BenchStateMapOptions {
  /** Records per concurrency level in the node comparison. */
  records?: Record<number, number>;
  /** Subjects the LevelDB map is grown to. */
  storeSubjects?: number;
  /** Subjects of the in-memory map the proofs are measured at. */
  proofSubjects?: number;
  log?: (line: string) => void;
}

interface NodeLevel {
  concurrency: number;
  recordsPerSecondWithMap: number;
  recordsPerSecondWithoutMap: number;
  /** 1 − with/without, in percent. */
  costPercent: number;
  /** Process CPU time (all threads) per record, with and without: steadier than records/s on a shared machine. */
  cpuUsPerRecordWithMap: number;
  cpuUsPerRecordWithoutMap: number;
  /** 1 − (CPU per record without ÷ with), in percent: the throughput cost if CPU bound. */
  cpuCostPercent: number;
  /** Time in StateMapStore.prepare per record, inside the node (µs). */
  mapPrepareUsPerRecord: number;
  recordsPerGroup: number;
}

export interface BenchStateMapResult {
  cpus: number;
  /** os.loadavg() at the start and the end: on a shared machine the records/s depend on it. */
  loadAverage: { start: number[]; end: number[] };
  node: NodeLevel[];
  store: { subjects: number; groups: number; usPerRecord: { first: number; last: number; all: number }; nodeReadsPerGroup: number; nodeWritesPerGroup: number; keysWrittenPerRecord: number; proofReads: number; proofMs: number };
  proofs: { subjects: number; buildSeconds: number; siblingsP50: number; siblingsMax: number; mapProofBytes: number; statusProofBytes: number; verifyMapProofUs: number; verifyStatusProofOfflineUs: number };
  targets: { mapWithin15PercentAt256: boolean };
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const LEVELS = [16, 256];

async function closedLoop(concurrency: number, total: number, job: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await job(next++);
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function startLedger(stateMap: boolean): Promise<{ ledger: Ledger; dir: string; prepareMs: { ms: number; records: number } }> {
  const { ledger, dir } = await startWriterLedger(stateMap, 'tianfu-bench-smt-');
  const prepareMs = { ms: 0, records: 0 };
  const map = ledger.sequencer.stateMap;
  if (map) {
    // Times the map's share of the group commits: the leaves in every group; the tree's hashing (settle) and its write-out ops at each state root.
    const orig = map.prepare.bind(map);
    const settled = map.settledRoot.bind(map);
    map.settledRoot = async () => {
      const t = performance.now();
      try {
        return await settled();
      } finally {
        prepareMs.ms += performance.now() - t;
      }
    };
    map.prepare = async (changes, newSize, at) => {
      const t = performance.now();
      try {
        return await orig(changes, newSize, at);
      } finally {
        prepareMs.ms += performance.now() - t;
        prepareMs.records += changes.length;
      }
    };
  }
  return { ledger, dir, prepareMs };
}

async function benchNodes(records: Record<number, number>, log: (l: string) => void): Promise<NodeLevel[]> {
  const on = await startLedger(true);
  const off = await startLedger(false);
  try {
    let n = 1;
    const run = async (l: Ledger, c: number, total: number): Promise<{ seconds: number; groups: number; cpuUs: number }> => {
      const reqs: SubmitRequest[] = Array.from({ length: total }, () => issueRequest(n++));
      const g0 = l.sequencer.stats.groups;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await closedLoop(c, total, (i) => l.sequencer.submit(reqs[i]!));
      // The map is hashed and written once per epoch, at its state root: one is placed at the end of
      // every run on the node with the map (more often than the anchorer's one a second at these
      // rates), inside the timed window, so the runs pay for all the map work their records caused.
      if (l.sequencer.stateMap) await l.sequencer.appendStateRoot();
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(c0);
      return { seconds, groups: l.sequencer.stats.groups - g0, cpuUs: cpu.user + cpu.system };
    };
    for (const s of [on, off]) await run(s.ledger, 16, 300); // warm-up
    const out: NodeLevel[] = [];
    for (const c of LEVELS) {
      const half = Math.max(1, Math.floor((records[c] ?? 4000) / 2));
      const secs = new Map([[on, 0], [off, 0]]);
      const cpu = new Map([[on, 0], [off, 0]]);
      let groups = 0;
      const p0 = { ...on.prepareMs };
      for (const s of [on, off, off, on]) {
        const r = await run(s.ledger, c, half);
        secs.set(s, secs.get(s)! + r.seconds);
        cpu.set(s, cpu.get(s)! + r.cpuUs);
        if (s === on) groups += r.groups;
      }
      const withMap = (2 * half) / secs.get(on)!;
      const without = (2 * half) / secs.get(off)!;
      const prepMs = on.prepareMs.ms - p0.ms;
      const prepRecords = on.prepareMs.records - p0.records;
      const lvl: NodeLevel = {
        concurrency: c,
        recordsPerSecondWithMap: round(withMap, 0),
        recordsPerSecondWithoutMap: round(without, 0),
        costPercent: round((1 - withMap / without) * 100, 1),
        cpuUsPerRecordWithMap: round(cpu.get(on)! / (2 * half), 0),
        cpuUsPerRecordWithoutMap: round(cpu.get(off)! / (2 * half), 0),
        cpuCostPercent: round((1 - cpu.get(off)! / cpu.get(on)!) * 100, 1),
        mapPrepareUsPerRecord: round((1000 * prepMs) / Math.max(1, prepRecords), 1),
        recordsPerGroup: round((2 * half) / Math.max(1, groups), 1),
      };
      log(`state-map node c=${c}: ${lvl.recordsPerSecondWithMap} rec/s with the map, ${lvl.recordsPerSecondWithoutMap} without (${lvl.costPercent} %); CPU ${lvl.cpuUsPerRecordWithMap} vs ${lvl.cpuUsPerRecordWithoutMap} µs/record (${lvl.cpuCostPercent} %); map update ${lvl.mapPrepareUsPerRecord} µs/record, ${lvl.recordsPerGroup} records/commit`);
      out.push(lvl);
    }
    return out;
  } finally {
    for (const s of [on, off]) {
      await s.ledger.stop().catch(() => undefined);
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  }
}

const fakeLeafHash = (i: number): Hex => toHex(mapKey(`leaf ${i}`));

async function benchStore(subjects: number, log: (l: string) => void): Promise<BenchStateMapResult['store']> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-bench-smt-store-'));
  const db = await openDatabase(dir);
  try {
    const map = await StateMapStore.open(db);
    const GROUP = 250;
    const groups = Math.ceil(subjects / GROUP);
    const perGroupUs: number[] = [];
    let keys = 0;
    let index = 0;
    const at = new Date().toISOString();
    for (let g = 0; g < groups; g++) {
      const changes: MapChange[] = [];
      for (let j = 0; j < GROUP && index < subjects; j++, index++) changes.push({ kind: 'invoice.issued', subject: toHex(mapKey(`subject ${index}`)), at, index, leafHash: fakeLeafHash(index) });
      // A state root every 4 groups (about one per checkpoint at 1 000 records/s).
      const rootAt = g > 0 && g % 4 === 0 ? index - changes.length : undefined;
      const t = performance.now();
      const u = await map.prepare(changes, index, rootAt);
      keys += u.ops.length;
      await writeOps(db, u.ops, { sync: true });
      u.commit();
      perGroupUs.push((1000 * (performance.now() - t)) / changes.length);
      if ((g + 1) % 100 === 0) log(`state-map store: ${index} subjects, ${round(perGroupUs[perGroupUs.length - 1]!, 1)} µs/record`);
    }
    const tail = (xs: number[]) => xs.slice(-Math.max(1, Math.floor(xs.length / 10)));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    await map.flush(); // the open epoch's overlay to disk, as the node's close does (proofs read the disk)
    const reads0 = map.stats.nodeReads;
    const t = performance.now();
    const N = 200;
    for (let i = 0; i < N; i++) await map.proofAt(toHex(mapKey(`subject ${(i * 7919) % subjects}`)), map.epoch);
    const proofMs = (performance.now() - t) / N;
    return {
      subjects,
      groups,
      usPerRecord: { first: round(mean(perGroupUs.slice(0, 10)), 1), last: round(mean(tail(perGroupUs)), 1), all: round(mean(perGroupUs), 1) },
      nodeReadsPerGroup: round(map.stats.nodeReads / groups, 0),
      nodeWritesPerGroup: round(map.stats.nodeWrites / groups, 0),
      keysWrittenPerRecord: round(keys / subjects, 2),
      proofReads: round((map.stats.nodeReads - reads0) / N, 1),
      proofMs: round(proofMs, 2),
    };
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A real status proof from a small node with the map: the shape whose map part is swapped for the 10^6 map's. */
async function sampleStatusProof(): Promise<StatusProof> {
  const s = await startLedger(true);
  try {
    const a = await s.ledger.sequencer.submit(issueRequest(1));
    await s.ledger.sequencer.appendStateRoot();
    const size = s.ledger.log.size;
    const deadline = Date.now() + 30_000;
    while ((s.ledger.anchorer.status().anchored?.treeSize ?? 0) < size) {
      if (Date.now() > deadline) throw new Error('bench: sample status proof not anchored');
      await new Promise((r) => setTimeout(r, 20));
    }
    return await s.ledger.statusProof('invoice', a.subject);
  } finally {
    await s.ledger.stop().catch(() => undefined);
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
}

/**
 * The map's root and the proofs of `sampled` items, built in one pass over the items sorted by key
 * (the definition of node/protocol/state-map.ts, as the test's reference does): 2n hashes, no stored
 * nodes, so 10^6 subjects take seconds. The same tree MemoryMap and the LevelDB map keep (the property
 * test holds them to this definition).
 */
function bulkProofs(items: { key: Uint8Array; valueHash: Uint8Array; id: number }[], sampled: Set<number>): { root: Hex; proofs: Map<number, MapProof> } {
  items.sort((a, b) => Buffer.compare(a.key, b.key));
  const pos = items.flatMap((it, i) => (sampled.has(it.id) ? [i] : []));
  const siblings = new Map<number, Hex[]>(pos.map((i) => [i, []]));
  const proofs = new Map<number, MapProof>();
  const firstAtOrAbove = (xs: number[], v: number): number => {
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (xs[m]! < v) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  const rec = (depth: number, lo: number, hi: number): Uint8Array => {
    if (hi - lo === 0) return EMPTY_SUBTREE;
    if (hi - lo === 1) {
      const it = items[lo]!;
      if (siblings.has(lo)) proofs.set(it.id, { siblings: siblings.get(lo)!, terminal: { type: 'leaf', key: toHex(it.key), valueHash: toHex(it.valueHash) } });
      return mapNodeHash(mapLeafNode(it.key, it.valueHash));
    }
    // Sorted by key: the items with bit `depth` = 1 come last.
    let a = lo;
    let b = hi;
    while (a < b) {
      const m = (a + b) >> 1;
      if (keyBit(items[m]!.key, depth) === 0) a = m + 1;
      else b = m;
    }
    const mid = a;
    const s0 = firstAtOrAbove(pos, lo);
    const s1 = firstAtOrAbove(pos, hi);
    const sm = firstAtOrAbove(pos, mid);
    // Siblings are listed from the root down: record this depth's before recursing.
    const slotL = pos.slice(s0, sm).map((i) => ({ i, at: siblings.get(i)!.push('0x' as Hex) - 1 }));
    const slotR = pos.slice(sm, s1).map((i) => ({ i, at: siblings.get(i)!.push('0x' as Hex) - 1 }));
    const lh = rec(depth + 1, lo, mid);
    const rh = rec(depth + 1, mid, hi);
    for (const { i, at } of slotL) siblings.get(i)![at] = toHex(rh);
    for (const { i, at } of slotR) siblings.get(i)![at] = toHex(lh);
    return mapNodeHash(mapInternalNode(lh, rh));
  };
  return { root: toHex(rec(0, 0, items.length)), proofs };
}

async function benchProofs(subjects: number, log: (l: string) => void): Promise<BenchStateMapResult['proofs']> {
  const sample = await sampleStatusProof();
  const at = new Date().toISOString();
  const leafOf = (i: number): StateLeaf => nextStateLeaf(undefined, { kind: 'invoice.issued', subject: toHex(mapKey(`subject ${i}`)), at }, i, fakeLeafHash(i));
  const SAMPLES = 500;
  const sampleIds = new Set(Array.from({ length: SAMPLES }, (_, s) => (s * 104_729) % subjects));
  const t0 = performance.now();
  // Every subject's (key, value hash): real leaves for the sampled ones, a stand-in hash for the rest
  // (the tree's shape, and so the proofs' length, depends on the keys only).
  const items: { key: Uint8Array; valueHash: Uint8Array; id: number }[] = new Array(subjects);
  const leaves = new Map<number, StateLeaf>();
  for (let i = 0; i < subjects; i++) {
    if (sampleIds.has(i)) {
      const l = leafOf(i);
      leaves.set(i, l);
      items[i] = { key: mapKey(l.subject), valueHash: leafValueHash(l), id: i };
    } else items[i] = { key: mapKey(toHex(mapKey(`subject ${i}`))), valueHash: mapKey(`value ${i}`), id: i };
  }
  const { root, proofs } = bulkProofs(items, sampleIds);
  const buildSeconds = (performance.now() - t0) / 1000;
  log(`state-map proofs: ${subjects} subjects built in ${round(buildSeconds, 1)} s`);
  const siblings: number[] = [];
  const docs: { subject: string; leaf: StateLeaf; proof: MapProof }[] = [];
  for (const i of sampleIds) {
    const leaf = leaves.get(i)!;
    const proof = proofs.get(i)!;
    siblings.push(proof.siblings.length);
    docs.push({ subject: leaf.subject, leaf, proof });
  }
  const t1 = performance.now();
  const R = 20;
  for (let r = 0; r < R; r++) for (const d of docs) verifyMapProof(root, d.subject, d.leaf, d.proof);
  const verifyMapProofUs = (1000 * (performance.now() - t1)) / (R * SAMPLES);
  // The whole document's size at 10^6: a real status proof (a small node) with its map part replaced by
  // the big map's proofs and its inclusion proof padded to a log of `subjects` entries (ceil(log2)).
  const depth = Math.ceil(Math.log2(subjects));
  const item = sample.bundle.items[0]!;
  const inclusion = item.inclusion ? { ...item.inclusion, proof: Array.from({ length: depth }, (_, k) => item.inclusion!.proof[k] ?? fakeLeafHash(k)) } : null;
  const sized = docs.slice(0, 50).map((d) => JSON.stringify({ ...sample, subject: d.subject, leaf: d.leaf, mapProof: d.proof, bundle: { ...sample.bundle, items: [{ ...item, inclusion }] } }).length);
  const statusProofBytes = Math.round(sized.reduce((a, b) => a + b, 0) / sized.length);
  // Offline verification of the real, valid proof (every step but the chain reads): its bundle part
  // does not depend on the number of subjects; add the map-proof difference to get the 10^6 figure.
  const sampleJson = JSON.stringify(sample);
  const check = verifyStatusProofOffline(JSON.parse(sampleJson));
  if (check.firstFailure?.status === 'failed') throw new Error(`bench: the sample status proof fails ${check.firstFailure.name}`);
  const V = 200;
  const t2 = performance.now();
  for (let r = 0; r < V; r++) verifyStatusProofOffline(JSON.parse(sampleJson));
  const sampleUs = (1000 * (performance.now() - t2)) / V;
  const t3 = performance.now();
  for (let r = 0; r < V; r++) verifyMapProof(sample.stateRoot.root, sample.subject, sample.leaf, sample.mapProof);
  const sampleMapUs = (1000 * (performance.now() - t3)) / V;
  const verifyStatusProofOfflineUs = sampleUs - sampleMapUs + verifyMapProofUs;
  siblings.sort((a, b) => a - b);
  const out = {
    subjects,
    buildSeconds: round(buildSeconds, 1),
    siblingsP50: percentile(siblings, 50),
    siblingsMax: siblings[siblings.length - 1]!,
    mapProofBytes: Math.round(docs.reduce((n, d) => n + JSON.stringify(d.proof).length, 0) / docs.length),
    statusProofBytes,
    verifyMapProofUs: round(verifyMapProofUs, 1),
    verifyStatusProofOfflineUs: round(verifyStatusProofOfflineUs, 0),
  };
  log(`state-map proofs at ${subjects} subjects: ${out.siblingsP50} siblings (max ${out.siblingsMax}), map proof ${out.mapProofBytes} B, status proof ${out.statusProofBytes} B, map-proof check ${out.verifyMapProofUs} µs, whole proof offline ${out.verifyStatusProofOfflineUs} µs`);
  return out;
}

function sizes(env: string | undefined, dflt: Record<number, number>): Record<number, number> {
  if (!env) return dflt;
  const out = { ...dflt };
  for (const part of env.split(',')) {
    const [c, n] = part.split(':').map(Number);
    if (!Number.isInteger(c) || !Number.isInteger(n) || n! < 1) throw new Error(`bad size spec ${JSON.stringify(part)}: want concurrency:count`);
    out[c!] = n!;
  }
  return out;
}

export async function benchStateMap(opts: BenchStateMapOptions = {}): Promise<BenchStateMapResult> {
  const log = opts.log ?? (() => undefined);
  const loadStart = os.loadavg().map((x) => round(x, 1));
  const records = opts.records ?? sizes(process.env.BENCH_STATE_NODE, { 16: 6000, 256: 20000 });
  const storeSubjects = opts.storeSubjects ?? Number(process.env.BENCH_STATE_STORE ?? 100_000);
  const proofSubjects = opts.proofSubjects ?? Number(process.env.BENCH_STATE_SUBJECTS ?? 1_000_000);
  const node = await benchNodes(records, log);
  const store = await benchStore(storeSubjects, log);
  log(`state-map store: ${store.subjects} subjects, ${store.usPerRecord.all} µs/record (first groups ${store.usPerRecord.first}, last ${store.usPerRecord.last}), ${store.nodeReadsPerGroup} node reads and ${store.nodeWritesPerGroup} nodes changed per group of 250, ${store.keysWrittenPerRecord} LevelDB keys written per record, a proof ${store.proofReads} reads in ${store.proofMs} ms`);
  const proofs = await benchProofs(proofSubjects, log);
  return { cpus: os.cpus().length, loadAverage: { start: loadStart, end: os.loadavg().map((x) => round(x, 1)) }, node, store, proofs, targets: { mapWithin15PercentAt256: node.filter((n) => n.concurrency === 256).every((n) => n.costPercent <= 15) } };
}

if (require.main === module) {
  benchStateMap({ log: (l) => process.stderr.write(l + '\n') })
    .then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'))
    .catch((err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    });
}
