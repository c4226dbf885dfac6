/** The node's public entry: what api/ (and the CLI's node-backed commands) may import. */
export * from './protocol';
export * from './verifier';
export { DomainError, type Actor, type Role, type DomainRules, type TransitionContext } from './domain/types';
export { loadConfig, ConfigError, type NodeConfig } from './config';
export { Ledger, LedgerStartError, type ChainInfo, type LedgerLogger } from './ledger';
export { Sequencer, type Accepted, type StoredRecord, type SubmitRequest } from './sequencer';
export { Anchorer, type AnchoredRecord, type AnchorerStatus } from './anchorer';
export { ApiKeys, ROLES, type ApiKeyRecord, type CreatedKey } from './auth/api-keys';
export { LogStore, LogStoreError } from './store/log-store';
export {
  InvoiceService, invoiceServiceFor, INVOICE_INDEX_PREFIX,
  type IssueResult, type TransitionResult, type FormResult, type InvoiceView, type InvoiceEvent, type AnchoringState, type PublicAnswer, type OpenFormInput, type ValidInvoice,
} from './invoice/service';
export * from './evidence';
