/**
 * Bundle verification (docs/protocol.md §9): the one verifier used by the CLI (`tianfu verify`), the API
 * (POST /v1/verify) and the browser page. Pure: the chain is read through a `ChainReader` the caller
 * supplies, files are hashed by the caller (their digests are passed in), and nothing here does I/O.
 *
 * Shape after sigstore/rekor's pkg/verify: a chain of small named steps (steps/, ordered by the
 * tables in pipeline.ts), each recomputing one thing from the bundle and comparing it with what the
 * next link (or the chain) says. Nothing the bundle or the node that made it claims is trusted: every
 * claim is either recomputed or read from the chain. Every step is reported — including skipped ones,
 * with why — so a court sees exactly what was and was not checked.
 */
import type { Hex } from '../protocol/bytes';
import { ProtocolError } from '../protocol/errors';
import type { Bundle, BundleItem } from '../protocol/formats';
import type { ChainReader } from '../protocol/chain';
import { recoverSigner } from '../protocol/signatures';
import { loadBundle } from '../protocol/bundle-schema';
import { Steps, type BundleContext, type ChainCache, type CheckpointContext, type Group, type ItemContext, type ItemResult, type OfflineOptions, type VerifyContext } from './context';
import { BUNDLE_STEPS, CHECKPOINT_STEPS, ITEM_STEPS } from './pipeline';
import { buildReport } from './report';
import type { CheckpointSummary, VerificationReport, VerifyOptions } from './types';

/** Items checked between two yields to the event loop in `verifyBundle` (a few ms of CPU). */
const ITEMS_PER_SLICE = 32;

function checkItem(base: VerifyContext, it: BundleItem, i: number, recover: (message: Uint8Array, signature: string) => Hex): ItemResult {
  const at = { item: i };
  const result: ItemResult = { leaf: '0x', digest: null, root: null, failed: false, pending: false };
  const ctx: ItemContext = {
    ...base,
    it,
    i,
    recover,
    result,
    bytes: null,
    missing: null,
    ok: (s) => {
      base.steps.add({ ...s, ...at, status: 'ok' });
    },
    fail: (s) => {
      result.failed = true;
      base.steps.add({ ...s, ...at, status: 'failed' });
    },
    skip: (name, detail) => {
      base.steps.add({ name, ...at, status: 'skipped', detail });
    },
    pending: (name, detail) => {
      base.steps.add({ name, ...at, status: 'pending', detail });
    },
  };
  for (const step of ITEM_STEPS) step.run(ctx);
  return result;
}

/**
 * Recovery memoised per verification: the items of one group commit share one v2 checkpoint, so its
 * signature is recovered once, not once per item. Failures are not memoised (each item reports its own).
 */
function memoRecover(recover: (message: Uint8Array, signature: string) => Hex): (message: Uint8Array, signature: string) => Hex {
  const seen = new Map<string, { message: Uint8Array; signer: Hex }>();
  return (message, signature) => {
    const hit = seen.get(signature);
    if (hit && hit.message.length === message.length && hit.message.every((b, k) => b === message[k])) return hit.signer;
    const signer = recover(message, signature);
    seen.set(signature, { message, signer });
    return signer;
  };
}

/** The per-item steps of every item; `yielding` returns to the event loop between slices of items. */
function itemSteps(base: VerifyContext, yielding: false): ItemResult[];
function itemSteps(base: VerifyContext, yielding: true): Promise<ItemResult[]>;
function itemSteps(base: VerifyContext, yielding: boolean): ItemResult[] | Promise<ItemResult[]> {
  const recover = memoRecover(base.opts.recoverSigner ?? recoverSigner);
  const items = base.b.items;
  if (!yielding) return items.map((it, i) => checkItem(base, it, i, recover));
  // A bundle of thousands of items (a much-viewed piece of evidence) must not hold a server's thread
  // (POST /v1/verify) for seconds.
  return (async () => {
    const results: ItemResult[] = [];
    for (let i = 0; i < items.length; i++) {
      if (i > 0 && i % ITEMS_PER_SLICE === 0) await new Promise((r) => setTimeout(r, 0));
      results.push(checkItem(base, items[i]!, i, recover));
    }
    return results;
  })();
}

function groupByAnchor(b: Bundle, results: readonly ItemResult[]): Group[] {
  const groups = new Map<string, Group>();
  b.items.forEach((it, i) => {
    if (!it.anchor) return;
    const a = it.anchor;
    const key = [a.chainId, a.registry.toLowerCase(), a.logId, a.treeSize, a.rootHash, a.txHash, a.blockNumber, a.timestamp].join('|');
    const g = groups.get(key) ?? { anchor: a, items: [], roots: [] };
    g.items.push(i);
    const r = results[i]!.root;
    if (r !== null && !g.roots.includes(r)) g.roots.push(r);
    groups.set(key, g);
  });
  return [...groups.values()];
}

