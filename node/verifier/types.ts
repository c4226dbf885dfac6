/**
 * The verifier's public shapes: step names and statuses, options, and the report (`tianfu.verification/v1`)
 * that the CLI prints, POST /v1/verify returns and the browser page shows.
 */
import type { Hex } from '../protocol/bytes';
import type { LogEntry } from '../protocol/record';
import type { Anchor, Bundle } from '../protocol/formats';
import type { ChainReader } from '../protocol/chain';
import type { TimestampStepName } from '../protocol/timestamp';
import type { CaptureManifest, CapturePackageIndex } from '../protocol/capture-package';

/** What the capture steps found (the report's `capture`, when a capture package was given). */
export interface CaptureSummary {
  status: StepStatus;
  captureId: string | null;
  finalUrl: string | null;
  /** [start block's time, anchoring block's time] (to is null while the deposit is pending). */
  window: { from: string; to: string | null; startBlock: string; anchorBlock: string | null } | null;
  /** SHA-256 fingerprint of the final page's origin certificate (https), lowercase hex. */
  originFingerprint256: string | null;
  artifacts: { path: string; mediaType: string; size: number; sha256: string; sm3: string; status: StepStatus }[];
  /** The parsed manifest (not in the report). */
  manifest?: CaptureManifest;
}

export const VERIFICATION_REPORT_TYPE = 'tianfu.verification/v1' as const;

/** How far the node's clock may run ahead of the chain's before an entry's time counts as forward-dated. */
export const DEFAULT_CLOCK_SKEW_MS = 5000;

export type StepName =
  | 'canonical-bytes'
  | 'record-digest'
  | 'commitment'
  | 'entry'
  | 'leaf-hash'
  | 'inclusion'
  | 'receipt-signature'
  | 'receipt-proof'
  | 'receipt-consistency'
  | 'receipt-fields'
  | 'chain-id'
  | 'registry-code'
  | 'anchor'
  | 'operator'
  | 'block'
  | 'consistency'
  | 'file-claim'
  | 'file-sha256'
  | 'file-sm3'
  | 'file-size'
  | 'xml-sha256'
  | 'xml-sm3'
  | 'xml-size'
  | 'custody-order'
  | 'custody-rules'
  | 'state-key'
  | 'state-root'
  | 'state-map'
  | 'depositor-signature'
  | 'checkpoint-signature'
  | TimestampStepName
  | 'operator-profile'
  | 'capture-manifest'
  | 'capture-artifact'
  | 'capture-datapackage'
  | 'capture-window';

export type StepStatus = 'ok' | 'failed' | 'pending' | 'skipped';

export interface VerificationStep {
  name: StepName;
  /** Position of the item in `bundle.items` (per-item steps). */
  item?: number;
  /** Tree size of the checkpoint (per-checkpoint steps). */
  checkpoint?: number;
  /** Position of the RFC 3161 token in `bundle.timestamps` (tsa-* steps). */
  token?: number;
  status: StepStatus;
  detail: string;
  expected?: string;
  calculated?: string;
}

/** One history violation found by a domain's lifecycle rules (node/invoice, node/evidence replayEntries). */
export interface HistoryViolation {
  /** Position in the entries passed (= position in bundle.items). */
  index: number;
  code: string;
  message: string;
}

/** The domain's lifecycle rules over a subject's entries (and records, where not erased), in log order. */
export type HistoryRules = (kind: Bundle['kind'], items: readonly { index: number; entry: LogEntry; record: Record<string, unknown> | null }[]) => HistoryViolation[];

export interface VerifyFileDigests {
  sha256: Hex;
  sm3?: Hex;
  size?: number;
}

