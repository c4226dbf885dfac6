/**
 * Node benchmark (issue 3): real invoices through the sequencer of a real node (LevelDB, embedded
 * chain, anchorer every 1000 ms), closed-loop submitters at 1, 16 and 256 concurrency, with the
 * durable group commit on and off in the same run. Per level: accepted records/s, ack latency
 * p50/p99, time from ack to anchored p50/p99 (an anchored checkpoint covering the record is
 * confirmed), gas per checkpoint and per record at the measured rate.
 *
 * The alternative, in the same run on the same embedded chain: one anchor transaction per record
 * (BareAnchor.anchorRecord, each submitter with its own funded key, waiting for its receipt), where
 * the ack IS the anchor: ack latency = transaction latency, gas per record = gas per transaction.
 *
 * Sizes: BENCH_NODE_RECORDS="1:600,16:3000,256:6000" (records per concurrency level),
 * BENCH_NODE_TX="1:100,16:400,256:800" (per-record transactions per level).
 * Standalone: `npx tsx scripts/bench/node.ts` (progress on stderr, JSON on stdout).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContractFactory, Contract, JsonRpcProvider, NonceManager, Wallet, parseEther, type TransactionReceipt } from 'ethers';
import { Ledger, loadConfig, sha256, toHex, utf8, type SubmitRequest } from '../../node';
import { loadArtifact } from '../../node/chain/artifacts';
import { issueRequest } from '../../test/node/fixtures/invoices';

export interface BenchNodeOptions {
  /** Records per concurrency level (sequencer). */
  records?: Record<number, number>;
  /** Per-record anchor transactions per concurrency level (alternative). */
  transactions?: Record<number, number>;
  checkpointIntervalMs?: number;
  log?: (line: string) => void;
}

export interface LevelResult {
  concurrency: number;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackToAnchoredP50Ms: number;
  ackToAnchoredP99Ms: number;
  checkpoints: number;
  /** Records per durable write (group commit); for per-record anchoring, 1. */
  recordsPerGroup: number;
  gasPerCheckpoint: number;
  gasPerRecord: number;
}

export interface BenchNodeResult {
  checkpointIntervalMs: number;
  cpus: number;
  durable: LevelResult[];
  nonDurable: LevelResult[];
  /** records/s with durability on ÷ off, per level. */
  durableVsNonDurable: { concurrency: number; ratio: number; costPercent: number }[];
  perRecordAnchoring: LevelResult[];
  targets: { ackToAnchoredP99WithinTwoIntervals: boolean; durabilityCostWithin20Percent: boolean };
}

const LEVELS = [1, 16, 256];