function unreadSummary(g: Group, status: CheckpointSummary['status']): CheckpointSummary {
  const a = g.anchor;
  return {
    chainId: a.chainId, registry: a.registry.toLowerCase() as Hex, logId: a.logId, treeSize: a.treeSize, rootHash: a.rootHash, txHash: a.txHash, blockNumber: a.blockNumber,
    blockHash: null, blockTime: null, confirmations: null, operator: null, latest: null, items: g.items, status,
  };
}

async function checkCheckpoint(base: VerifyContext, chain: ChainReader, g: Group, cache: ChainCache): Promise<CheckpointSummary> {
  const where = { checkpoint: g.anchor.treeSize };
  const summary = unreadSummary(g, 'ok');
  let stopped: { why?: string } | null = null;
  const ctx: CheckpointContext = {
    ...base,
    chain,
    g,
    cache,
    summary,
    rpcChain: '',
    cp: null,
    blk: null,
    add(name, status, detail, ev = {}) {
      base.steps.add({ name, ...where, status, detail, ...ev });
      if (status === 'failed' || (status === 'pending' && summary.status !== 'failed')) summary.status = status;
    },
    stop(why) {
      stopped = why === undefined ? {} : { why };
    },
    get stopped() {
      return stopped;
    },
  };
  for (const step of CHECKPOINT_STEPS) {
    if (ctx.stopped !== null) {
      if (ctx.stopped.why !== undefined && !step.quietWhenStopped) ctx.add(step.name, 'skipped', ctx.stopped.why);
      continue;
    }
    await step.run(ctx);
  }
  return summary;
}

function bundleContext(base: VerifyContext, chain: ChainReader | null, groups: readonly Group[], cache: ChainCache, checkpoints: readonly CheckpointSummary[]): BundleContext {
  return { ...base, chain, cache, groups, checkpoints, time: null, file: null, fileStatus: 'ok' };
}

function requiredConfirmations(n: number | undefined): number {
  const r = n ?? 1;
  if (!Number.isSafeInteger(r) || r < 1) throw new ProtocolError('INVALID_INPUT', `confirmations must be a positive integer, got ${n}`);
  return r;
}

function start(bundle: Bundle, opts: OfflineOptions): VerifyContext {
  const b = loadBundle(bundle);
  return { b, opts, steps: new Steps(), required: requiredConfirmations(opts.confirmations) };
}

/**
 * Verifies a bundle against the chain. Throws BundleFormatError for a bundle that does not load and
 * ChainReadError when the chain cannot be read; every other problem is a failed step in the report.
 */
export async function verifyBundle(bundle: Bundle, opts: VerifyOptions): Promise<VerificationReport> {
  const base = start(bundle, opts);
  const results = await itemSteps(base, true);
  const groups = groupByAnchor(base.b, results);
  const cache: ChainCache = {};
  const cps: CheckpointSummary[] = [];
  for (const g of groups) cps.push(await checkCheckpoint(base, opts.chain, g, cache));
  const ctx = bundleContext(base, opts.chain, groups, cache, cps);
  for (const step of BUNDLE_STEPS) await step.run(ctx);
  return withCapture(buildReport(base.b, opts, base.steps, results, cps, ctx.file, base.required, ctx.time), ctx);
}

/**
 * Everything that needs no chain: records, commitments, entries, proofs, receipts, file and history.
 * Anchors are reported as pending, so the verdict is at best 'pending': only the chain settles a bundle.
 * For a first answer before the chain is reached (the browser page) and for the benchmark.
 */
export function verifyBundleOffline(bundle: Bundle, opts: OfflineOptions = {}): VerificationReport {
  const base = start(bundle, opts);
  const results = itemSteps(base, false);
  const groups = groupByAnchor(base.b, results);
  const cps: CheckpointSummary[] = groups.map((g) => {
    base.steps.add({ name: 'anchor', checkpoint: g.anchor.treeSize, status: 'pending', detail: 'the chain was not read (offline verification)' });
    return unreadSummary(g, 'pending');
  });
  const ctx = bundleContext(base, null, groups, {}, cps);
  for (const step of BUNDLE_STEPS) {
    if (step.needsChain || step.asynchronous) continue;
    const r = step.run(ctx);
    if (r instanceof Promise) throw new Error(`verification step ${step.name} is asynchronous: mark it needsChain or asynchronous, or make it synchronous`);
  }
  return withCapture(buildReport(base.b, opts, base.steps, results, cps, ctx.file, base.required, null), ctx);
}

/** The report's `capture`, when the capture steps ran (the parsed manifest stays out of it). */
function withCapture(report: VerificationReport, ctx: BundleContext): VerificationReport {
  if (!ctx.capture) return report;
  const { manifest: _m, ...summary } = ctx.capture;
  return { ...report, capture: summary };
}
