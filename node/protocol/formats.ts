/**
 * Versioned, self-describing artifacts (docs/protocol.md §5–8, §11). Every serialized artifact carries a
 * `type` (receipt, checkpoint) or `format` (bundle) string; loaders refuse versions they do not know.
 * Log positions (index, treeSize) are JSON numbers; chain integers (chainId, blockNumber, timestamp)
 * are decimal strings.
 */
import type { Hex } from './bytes';
import type { LogEntry } from './record';
import type { SubjectLink } from './subject';
import type { BundleOperatorProfile } from './operator-profile';

/** Receipts of the first format: one operator signature per record (still issued for entries logged before v2, and verified forever). */
export const RECEIPT_TYPE = 'tianfu.receipt/v1' as const;
/** Receipts since v2: one operator signature per group commit, over the tree after the group, and each record's inclusion proof to it. */
export const RECEIPT_V2_TYPE = 'tianfu.receipt/v2' as const;
export const RECEIPT_TYPES = [RECEIPT_TYPE, RECEIPT_V2_TYPE] as const;
export const CHECKPOINT_TYPE = 'tianfu.checkpoint/v1' as const;
/** The signed tree head of one group commit (receipts v2): the v1 checkpoint plus the group's acceptance time. */
export const CHECKPOINT_V2_TYPE = 'tianfu.checkpoint/v2' as const;
export const BUNDLE_FORMAT = 'tianfu.bundle/v1' as const;

/** What the operator signs for a receipt: EIP-191 over JCS({logId, index, leafHash, at}). */
export interface ReceiptPayload {
  logId: Hex;
  index: number;
  leafHash: Hex;
  at: string;
}

export interface ReceiptV1 extends ReceiptPayload {
  type: typeof RECEIPT_TYPE;
  /** 65-byte EIP-191 personal_sign signature, 0x-hex. */
  signature: Hex;
}

/** What the operator signs once per group commit (receipts v2): EIP-191 over JCS({type, logId, treeSize, rootHash, at}). */
export interface CheckpointV2Payload {
  type: typeof CHECKPOINT_V2_TYPE;
  logId: Hex;
  treeSize: number;
  rootHash: Hex;
  /** The group's acceptance time (every entry of the group has it), RFC 3339 UTC with milliseconds. */
  at: string;
}

export interface SignedCheckpointV2 extends CheckpointV2Payload {
  signature: Hex;
}

/**
 * A v2 receipt: the entry's place (index, leafHash, at as in v1) and the proof that it is in the
 * operator-signed tree of its group commit. Nothing in it is signed per record: the signature is the
 * checkpoint's, and the RFC 9162 inclusion proof ties the leaf at `index` to the checkpoint's root.
 */
export interface ReceiptV2 extends ReceiptPayload {
  type: typeof RECEIPT_V2_TYPE;
  checkpoint: SignedCheckpointV2;
  /** RFC 9162 §2.1.3 inclusion proof of leaf `index` in the tree of `checkpoint.treeSize`. */
  proof: Hex[];
}

export type Receipt = ReceiptV1 | ReceiptV2;

/** What the operator signs for a checkpoint: EIP-191 over JCS({type, logId, treeSize, rootHash}). */
export interface CheckpointPayload {
  type: typeof CHECKPOINT_TYPE;
  logId: Hex;
  treeSize: number;
  rootHash: Hex;
}

export interface SignedCheckpoint extends CheckpointPayload {
  signature: Hex;
}

/** Where and when a checkpoint was anchored on chain. */
export interface Anchor {
  chainId: string;
  registry: Hex;
  logId: Hex;
  treeSize: number;
  rootHash: Hex;
  txHash: Hex;
  blockNumber: string;
  /** Block timestamp (seconds, decimal string) as the registry recorded it. */
  timestamp: string;
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  rootHash: Hex;
  proof: Hex[];
}

/**
 * One record of a bundle. `record` and `salt` are null when the content was erased
 * (crypto-shredding): the entry still proves that *something* was logged at that place and time.
 */
export interface BundleItem {
  record: Record<string, unknown> | null;
  salt: Hex | null;
  entry: LogEntry;
  index: number;
  receipt: Receipt;
  /** Inclusion proof to the anchored checkpoint; null while pending. */
  inclusion: InclusionProof | null;
  anchor: Anchor | null;
  /**
   * For a tianfu.receipt/v2 whose signed checkpoint is of another size than the anchored one: the RFC
   * 9162 consistency proof from the smaller of the two trees to the larger (the shape of GET
   * /v1/log/proof/consistency), so the tree the operator signed in the receipt is shown to be the
   * anchored log's own history (or its continuation), not a tree of another history. Absent in bundles
   * made before it existed, and when the sizes are equal (then the roots must be equal).
   */
  receiptConsistency?: { from: number; to: number; proof: Hex[] };
}

export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  /** 'invoice' (issue + every lifecycle record) or 'evidence' (deposit + custody events) or 'record'. */
  kind: 'invoice' | 'evidence' | 'record';
  /** The subject as its entries name it: for an invoice, its pseudonym (or, logged before pseudonyms, its key). */
  subject: string;
  /**
   * Opens a pseudonymous subject for whoever holds the bundle: subjectPseudonym(salt, key) = subject,
   * and key is the subject the records name (record.invoiceKey). Absent when the entries name the
   * plain subject (evidence ids; invoices logged before pseudonyms).
   */
  subjectLink?: SubjectLink;
  log: { logId: Hex; operator: Hex; chainId: string; registry: Hex };
  /** Ordered by log index; items[0] is the primary record (invoice issue, evidence deposit). */
  items: BundleItem[];
  /** For evidence: the digests the file beside the bundle must have. */
  file?: { sha256: Hex; sm3: Hex; size: number } | null;
  /**
   * For an invoice registered from XML, optionally: the original document itself (base64), so the
   * bundle alone shows the XML is the one the record came from (its digests are in the record's `original`).
   */
  xml?: { mediaType: 'application/xml'; base64: string };
  /** The operator-signed checkpoint the items' anchor names (what RFC 3161 tokens stamp). */
  checkpoint?: SignedCheckpoint;
  /** RFC 3161 time-stamp tokens over that signed checkpoint, one per TSA that answered. */
  timestamps?: BundleTimestamp[];
  /** The operator's signed disclosures (TIANFU_OPERATOR_PROFILE) when the node has them (operator-profile.ts). */
  operatorProfile?: BundleOperatorProfile;
  createdAt: string;
}

/** One RFC 3161 token in a bundle (`bundle.timestamps[]`). */
export interface BundleTimestamp {
  /** The TimeStampToken (CMS ContentInfo), DER, base64. */
  token: string;
  /** The TSA's name: its signer certificate's subject (the URL when unreadable). Informational. */
  tsa: string;
  /** genTime as the token states it (RFC 3339, UTC). Informational: the verifier reads it from the token. */
  genTime: string;
  /** Tree size of the signed checkpoint the token stamps. */
  treeSize: number;
  /** Where the node obtained it (informational). */
  url?: string;
}
