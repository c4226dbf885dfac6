/**
 * Verifying a `tianfu.status-proof/v1` (node/protocol/status-proof.ts): "as of checkpoint N (block time
 * T), subject S had status X, last changed at log index i" — or "S had no entry at all" — as a proof.
 *
 * Three steps of its own, then the bundle verifier over the state.root entry:
 *   state-key   the subject is the one asked about: the leaf names it, and a subject link (a
 *               pseudonymous invoice) hashes to it;
 *   state-root  the bundle's one item is a `state.root` entry at index treeSize that names that size and
 *               commits to the proof's root;
 *   state-map   the sparse Merkle proof of the leaf (or of its absence) leads to exactly that root;
 * then leaf-hash → inclusion → receipt → anchor → operator → block (verifyBundle): the state.root entry
 * is in a checkpoint anchored on chain. A leaf with one field changed, a proof for another key, a stale
 * leaf presented with a later state root and a root that was never anchored each fail a named step.
 */
import { MapProofError, STATE_ROOT_KIND, stateRootSubject, verifyMapProof, type EvidenceLeafStatus, type InvoiceLeafStatus } from '../protocol/state-map';
import { linkOpens } from '../protocol/subject';
import { loadStatusProof, type StatusProof } from '../protocol/status-proof';
import { verifyBundle, verifyBundleOffline } from './verify';
import type { OfflineOptions } from './context';
import type { VerificationReport, VerificationStep, VerifyOptions } from './types';

export interface StatusSummary {
  subject: string;
  /** The invoice key a pseudonymous subject is linked to. */
  subjectKey?: string;
  domain: 'invoice' | 'evidence';
  present: boolean;
  status: InvoiceLeafStatus | EvidenceLeafStatus | null;
  lastIndex: number | null;
  lastAt: string | null;
  entries: number;
  /** The log size the state describes (the state.root entry's index). */
  asOfTreeSize: number;
  /** The anchored checkpoint that covers the state.root entry, and its block time (null offline / pending). */
  checkpoint: number | null;
  blockTime: string | null;
  /** One sentence: what was proven. */
  statement: string;
}

export interface StatusVerificationReport extends VerificationReport {
  status: StatusSummary;
}

function ownSteps(p: StatusProof): VerificationStep[] {
  const steps: VerificationStep[] = [];
  const add = (s: VerificationStep): number => steps.push(s);
  // state-key
  const link = p.subjectLink;
  if (link !== undefined && !linkOpens(link, p.subject)) {
    add({ name: 'state-key', status: 'failed', detail: 'the subject link does not open the subject: the proof is about another invoice than the key named', expected: p.subject });
  } else if (p.leaf !== null && p.leaf.subject !== p.subject) {
    add({ name: 'state-key', status: 'failed', detail: 'the leaf is about another subject than the proof', expected: p.subject, calculated: p.leaf.subject });
  } else if (p.leaf !== null && p.leaf.domain !== p.domain) {
    add({ name: 'state-key', status: 'failed', detail: `the leaf is in the ${p.leaf.domain} domain, the proof claims ${p.domain}`, expected: p.domain, calculated: p.leaf.domain });
  } else {
    add({ name: 'state-key', status: 'ok', detail: link !== undefined ? `invoice ${link.key}, logged as pseudonym ${p.subject}` : `subject ${p.subject}` });
  }
  // state-root
  const it = p.bundle.items[0]!;
  const want = stateRootSubject(p.stateRoot.treeSize);
  if (it.entry.kind !== STATE_ROOT_KIND || it.index !== p.stateRoot.treeSize || it.entry.subject !== want || p.bundle.subject !== want) {
    add({ name: 'state-root', status: 'failed', detail: `the bundle's entry is not the state.root at index ${p.stateRoot.treeSize}`, expected: `${STATE_ROOT_KIND} ${want} at index ${p.stateRoot.treeSize}`, calculated: `${it.entry.kind} ${it.entry.subject} at index ${it.index}` });
  } else if (it.entry.commitment !== p.stateRoot.root) {
    add({ name: 'state-root', status: 'failed', detail: 'the state.root entry commits to another map root than the proof is against', expected: it.entry.commitment, calculated: p.stateRoot.root });
  } else {
    add({ name: 'state-root', status: 'ok', detail: `the state.root entry at log index ${it.index} (${it.entry.at}) commits to map root ${it.entry.commitment} as of log size ${p.stateRoot.treeSize}` });
  }
  // state-map
  try {
    verifyMapProof(it.entry.commitment, p.subject, p.leaf, p.mapProof);
    add({ name: 'state-map', status: 'ok', detail: `${p.leaf ? 'presence' : 'absence'} of ${p.subject} in the state map: ${p.mapProof.siblings.length} sibling hashes lead to the committed root`, expected: it.entry.commitment, calculated: it.entry.commitment });
  } catch (err) {
    const e = err as MapProofError;
    add({ name: 'state-map', status: 'failed', detail: e.message, ...(e.expected !== undefined ? { expected: e.expected } : {}), ...(e.calculated !== undefined ? { calculated: e.calculated } : {}) });
  }
  return steps;
}