export interface VerifyOptions {
  chain: ChainReader;
  /** Digests of the file the verifier holds (the CLI hashes it; the browser hashes it locally). */
  file?: VerifyFileDigests;
  /** The file given opened as a capture package (indexCapturePackage), when it is one. */
  capture?: CapturePackageIndex;
  /** Confirmations the anchoring block needs (default 1: mined). Fewer is reported as pending. */
  confirmations?: number;
  /** A pending bundle is `accepted` (the CLI exits 0). The verdict stays 'pending'. */
  allowPending?: boolean;
  history?: HistoryRules;
  /** Clock for `verifiedAt` (default: now). */
  now?: () => Date;
  /** How far an entry's `at` may be after its anchoring block's time (default 5000 ms). */
  clockSkewMs?: number;
  /**
   * The registry and log the verifier trusts, known out of band (the ledger's published address book).
   * Without them the registry and log id are the bundle's own claim: anyone can deploy a contract of
   * their own on the same chain, anchor a forged root in it and write its address into a bundle.
   */
  trust?: { registry?: Hex; logId?: Hex };
  /**
   * Signer recovery for receipts: default the pure-JS one (signatures.ts, ~2 ms a receipt here). Node
   * callers pass libsecp256k1's (node/crypto/eip191.ts recoverEip191Signer, ~0.1 ms), which accepts
   * exactly the same signatures and defers to the default for the reason of any refusal.
   */
  recoverSigner?: (message: Uint8Array, signature: string) => Hex;
  /**
   * DER certificates of the TSA roots the verifier trusts (`--tsa-ca FILE`). Without them a bundle's
   * RFC 3161 tokens are checked except for who the TSA is (`tsa-chain` skipped).
   */
  tsaTrustAnchors?: readonly Uint8Array[];
}

export interface ItemSummary {
  item: number;
  index: number;
  kind: string;
  at: string;
  status: 'verified' | 'pending' | 'erased' | 'invalid';
  recordDigest: Hex | null;
  leafHash: Hex;
  /** Tree size of the checkpoint that anchors it; null while pending. */
  checkpoint: number | null;
}

/** The anchor as the bundle states it (registry lowercased; not its timestamp), then what the chain said. */
export interface CheckpointSummary extends Omit<Anchor, 'timestamp'> {
  /** Read from the chain; null when not reached. */
  blockHash: Hex | null;
  blockTime: string | null;
  confirmations: number | null;
  operator: Hex | null;
  /** The registry's newest checkpoint of the log when verified (consistency step); null when not read. */
  latest: { treeSize: number; rootHash: Hex; blockNumber: string; blockTime: string | null } | null;
  items: number[];
  status: StepStatus;
}

/** One RFC 3161 token of the bundle as checked (tsa-* steps). */
export interface TimeTokenSummary {
  token: number;
  /** The TSA's name: its certificate's subject, else the bundle's `tsa`. */
  tsa: string;
  status: 'ok' | 'failed' | 'skipped';
  genTime: string | null;
  accuracyMs: number | null;
  policy: string | null;
  serialNumber: Hex | null;
  /** genTime + accuracy: the TSA says the signed checkpoint existed no later than this. */
  notAfter: string | null;
}

/**
 * Independent time (checklist item 6): the window the chain gives (the anchoring block's time) and the
 * one each TSA gives, side by side. Null when the verification did not look (offline).
 */
export interface TimeSummary {
  /** not-provided: the bundle carries no token (no TSA configured, or not yet obtained: refresh). */
  status: 'ok' | 'failed' | 'skipped' | 'not-provided';
  checkpoint: number | null;
  /** The newest acceptance time of an entry the checkpoint covers: it cannot have existed before. */
  notBefore: string | null;
  /** The anchoring block's time: the chain says the checkpoint existed no later than this. */
  chainNotAfter: string | null;
  tokens: TimeTokenSummary[];
  /**
   * Whether the windows agree: every verified token's bound and the chain's are not before notBefore
   * (block times to the second). Null when there is no verified token or no block time to compare.
   */
  agree: boolean | null;
  /** genTime of the first verified token minus the block time, in ms (tokens are asked for after anchoring). */
  gapMs: number | null;
}

export interface VerificationReport {
  type: typeof VERIFICATION_REPORT_TYPE;
  verdict: 'valid' | 'invalid' | 'pending';
  /** valid, or pending with allowPending. */
  accepted: boolean;
  /** The first failed step (invalid), else the first pending one (pending), else null. */
  firstFailure: VerificationStep | null;
  /** subjectKey: the plain subject a pseudonymous one is linked to (the invoice key), when the bundle carries the link. */
  bundle: { format: string; kind: Bundle['kind']; subject: string; subjectKey?: Hex; logId: Hex; operator: Hex; chainId: string; registry: Hex; items: number; createdAt: string };
  items: ItemSummary[];
  checkpoints: CheckpointSummary[];
  file: (VerifyFileDigests & { status: StepStatus }) | null;
  /** Present when a capture package was given. */
  capture?: Omit<CaptureSummary, 'manifest'>;
  steps: VerificationStep[];
  /** Item 6: the chain's and the TSAs' time windows; null offline. */
  time: TimeSummary | null;
  /** What was proven, in words a person can put in a file. */
  proves: string[];
  /** What it does not prove. */
  limits: string[];
  confirmationsRequired: number;
  verifiedAt: string;
}
