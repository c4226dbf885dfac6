/**
 * node/verifier: what `tianfu verify`, POST /v1/verify and the browser page share. Imports only
 * node/protocol and the domains' pure history modules (node/invoice/history, node/evidence/history).
 */
export { verifyBundle, verifyBundleOffline } from './verify';
export { domainHistoryRules } from './domain-history';
export { ITEM_STEPS, CHECKPOINT_STEPS, BUNDLE_STEPS } from './pipeline';
export type { ItemStep, CheckpointStep, BundleStep, ItemContext, CheckpointContext, BundleContext } from './context';
export * from './types';
export { loadBundle, BundleFormatError } from '../protocol/bundle-schema';
export { ChainReadError, CHECKPOINT_ANCHORED_TOPIC, type ChainReader, type ChainLog } from '../protocol/chain';
export { verifyStatusProof, verifyStatusProofOffline, type StatusVerificationReport, type StatusSummary } from './status-proof';
export { loadStatusProof, isStatusProof, StatusProofFormatError, STATUS_PROOF_FORMAT, type StatusProof } from '../protocol/status-proof';