function describeStatus(p: StatusProof): string {
  if (!p.leaf) return p.domain === 'invoice' ? 'no entry about this invoice' : 'no entry about this evidence';
  if (p.leaf.domain === 'invoice') {
    const s = p.leaf.status as InvoiceLeafStatus;
    return `${s.status}, reimbursement ${s.reimbursement}, use ${s.use}, open red-letter forms ${s.openRedForms}`;
  }
  const s = p.leaf.status as EvidenceLeafStatus;
  const flags = [s.sealed && 'sealed', s.withdrawn && 'withdrawn', s.erased && 'erased'].filter(Boolean).join(', ') || 'deposited';
  return `${flags}, ${s.custodyEvents} custody events`;
}

function combine(p: StatusProof, own: VerificationStep[], r: VerificationReport): StatusVerificationReport {
  const steps = [...own, ...r.steps];
  const failed = steps.find((s) => s.status === 'failed') ?? null;
  const verdict = failed ? 'invalid' : r.verdict;
  const cp = r.checkpoints[0] ?? null;
  const what = p.subjectLink ? `invoice ${p.subjectLink.key}` : `${p.domain === 'invoice' ? 'invoice' : 'evidence'} ${p.subject}`;
  const asOf = cp && cp.blockTime ? `as of checkpoint ${cp.treeSize} (block time ${cp.blockTime})` : `as of log size ${p.stateRoot.treeSize} (not anchored on chain in this check)`;
  const state = describeStatus(p);
  const statement = p.leaf
    ? `${asOf}: ${what}: status ${state}, last changed at log index ${p.leaf.lastIndex} (${p.leaf.lastAt}); ${p.leaf.entries} entr${p.leaf.entries === 1 ? 'y' : 'ies'} in all`
    : `${asOf}: ${what}: ${state} among the first ${p.stateRoot.treeSize} log entries`;
  // The bundle's words are about records; its one item here is a state.root entry, which has none: its
  // commitment is the map root the state-map step checked, so say that instead of "content erased".
  const it = p.bundle.items[0]!;
  const cpOk = cp !== null && cp.status === 'ok';
  const rootLine = `The state.root entry at log index ${it.index} commits to map root ${it.entry.commitment}; it was accepted by log operator ${p.bundle.log.operator.toLowerCase()} at ${it.entry.at} per its signed receipt${cpOk ? ` and existed, unchanged, no later than ${cp.blockTime}` : ''}.`;
  const bundleProves = r.proves.filter((x) => !x.startsWith('Item 0 ('));
  const proves = verdict === 'valid' ? [statement[0]!.toUpperCase() + statement.slice(1) + '.', rootLine, ...bundleProves] : r.proves;
  const limits = [
    `The state is the one as of log size ${p.stateRoot.treeSize} (the state.root entry); entries after it are covered by later state roots, not by this proof.`,
    'The leaf holds what the public log shows (kinds, order, times): amounts and parties are in the records, which the parties check against the leaf\'s history hash.',
    ...r.limits.filter((x) => !x.startsWith('A bundle shows the events it holds')),
  ];
  const items = r.items.map((x) => (x.status === 'erased' && verdict === 'valid' ? { ...x, status: 'verified' as const } : x));
  return {
    ...r,
    items,
    verdict,
    accepted: verdict === 'valid' || (verdict === 'pending' && r.accepted),
    firstFailure: failed ?? r.firstFailure,
    steps,
    proves,
    limits,
    status: {
      subject: p.subject,
      ...(p.subjectLink ? { subjectKey: p.subjectLink.key } : {}),
      domain: p.domain,
      present: p.leaf !== null,
      status: p.leaf?.status ?? null,
      lastIndex: p.leaf?.lastIndex ?? null,
      lastAt: p.leaf?.lastAt ?? null,
      entries: p.leaf?.entries ?? 0,
      asOfTreeSize: p.stateRoot.treeSize,
      checkpoint: cp?.treeSize ?? null,
      blockTime: cp?.blockTime ?? null,
      statement,
    },
  };
}

/** Verifies a status proof against the chain. Throws StatusProofFormatError / BundleFormatError on bad shape, ChainReadError when the chain cannot be read. */
export async function verifyStatusProof(doc: unknown, opts: VerifyOptions): Promise<StatusVerificationReport> {
  const p = loadStatusProof(doc);
  return combine(p, ownSteps(p), await verifyBundle(p.bundle, opts));
}

/** The offline part (no chain): every step but the on-chain ones. */
export function verifyStatusProofOffline(doc: unknown, opts: OfflineOptions = {}): StatusVerificationReport {
  const p = loadStatusProof(doc);
  return combine(p, ownSteps(p), verifyBundleOffline(p.bundle, opts));
}