function parseSizes(env: string | undefined, dflt: Record<number, number>): Record<number, number> {
  if (!env) return dflt;
  const out: Record<number, number> = { ...dflt };
  for (const part of env.split(',')) {
    const [c, n] = part.split(':').map(Number);
    if (!Number.isInteger(c) || !Number.isInteger(n) || n! < 1) throw new Error(`bad size spec ${JSON.stringify(part)}: want concurrency:count`);
    out[c!] = n!;
  }
  return out;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** Runs `total` jobs with `concurrency` closed-loop workers; returns per-job (start, end, value). */
async function closedLoop<T>(concurrency: number, total: number, job: (i: number, worker: number) => Promise<T>): Promise<{ t0: number; t1: number; runs: { start: number; end: number; value: T }[] }> {
  let next = 0;
  const runs: { start: number; end: number; value: T }[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (next < total) {
        const i = next++;
        const start = performance.now();
        const value = await job(i, w);
        runs.push({ start, end: performance.now(), value });
      }
    }),
  );
  return { t0, t1: performance.now(), runs };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`bench: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function startLedger(durable: boolean, intervalMs: number): Promise<{ ledger: Ledger; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-bench-node-'));
  const ledger = await Ledger.start(
    loadConfig({ TIANFU_DATA_DIR: dir, TIANFU_CHAIN_PORT: '0', TIANFU_CHECKPOINT_INTERVAL_MS: String(intervalMs), TIANFU_DURABLE: String(durable), TIANFU_MMD_MS: '600000' }),
  );
  return { ledger, dir };
}

/** Raw observations of one run at one level on one node. */
interface Run {
  records: number;
  seconds: number;
  ackMs: number[];
  toAnchorMs: number[];
  gas: bigint;
  checkpoints: number;
  groups: number;
}

/** A node under measurement: records when each checkpoint is confirmed. */
interface Subject {
  label: string;
  ledger: Ledger;
  anchoredAt: { size: number; at: number; txHash: string }[];
}

function watch(label: string, ledger: Ledger): Subject {
  const s: Subject = { label, ledger, anchoredAt: [] };
  ledger.anchorer.onAnchored = (rec) => s.anchoredAt.push({ size: rec.treeSize, at: performance.now(), txHash: rec.txHash });
  return s;
}

const anchoredSize = (l: Ledger): number => l.anchorer.status().anchored?.treeSize ?? 0;

/**
 * One closed-loop run of `total` invoices at concurrency `c`, then waits until they are anchored.
 * Invoices are built and validated beforehand: what is measured is the sequencer (rules, salt,
 * commitment, durable group commit, signed receipt), with the anchorer running as in production.
 */
async function runOnce(s: Subject, c: number, total: number, invoice: { n: number }): Promise<Run> {
  const { ledger } = s;
  const reqs: SubmitRequest[] = Array.from({ length: total }, () => issueRequest(invoice.n++));
  const sizeBefore = ledger.log.size;
  const cpBefore = s.anchoredAt.length;
  const groupsBefore = ledger.sequencer.stats.groups;
  const { t0, t1, runs } = await closedLoop(c, total, (i) => ledger.sequencer.submit(reqs[i]!).then((a) => a.index));
  const groups = ledger.sequencer.stats.groups - groupsBefore;
  await waitFor(`${s.label} c=${c} anchored`, () => anchoredSize(ledger) >= sizeBefore + total, 60_000);
  const cps = s.anchoredAt.slice(cpBefore);
  const toAnchorMs = runs.map((r) => {
    const cp = cps.find((x) => x.size > r.value);
    if (!cp) throw new Error(`bench: no checkpoint covers index ${r.value}`);
    return cp.at - r.end;
  });
  let gas = 0n;
  for (const cp of cps) gas += (await ledger.provider.getTransactionReceipt(cp.txHash))?.gasUsed ?? 0n;
  return { records: total, seconds: (t1 - t0) / 1000, ackMs: runs.map((r) => r.end - r.start), toAnchorMs, gas, checkpoints: cps.length, groups };
}

function summarise(c: number, runs: Run[]): LevelResult {
  const records = runs.reduce((n, r) => n + r.records, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  const gas = runs.reduce((n, r) => n + r.gas, 0n);
  const checkpoints = runs.reduce((n, r) => n + r.checkpoints, 0);
  const lat = runs.flatMap((r) => r.ackMs).sort((a, b) => a - b);
  const toAnchor = runs.flatMap((r) => r.toAnchorMs).sort((a, b) => a - b);
  return {
    concurrency: c,
    records,
    seconds: round(seconds, 2),
    recordsPerSecond: round(records / seconds, 0),
    ackP50Ms: round(percentile(lat, 50), 2),
    ackP99Ms: round(percentile(lat, 99), 2),
    ackToAnchoredP50Ms: round(percentile(toAnchor, 50), 0),
    ackToAnchoredP99Ms: round(percentile(toAnchor, 99), 0),
    checkpoints,
    recordsPerGroup: round(records / runs.reduce((n, r) => n + r.groups, 0), 1),
    gasPerCheckpoint: checkpoints ? Number(gas / BigInt(checkpoints)) : 0,
    gasPerRecord: round(Number(gas) / records, 1),
  };
}

/**
 * Durable and non-durable nodes, both running, measured alternately at each level in the order
 * on, off, off, on (half the records each time), so that the load of a shared machine drifting
 * during the run falls on both alike.
 */
async function benchSequencers(on: Subject, off: Subject, records: Record<number, number>, log: (l: string) => void): Promise<{ durable: LevelResult[]; nonDurable: LevelResult[] }> {
  const invoice = { n: 1 };
  // Warm-up (JIT, LevelDB, chain): not measured.
  for (const s of [on, off]) await runOnce(s, 16, 200, invoice);
  const durable: LevelResult[] = [];
  const nonDurable: LevelResult[] = [];
  for (const c of LEVELS) {
    const half = Math.max(1, Math.floor((records[c] ?? 1000) / 2));
    const got = new Map<Subject, Run[]>([[on, []], [off, []]]);
    for (const s of [on, off, off, on]) got.get(s)!.push(await runOnce(s, c, half, invoice));
    for (const [s, out] of [[on, durable], [off, nonDurable]] as const) {
      const r = summarise(c, got.get(s)!);
      log(`node ${s.label} c=${c}: ${r.recordsPerSecond} rec/s, ack p50 ${r.ackP50Ms} ms p99 ${r.ackP99Ms} ms, ack→anchored p50 ${r.ackToAnchoredP50Ms} ms p99 ${r.ackToAnchoredP99Ms} ms, ${r.checkpoints} checkpoints, ${r.recordsPerGroup} records/commit, ${r.gasPerRecord} gas/record`);
      out.push(r);
    }
  }
  return { durable, nonDurable };
}

/** The alternative: one transaction per record, each submitter with its own key, waiting for the receipt. */
async function benchPerRecord(ledger: Ledger, transactions: Record<number, number>, log: (l: string) => void): Promise<LevelResult[]> {
  const provider = new JsonRpcProvider(ledger.chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1, batchMaxCount: 1 });
  try {
    const funder = new NonceManager(new Wallet(ledger.operator.privateKey, provider));
    const art = loadArtifact('BareAnchor');
    const bare = (await new ContractFactory(art.abi, art.bytecode, funder).deploy()) as Contract;
    await bare.waitForDeployment();
    const address = await bare.getAddress();
    const maxC = Math.max(...LEVELS);
    const senders = Array.from({ length: maxC }, () => Wallet.createRandom().connect(provider));
    for (const s of senders) await (await funder.sendTransaction({ to: s.address, value: parseEther('1') })).wait();
    const nonces = await Promise.all(senders.map((s) => provider.getTransactionCount(s.address)));
    const iface = bare.interface;
    const { chainId } = await provider.getNetwork();
    const fee = await provider.getFeeData();
    const out: LevelResult[] = [];
    let recordNo = 0; // every record hash distinct: each anchorRecord writes a fresh slot, as real records would
    for (const c of LEVELS) {
      const total = transactions[c] ?? 200;
      const { t0, t1, runs } = await closedLoop(c, total, async (_i, w) => {
        const s = senders[w]!;
        const data = iface.encodeFunctionData('anchorRecord', [toHex(sha256(utf8(`record ${recordNo++}`)))]);
        const raw = await s.signTransaction({ to: address, data, nonce: nonces[w]!++, gasLimit: 100_000, chainId, type: 2, maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas });
        const sent = await provider.broadcastTransaction(raw);
        const rc = (await sent.wait()) as TransactionReceipt;
        return rc.gasUsed;
      });
      const lat = runs.map((r) => r.end - r.start).sort((a, b) => a - b);
      const gas = runs.reduce((g, r) => g + r.value, 0n);
      const seconds = (t1 - t0) / 1000;
      const r: LevelResult = {
        concurrency: c,
        records: total,
        seconds: round(seconds, 2),
        recordsPerSecond: round(total / seconds, 0),
        ackP50Ms: round(percentile(lat, 50), 2),
        ackP99Ms: round(percentile(lat, 99), 2),
        // The acknowledgement is the mined transaction: anchored at ack.
        ackToAnchoredP50Ms: 0,
        ackToAnchoredP99Ms: 0,
        checkpoints: total,
        recordsPerGroup: 1,
        gasPerCheckpoint: Number(gas / BigInt(total)),
        gasPerRecord: Number(gas / BigInt(total)),
      };
      log(`per-record anchoring c=${c}: ${r.recordsPerSecond} rec/s, ack p50 ${r.ackP50Ms} ms p99 ${r.ackP99Ms} ms, ${r.gasPerRecord} gas/record`);
      out.push(r);
    }
    return out;
  } finally {
    provider.destroy();
  }
}

export async function benchNode(opts: BenchNodeOptions = {}): Promise<BenchNodeResult> {
  const log = opts.log ?? (() => undefined);
  const intervalMs = opts.checkpointIntervalMs ?? 1000;
  const records = opts.records ?? parseSizes(process.env.BENCH_NODE_RECORDS, { 1: 600, 16: 3000, 256: 6000 });
  const transactions = opts.transactions ?? parseSizes(process.env.BENCH_NODE_TX, { 1: 100, 16: 400, 256: 800 });
  const on = await startLedger(true, intervalMs);
  let off: Awaited<ReturnType<typeof startLedger>> | undefined;
  let durable: LevelResult[];
  let nonDurable: LevelResult[];
  let perRecord: LevelResult[];
  try {
    off = await startLedger(false, intervalMs);
    ({ durable, nonDurable } = await benchSequencers(watch('durable', on.ledger), watch('non-durable', off.ledger), records, log));
    await off.ledger.stop();
    perRecord = await benchPerRecord(on.ledger, transactions, log);
  } finally {
    for (const n of [on, off]) {
      if (!n) continue;
      await n.ledger.stop().catch(() => undefined /* already stopped */);
      fs.rmSync(n.dir, { recursive: true, force: true });
    }
  }
  const durableVsNonDurable = LEVELS.map((c, i) => {
    const ratio = durable[i]!.recordsPerSecond / nonDurable[i]!.recordsPerSecond;
    return { concurrency: c, ratio: round(ratio, 3), costPercent: round((1 - ratio) * 100, 1) };
  });
  return {
    checkpointIntervalMs: intervalMs,
    cpus: os.cpus().length,
    durable,
    nonDurable,
    durableVsNonDurable,
    perRecordAnchoring: perRecord,
    targets: {
      ackToAnchoredP99WithinTwoIntervals: durable.every((r) => r.ackToAnchoredP99Ms <= 2 * intervalMs),
      // At the concurrency group commit is for; one submitter pays a whole fsync per record by design.
      durabilityCostWithin20Percent: durableVsNonDurable.filter((d) => d.concurrency >= 16).every((d) => d.costPercent <= 20),
    },
  };
}

if (require.main === module) {
  benchNode({ log: (l) => process.stderr.write(l + '\n') })
    .then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'))
    .catch((err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    });
}
