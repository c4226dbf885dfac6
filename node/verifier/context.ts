/**
 * What the steps of node/verifier/steps/ share: the list the report's steps are collected in, the
 * three contexts a step runs in (one item, one anchored checkpoint, the whole bundle), and the small
 * helpers several steps use. Pure: the chain is read only through the caller's ChainReader.
 */
import type { Hex } from '../protocol/bytes';
import { ProtocolError } from '../protocol/errors';
import type { Anchor, Bundle, BundleItem } from '../protocol/formats';
import { ChainReadError, type ChainReader } from '../protocol/chain';
import type { CaptureSummary, CheckpointSummary, StepName, StepStatus, TimeSummary, VerificationReport, VerificationStep, VerifyOptions } from './types';

/** The steps of one verification, in the order they ran: the report's `steps`. */
export class Steps {
  readonly list: VerificationStep[] = [];
  add(s: VerificationStep): VerificationStep {
    this.list.push(s);
    return s;
  }
}

/** Evidence a step adds beside its detail. */
export interface Evidence {
  expected?: string;
  calculated?: string;
}

/** Verify options without the chain (the offline verifier has none). */
export type OfflineOptions = Omit<VerifyOptions, 'chain'>;

/** What the per-item steps leave for the checkpoint steps and the report. */
export interface ItemResult {
  leaf: Hex;
  digest: Hex | null;
  /** Root the inclusion proof leads to, when it was computed and agreed with the bundle. */
  root: Hex | null;
  failed: boolean;
  pending: boolean;
}

/** Items anchored by the same checkpoint, checked against the chain once. */
export interface Group {
  anchor: Anchor;
  items: number[];
  roots: Hex[];
}

/** Chain reads shared by the checkpoints of one verification. */
export interface ChainCache {
  chainId?: bigint;
  head?: bigint;
}

/** Every step sees the bundle (already loaded: its shape is checked), the options and the step list. */
export interface VerifyContext {
  readonly b: Bundle;
  readonly opts: OfflineOptions;
  readonly steps: Steps;
  /** Confirmations the anchoring block needs. */
  readonly required: number;
}

/** One item of the bundle (steps/ in ITEM_STEPS). */
export interface ItemContext extends VerifyContext {
  readonly it: BundleItem;
  /** Position in bundle.items. */
  readonly i: number;
  readonly recover: (message: Uint8Array, signature: string) => Hex;
  readonly result: ItemResult;
  /** Set by canonical-bytes: the JCS bytes of the record, null when there is none or it does not canonicalise. */
  bytes: Uint8Array | null;
  /** Set by canonical-bytes when record and salt are null: why, and whether an erasure event explains it. */
  missing: { why: string; erased: boolean } | null;
  ok(s: Omit<VerificationStep, 'status' | 'item'>): void;
  fail(s: Omit<VerificationStep, 'status' | 'item'>): void;
  skip(name: StepName, detail: string): void;
  pending(name: StepName, detail: string): void;
}

/** One anchored checkpoint, read on the chain (steps/ in CHECKPOINT_STEPS). */
export interface CheckpointContext extends VerifyContext {
  readonly chain: ChainReader;
  readonly g: Group;
  readonly cache: ChainCache;
  readonly summary: CheckpointSummary;
  /** Set by chain-id: the chain id the RPC endpoint serves. */
  rpcChain: string;
  /** Set by anchor: the registry's checkpoint. */
  cp: { rootHash: Hex; timestamp: bigint; blockNumber: bigint } | null;
  /** Set by block: the anchoring block. */
  blk: { hash: Hex; timestamp: bigint } | null;
  /** Adds a step about this checkpoint; failed and pending set the checkpoint's status. */
  add(name: StepName, status: StepStatus, detail: string, ev?: Evidence): void;
  /**
   * Ends this checkpoint's pipeline: the later steps are reported skipped with `why` (those marked
   * `quietWhenStopped` are not reported), or not reported at all without a `why`.
   */
  stop(why?: string): void;
  readonly stopped: { why?: string } | null;
}

/** The whole bundle, after the items and checkpoints (steps/ in BUNDLE_STEPS). */
export interface BundleContext extends VerifyContext {
  /** Null when verifying offline. */
  readonly chain: ChainReader | null;
  readonly cache: ChainCache;
  readonly groups: readonly Group[];
  /** What the checkpoint steps found (offline: pending, unread). */
  readonly checkpoints: readonly CheckpointSummary[];
  /** The report's `time`: set by the time-evidence step. */
  time: TimeSummary | null;
  /** The report's `file`: set by the file steps. */
  file: VerificationReport['file'];
  /** The file steps' status so far. */
  fileStatus: StepStatus;
  /** Set by the capture steps when a capture package was given. */
  capture?: CaptureSummary;
}

export const eqHex = (a: string | null | undefined, b: string | null | undefined): boolean => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

/** Block times are whole seconds: print them so, not with a fake .000 that would read as earlier than a same-second acceptance. */
export const isoOf = (seconds: bigint): string => new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');

export function describeError(err: unknown): { detail: string; expected?: string; calculated?: string } {
  if (err instanceof ProtocolError) {
    return { detail: `${err.code}: ${err.message}`, ...(err.expected !== undefined ? { expected: err.expected } : {}), ...(err.calculated !== undefined ? { calculated: err.calculated } : {}) };
  }
  return { detail: (err as Error).message ?? String(err) };
}

/** First mismatch among named comparisons, or null. */
export function firstMismatch(checks: readonly [string, unknown, unknown][]): [string, string, string] | null {
  for (const [what, expected, calculated] of checks) {
    const same = typeof expected === 'string' && typeof calculated === 'string' && /^0x/i.test(expected) ? eqHex(expected, calculated) : expected === calculated;
    if (!same) return [what, String(expected), String(calculated)];
  }
  return null;
}

/** One chain read; a failure is a ChainReadError (the chain is unusable), never a verdict on the bundle. */
export async function read<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw new ChainReadError(`reading ${what} from the chain failed: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
}

/**
 * A verification step: one module in steps/, one row of a table in pipeline.ts. `name` is the name
 * its rows carry in the report (a step may add rows of other names, e.g. pending-operator).
 */
export interface ItemStep {
  readonly name: StepName;
  /** Synchronous: the runner yields to the event loop between slices of items, not inside one. */
  run(ctx: ItemContext): void;
}

export interface CheckpointStep {
  readonly name: StepName;
  /** Not reported as skipped when an earlier step stopped the checkpoint (it only ever reports failures). */
  readonly quietWhenStopped?: boolean;
  run(ctx: CheckpointContext): void | Promise<void>;
}

export interface BundleStep {
  readonly name: StepName;
  /** Reads the chain: not run by the offline verifier. */
  readonly needsChain?: boolean;
  /** Asynchronous without the chain (WebCrypto): not run by the offline verifier either, which is synchronous. */
  readonly asynchronous?: boolean;
  run(ctx: BundleContext): void | Promise<void>;
}
