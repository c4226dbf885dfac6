/**
 * The order of verification: three tables, run by verify.ts. A step may rely on what the steps above
 * it in its table set in the context (noted on the right); the report lists rows in the order the
 * steps ran: each item's steps, each checkpoint's, then the bundle's.
 *
 * Per item:       canonical-bytes → record-digest → commitment → entry → leaf-hash → inclusion
 *                 → receipt-signature → receipt-proof (v2) → receipt-consistency (v2) → receipt-fields
 * Per checkpoint: chain-id → registry-code → anchor → operator → block → entry (forward-dated times)
 *                 → consistency (the registry's latest checkpoint extends this one)
 * Bundle:         operator (no anchored item) → custody-order → custody-rules → file-claim → file-*
 *                 → xml-* (invoice bundles: the XML given is the record's original)
 *                 → capture-manifest → capture-artifact → capture-datapackage → capture-window
 *                 → depositor-signature (evidence: the collector's own signature)
 *                 → operator-profile (the operator's signed disclosures, when the bundle carries them)
 *                 → checkpoint-signature → tsa-* (the signed checkpoint; RFC 3161 tokens over it)
 */
import type { BundleStep, CheckpointStep, ItemStep } from './context';
import { canonicalBytesStep } from './steps/canonical-bytes';
import { recordDigestStep } from './steps/record-digest';
import { commitmentStep } from './steps/commitment';
import { entryStep } from './steps/entry';
import { leafHashStep } from './steps/leaf-hash';
import { inclusionStep } from './steps/inclusion';
import { receiptSignatureStep } from './steps/receipt-signature';
import { receiptProofStep } from './steps/receipt-proof';
import { receiptConsistencyStep } from './steps/receipt-consistency';
import { receiptFieldsStep } from './steps/receipt-fields';
import { chainIdStep } from './steps/chain-id';
import { registryCodeStep } from './steps/registry-code';
import { anchorStep } from './steps/anchor';
import { operatorStep } from './steps/operator';
import { blockStep } from './steps/block';
import { entryTimeStep } from './steps/entry-time';
import { pendingOperatorStep } from './steps/pending-operator';
import { custodyOrderStep } from './steps/custody-order';
import { custodyRulesStep } from './steps/custody-rules';
import { fileClaimStep } from './steps/file-claim';
import { fileContentStep } from './steps/file-content';
import { invoiceXmlStep } from './steps/invoice-xml';
import { consistencyStep } from './steps/consistency';
import { depositorSignatureStep } from './steps/depositor-signature';
import { timeEvidenceStep } from './steps/time-evidence';
import { operatorProfileStep } from './steps/operator-profile';
import { capturePackageStep, captureWindowStep } from './steps/capture-package';

/** Run for every item of the bundle, offline and online. */
export const ITEM_STEPS: readonly ItemStep[] = [
  canonicalBytesStep, // sets ctx.bytes, ctx.missing
  recordDigestStep, // sets result.digest
  commitmentStep,
  entryStep,
  leafHashStep, // sets result.leaf
  inclusionStep, // sets result.root, result.pending
  receiptSignatureStep,
  receiptProofStep,
  receiptConsistencyStep,
  receiptFieldsStep,
];

/** Run for every anchored checkpoint the bundle names, against the chain (not offline). */
export const CHECKPOINT_STEPS: readonly CheckpointStep[] = [
  chainIdStep, // sets ctx.rpcChain
  registryCodeStep,
  anchorStep, // sets ctx.cp
  operatorStep,
  blockStep, // sets ctx.blk
  entryTimeStep,
  consistencyStep, // sets summary.latest
];

/** Run once, after the checkpoints; `needsChain` steps are left out offline. */
export const BUNDLE_STEPS: readonly BundleStep[] = [
  pendingOperatorStep,
  // History before file: the file's digests are read from the first item, which custody-order checks is the deposit.
  custodyOrderStep,
  custodyRulesStep,
  fileClaimStep,
  fileContentStep, // sets ctx.file
  invoiceXmlStep, // invoice bundles: sets ctx.file from the XML given
  capturePackageStep, // a capture package given: sets ctx.capture (manifest, artifacts, datapackage)
  captureWindowStep, // chain: the start block, the window
  depositorSignatureStep,
  operatorProfileStep,
  timeEvidenceStep, // sets ctx.time (reads ctx.checkpoints); asynchronous, left out offline
];
