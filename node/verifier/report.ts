/** The verification report (`tianfu.verification/v1`): verdict, summaries and, in words, what was proven and what not. */
import type { Hex } from '../protocol/bytes';
import { BUNDLE_FORMAT, type Bundle } from '../protocol/formats';
import type { ItemResult, OfflineOptions, Steps } from './context';
import { VERIFICATION_REPORT_TYPE, type CheckpointSummary, type ItemSummary, type TimeSummary, type VerificationReport, type VerifyOptions } from './types';

function statements(b: Bundle, items: ItemSummary[], cps: CheckpointSummary[], file: VerificationReport['file'], required: number, trust: VerifyOptions['trust'], time: TimeSummary | null): { proves: string[]; limits: string[] } {
  const proves: string[] = [];
  const byTree = new Map(cps.map((c) => [c.treeSize, c]));
  for (const c of cps) {
    if (c.status !== 'ok') continue;
    proves.push(`Log ${c.logId} had ${c.treeSize} entries with root ${c.rootHash} no later than ${c.blockTime} (UTC, to the second): registry ${c.registry} on chain ${c.chainId} recorded it in block ${c.blockNumber} (hash ${c.blockHash}, ${c.confirmations} confirmation${c.confirmations === 1 ? '' : 's'}), read from the chain, not from the bundle.`);
  }
  for (const s of items) {
    const c = s.checkpoint === null ? undefined : byTree.get(s.checkpoint);
    const when = c && c.status === 'ok' ? `; it existed, unchanged, no later than ${c.blockTime}` : '';
    if (s.status === 'verified') proves.push(`Item ${s.item} (log index ${s.index}, ${s.kind}): the record in this bundle is exactly the one committed in that entry (SHA-256 of its canonical JSON ${s.recordDigest}), accepted by log operator ${b.log.operator.toLowerCase()} at ${s.at} per its signed receipt${when}.`);
    else if (s.status === 'erased') proves.push(`Item ${s.item} (log index ${s.index}, ${s.kind}): content erased; the entry proves a ${s.kind} record about ${b.subject} was logged at ${s.at}${when}, not what it said.`);
    else if (s.status === 'pending') proves.push(`Item ${s.item} (log index ${s.index}, ${s.kind}): accepted by log operator ${b.log.operator.toLowerCase()} at ${s.at} per its signed receipt (a promise to anchor); not yet anchored on chain.`);
  }
  for (const t of time?.tokens ?? []) {
    if (t.status === 'ok') proves.push(`Independently of the chain and of the log operator, the time-stamping authority ${t.tsa} attests (RFC 3161, policy ${t.policy}, serial ${t.serialNumber}) that the signed checkpoint of size ${time!.checkpoint} existed no later than ${t.notAfter} (genTime ${t.genTime}${t.accuracyMs !== null ? ` ± ${t.accuracyMs} ms` : ''}).`);
  }
  if (file && file.status === 'ok') {
    const digests = `SHA-256 ${file.sha256}${file.sm3 ? `, SM3 ${file.sm3}` : ''}`;
    proves.push(b.kind === 'invoice' ? `The XML given (${digests}) is byte for byte the document the invoice record was registered from.` : `The file given (${digests}) is byte for byte the file deposited.`);
  }
  const limits = [
    'This proves integrity and existence since the anchoring time: the records (and the file) have not changed since then. It does not prove that their content is true, nor that the data was authentic before it was registered (SPC Online Litigation Rules Arts. 16 and 18).',
    'Acceptance times (entry `at`) are the log operator\'s statement, signed in its receipts; the block time is the chain\'s and bounds them from above.',
    'A bundle shows the events it holds. It cannot show that no event about the subject came after its last one, or that none was left out where the lifecycle rules would allow it: `tianfu audit` replays the whole log for that.',
    `The anchoring block had at least ${required} confirmation${required === 1 ? '' : 's'} when read; a chain reorganisation deeper than the confirmations could still replace it.`,
  ];
  if (time && time.tokens.some((t) => t.status === 'skipped')) {
    limits.push('An RFC 3161 token was checked except for who its TSA is: no TSA trust anchors were given (tianfu verify --tsa-ca FILE), so the time it states is only as good as an unknown TSA\'s word.');
  }
  if (trust?.registry === undefined || trust.logId === undefined) {
    limits.push(`The registry ${b.log.registry.toLowerCase()} and log ${b.log.logId} are the bundle's own claim${trust?.registry !== undefined ? ' (the registry was pinned)' : ''}: anyone can deploy a registry of their own and anchor in it. Compare them with the ledger's published address book, or pin them (tianfu verify --registry ADDR --log-id ID).`);
  }
  return { proves, limits };
}

/** The report, from the steps' rows and what the item and checkpoint steps left. */
export function buildReport(b: Bundle, opts: OfflineOptions, steps: Steps, results: readonly ItemResult[], cps: CheckpointSummary[], file: VerificationReport['file'], required: number, time: TimeSummary | null): VerificationReport {
  const failedItems = new Set(steps.list.filter((s) => s.status === 'failed' && s.item !== undefined).map((s) => s.item!));
  const cpByTree = new Map(cps.map((c) => [c.treeSize, c]));
  const items: ItemSummary[] = b.items.map((it, i) => {
    const r = results[i]!;
    const cp = it.anchor ? cpByTree.get(it.anchor.treeSize) : undefined;
    let status: ItemSummary['status'];
    if (failedItems.has(i) || cp?.status === 'failed') status = 'invalid';
    else if (r.pending || cp === undefined || cp.status !== 'ok') status = 'pending';
    else status = it.record === null ? 'erased' : 'verified';
    return { item: i, index: it.index, kind: it.entry.kind, at: it.entry.at, status, recordDigest: r.digest, leafHash: r.leaf, checkpoint: it.anchor?.treeSize ?? null };
  });
  const failed = steps.list.find((s) => s.status === 'failed') ?? null;
  const pendingStep = steps.list.find((s) => s.status === 'pending') ?? null;
  const verdict: VerificationReport['verdict'] = failed ? 'invalid' : pendingStep ? 'pending' : 'valid';
  const { proves, limits } = statements(b, items, cps, file, required, opts.trust, time);
  return {
    type: VERIFICATION_REPORT_TYPE,
    verdict,
    accepted: verdict === 'valid' || (verdict === 'pending' && opts.allowPending === true),
    firstFailure: failed ?? pendingStep,
    bundle: { format: BUNDLE_FORMAT, kind: b.kind, subject: b.subject, ...(b.subjectLink ? { subjectKey: b.subjectLink.key } : {}), logId: b.log.logId, operator: b.log.operator.toLowerCase() as Hex, chainId: b.log.chainId, registry: b.log.registry.toLowerCase() as Hex, items: b.items.length, createdAt: b.createdAt },
    items,
    checkpoints: cps,
    file,
    steps: steps.list,
    time,
    proves,
    limits,
    confirmationsRequired: required,
    verifiedAt: (opts.now ?? (() => new Date()))().toISOString(),
  };
}
