/**
 * Builds the court report (`tianfu.report/v1`) from a verification and the bundle it verified: the
 * 15 checklist items in order (docs/report.md), each PASS / FAIL / NOT APPLICABLE / NOT PROVIDED
 * with the raw values and the verifier's own rows it rests on. Nothing here checks anything the
 * verifier did not: an item's status follows from the steps' statuses; the values are read from
 * the bundle and the verification (and the inclusion roots recomputed, to show them).
 */
import { canonicalBytes } from '../protocol/canonical';
import { sha256 } from '../protocol/hash';
import { fromHex, toHex, type Hex } from '../protocol/bytes';
import { rootFromInclusionProof } from '../protocol/merkle';
import { COMMITMENT_TAG } from '../protocol/record';
import type { Bundle, BundleItem } from '../protocol/formats';
import type { OperatorDeclaration, SignedOperatorProfile } from '../protocol/operator-profile';
import type { StepName, VerificationReport, VerificationStep } from '../verifier/types';
import { COURT_REPORT_TYPE, type CourtReport, type ItemStatus, type Label, type ReportItem, type ReportTable, type ReportValue, type ReproducibilityPack } from './types';
import { ITEM_TEXT, LIMITATIONS, REPORT_TITLE } from './labels';

export interface ReportInputs {
  verifier: ReproducibilityPack['verifier'];
  /** The exact command that reruns the verification. */
  command: string;
  /** Digests of the inputs as the verifier read them (bundle file, evidence file, TSA roots, RPC). */
  inputs?: ReportValue[];
  /** Where the verification page is: the QR code links there with the bundle's digest. */
  verificationPage?: string | null;
}

const CHAIN_NAMES: Record<string, string> = {
  '1': 'Ethereum mainnet',
  '10': 'OP Mainnet',
  '56': 'BNB Smart Chain',
  '137': 'Polygon PoS',
  '8453': 'Base',
  '17000': 'Holesky testnet',
  '42161': 'Arbitrum One',
  '11155111': 'Sepolia testnet',
  '31337': 'Hardhat / the ledger\'s embedded chain (one node, development default)',
};

export function chainName(chainId: string): string {
  return CHAIN_NAMES[chainId] ?? `chain id ${chainId} (name not known to this verifier)`;
}

const v = (zh: string, en: string, value: unknown): ReportValue => ({ zh, en, value: value === undefined || value === null || value === '' ? '—' : typeof value === 'string' ? value : JSON.stringify(value) });
const l = (zh: string, en: string): Label => ({ zh, en });

type Obj = Record<string, unknown>;
const asObj = (x: unknown): Obj | null => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Obj) : null);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : typeof x === 'number' ? String(x) : undefined);

interface Ctx {
  b: Bundle;
  r: VerificationReport;
  steps: (names: readonly StepName[], where?: (s: VerificationStep) => boolean) => VerificationStep[];
}

const failed = (ss: readonly VerificationStep[]): VerificationStep | undefined => ss.find((s) => s.status === 'failed');
const describe = (s: VerificationStep): string => `${s.name}${s.item !== undefined ? ` (item ${s.item})` : s.token !== undefined ? ` (token ${s.token})` : s.checkpoint !== undefined ? ` (checkpoint ${s.checkpoint})` : ''}: ${s.detail}`;

function item(n: number, status: ItemStatus, summary: string, values: ReportValue[], steps: VerificationStep[], tables: ReportTable[] = []): ReportItem {
  const t = ITEM_TEXT[n - 1]!;
  return { n, key: t.key, title: t.title, checks: t.checks, status, summary, values, tables, steps };
}

// ---- 1. evidence identity ----
function fileIdentity({ b, r, steps }: Ctx): ReportItem {
  if (b.kind === 'invoice') {
    const ss = steps(['xml-sha256', 'xml-sm3', 'xml-size']);
    const values = [v('原始文件', 'original document', b.xml ? 'the invoice XML, carried in the bundle' : 'none'), v('SHA-256（核验方重算）', 'SHA-256 (recomputed)', r.file?.sha256), v('SM3（核验方重算）', 'SM3 (recomputed)', r.file?.sm3), v('字节长度', 'byte length', r.file?.size)];
    const f = failed(ss);
    if (f) return item(1, 'FAIL', describe(f), values, ss);
    if (ss.length === 0) return item(1, 'NOT APPLICABLE', 'the invoice was registered as JSON: there is no original document whose digests a file could be compared with', values, ss);
    return item(1, ss.every((s) => s.status === 'ok') ? 'PASS' : 'NOT PROVIDED', ss.every((s) => s.status === 'ok') ? 'the XML document is byte for byte the one the invoice record was registered from (SHA-256 and SM3 recomputed here)' : 'the XML document was not given', values, ss);
  }
  if (b.kind !== 'evidence') return item(1, 'NOT APPLICABLE', 'a record bundle names no file', [], []);
  const ss = steps(['file-claim', 'file-sha256', 'file-sm3', 'file-size']);
  const rec = asObj(b.items[0]?.record);
  const meta = asObj(rec?.metadata);
  const dep = asObj(rec?.file);
  const values = [
    v('文件名', 'file name', meta?.fileName),
    v('媒体类型', 'media type', meta?.mediaType),
    v('字节长度（存证记录）', 'byte length (deposit record)', dep?.size),
    v('SHA-256（存证记录）', 'SHA-256 (deposit record)', dep?.sha256),
    v('SM3（存证记录）', 'SM3 (deposit record)', dep?.sm3),
    v('SHA-256（核验方由所持文件重算）', 'SHA-256 (recomputed from the file held)', r.file?.sha256),
    v('SM3（核验方由所持文件重算）', 'SM3 (recomputed from the file held)', r.file?.sm3),
    v('字节长度（重算）', 'byte length (recomputed)', r.file?.size),
  ];
  if (rec === null) values.unshift(v('存证记录', 'deposit record', 'erased (crypto-shredded): record and salt deleted'));
  const f = failed(ss);
  if (f) return item(1, 'FAIL', describe(f), values, ss);
  const sha = ss.find((s) => s.name === 'file-sha256');
  const sm3 = ss.find((s) => s.name === 'file-sm3');
  if (sha?.status === 'ok' && sm3?.status === 'ok') return item(1, 'PASS', `the file held is the deposited file: SHA-256 ${r.file!.sha256} and SM3 ${r.file!.sm3}, recomputed by this verifier, are the deposit record's`, values, ss);
  return item(1, 'NOT PROVIDED', 'no file was given to this verifier (--file, or the page\'s file field), so its digests were not recomputed; the values above are the deposit record\'s', values, ss);
}

// ---- 2. leaf construction ----
function leafConstruction({ b, r, steps }: Ctx): ReportItem {
  const ss = steps(['canonical-bytes', 'record-digest', 'commitment', 'entry', 'leaf-hash']);
  const values = [
    v('规范化', 'canonicalisation', 'RFC 8785 (JCS) canonical JSON of each record and entry'),
    v('记录摘要', 'record digest', 'SHA-256(JCS(record))'),
    v('加盐承诺', 'salted commitment', `SHA-256("${COMMITMENT_TAG}" ‖ 0x00 ‖ salt ‖ record digest), 32-byte random salt per record`),
    v('叶子', 'leaf', 'SHA-256(0x00 ‖ JCS(entry)), entry = {v, kind, subject, commitment, at} (RFC 9162 leaf prefix)'),
  ];
  const table: ReportTable = {
    caption: l('各条目的记录摘要与叶子哈希', 'record digest and leaf hash of each item'),
    columns: [l('条目', 'item'), l('日志序号', 'log index'), l('类型', 'kind'), l('记录摘要', 'record digest'), l('叶子哈希', 'leaf hash')],
    rows: r.items.map((it) => [String(it.item), String(it.index), it.kind, it.recordDigest ?? (it.status === 'erased' ? 'erased' : '—'), it.leafHash]),
  };
  const f = failed(ss);
  if (f) return item(2, 'FAIL', describe(f), values, ss, [table]);
  const erased = r.items.filter((i) => i.status === 'erased').length;
  return item(2, 'PASS', `every one of the ${b.items.length} records recomputes to its logged commitment and leaf${erased ? ` (${erased} erased: its entry alone is shown)` : ''}`, values, ss, [table]);
}

// ---- 3. anchor ----
function anchor({ r, steps }: Ctx): ReportItem {
  const ss = steps(['chain-id', 'registry-code', 'anchor', 'operator', 'block', 'entry'], (s) => s.checkpoint !== undefined || s.name === 'operator');
  const values: ReportValue[] = [];
  for (const c of r.checkpoints) {
    values.push(
      v('链 ID 与名称', 'chain id and name', `${c.chainId} — ${chainName(c.chainId)}`),
      v('登记合约', 'registry contract', c.registry),
      v('锚定交易', 'anchoring transaction', c.txHash),
      v('区块高度', 'block number', c.blockNumber),
      v('区块哈希', 'block hash', c.blockHash),
      v('区块时间（UTC）', 'block time (UTC)', c.blockTime),
      v('核验时确认数', 'confirmations at verification', c.confirmations === null ? null : `${c.confirmations} (${r.confirmationsRequired} required)`),
      v('链上登记的运营者', 'operator named by the registry', c.operator),
    );
  }
  const f = failed(ss);
  if (f) return item(3, 'FAIL', describe(f), values, ss);
  if (r.checkpoints.length === 0) return item(3, 'NOT PROVIDED', 'nothing in the bundle is anchored yet (pending): refresh it once the node anchors', values, ss);
  const pending = ss.find((s) => s.status === 'pending');
  if (pending) return item(3, 'NOT PROVIDED', describe(pending), values, ss);
  const c = r.checkpoints[0]!;
  return item(3, 'PASS', `read from the chain, not the bundle: block ${c.blockNumber} (hash ${c.blockHash}) of chain ${c.chainId} at ${c.blockTime}, ${c.confirmations} confirmation${c.confirmations === 1 ? '' : 's'}`, values, ss);
}

// ---- 4. inclusion ----
function inclusion({ b, r, steps }: Ctx): ReportItem {
  const ss = [...steps(['inclusion', 'receipt-signature', 'receipt-proof', 'receipt-consistency', 'receipt-fields']), ...steps(['checkpoint-signature', 'anchor'])];
  const rows = b.items.map((it: BundleItem, i) => {
    let root = '—';
    if (it.inclusion) {
      try {
        root = toHex(rootFromInclusionProof(it.inclusion.leafIndex, it.inclusion.treeSize, fromHex(r.items[i]!.leafHash, 32), it.inclusion.proof.map((h) => fromHex(h, 32))));
      } catch (err) {
        root = `does not compute: ${(err as Error).message}`;
      }
    }
    return [String(i), String(it.index), it.inclusion ? String(it.inclusion.treeSize) : 'pending', it.inclusion ? String(it.inclusion.proof.length) : '—', root, it.inclusion?.proof.join(' ') ?? '—'];
  });
  const cp = b.checkpoint;
  const cpStep = ss.find((s) => s.name === 'checkpoint-signature');
  const values = [
    v('签名检查点', 'signed checkpoint', cp ? `tree size ${cp.treeSize}, root ${cp.rootHash}` : 'not carried by this bundle'),
    v('检查点签名者', 'checkpoint signer', cpStep?.calculated ?? null),
    v('链上根（registry.checkpoint）', 'on-chain root (registry.checkpoint)', ss.find((s) => s.name === 'anchor' && s.status === 'ok')?.expected ?? null),
    v('收据签名者（日志运营者）', 'receipts signed by (log operator)', b.log.operator.toLowerCase()),
  ];
  const table: ReportTable = {
    caption: l('包含证明（RFC 9162）', 'inclusion proofs (RFC 9162)'),
    columns: [l('条目', 'item'), l('叶子序号', 'leaf index'), l('树大小', 'tree size'), l('路径长度', 'path length'), l('重算的根', 'recomputed root'), l('审计路径', 'audit path')],
    rows,
  };
  const f = failed(ss);
  if (f) return item(4, 'FAIL', describe(f), values, ss, [table]);
  if (r.items.some((i) => i.checkpoint === null)) return item(4, 'NOT PROVIDED', 'some items are pending: their inclusion proofs do not exist yet (their signed receipts are checked)', values, ss, [table]);
  return item(4, 'PASS', `each leaf's audit path recomputes the root ${r.checkpoints[0]?.rootHash}, which is the root the registry holds for size ${r.checkpoints[0]?.treeSize}${cp ? ' and the one the log operator signed' : ''}`, values, ss, [table]);
}

// ---- 5. consistency ----
function consistency({ r, steps }: Ctx): ReportItem {
  const ss = steps(['consistency']);
  const values: ReportValue[] = [];
  for (const c of r.checkpoints) {
    values.push(v('本包检查点', 'the bundle\'s checkpoint', `tree size ${c.treeSize}, root ${c.rootHash}`));
    values.push(v('核验时链上最新检查点', 'latest checkpoint on chain at verification', c.latest ? `tree size ${c.latest.treeSize}, root ${c.latest.rootHash}, block ${c.latest.blockNumber}${c.latest.blockTime ? ` (${c.latest.blockTime})` : ''}` : null));
  }
  values.push(v('一致性证明的验证', 'consistency proofs checked', 'by the AnchorRegistry contract at every anchoring (RFC 9162 §2.1.4): a checkpoint is stored only with a valid proof from the one before it'));
  values.push(v('见证人联署', 'witness cosignatures', 'none: this log has no witnesses; the public chain is its witness'));
  const f = failed(ss);
  if (f) return item(5, 'FAIL', describe(f), values, ss);
  const ok = ss.filter((s) => s.status === 'ok');
  if (ok.length === 0 || ok.length !== ss.length) return item(5, 'NOT PROVIDED', ss.find((s) => s.status !== 'ok') ? describe(ss.find((s) => s.status !== 'ok')!) : 'nothing is anchored yet, so there is no checkpoint to follow', values, ss);
  const c = r.checkpoints[0]!;
  return item(5, 'PASS', c.latest && c.latest.treeSize > c.treeSize ? `the log as anchored now (size ${c.latest.treeSize}) extends the bundle's checkpoint (size ${c.treeSize})` : `the bundle's checkpoint (size ${c.treeSize}) is the latest the registry holds`, values, ss);
}

// ---- 6. independent time ----
function independentTime({ r, steps }: Ctx): ReportItem {
  const ss = steps(['tsa-token', 'tsa-imprint', 'tsa-signature', 'tsa-certificate', 'tsa-ess-cert-id', 'tsa-chain', 'tsa-time']);
  const t = r.time;
  const values: ReportValue[] = [];
  if (t) {
    values.push(v('不早于（检查点所含最新条目的受理时间）', 'not before (newest entry the checkpoint covers)', t.notBefore));
    values.push(v('链给出的上界（区块时间）', 'no later than, by the chain (block time)', t.chainNotAfter));
    for (const k of t.tokens) {
      values.push(
        v(`时间戳机构 ${k.token}`, `time-stamping authority ${k.token}`, k.tsa),
        v('genTime', 'genTime', k.genTime === null ? null : `${k.genTime}${k.accuracyMs !== null ? ` ± ${k.accuracyMs} ms` : ' (no accuracy stated)'}`),
        v('策略 OID / 序列号', 'policy OID / serial number', k.policy === null ? null : `${k.policy} / ${k.serialNumber}`),
        v('时间戳机构给出的上界', 'no later than, by this TSA', k.notAfter),
      );
    }
    values.push(v('两者是否一致', 'do the windows agree', t.agree === null ? 'not compared' : t.agree ? 'yes' : 'NO'));
    if (t.gapMs !== null) values.push(v('genTime 与区块时间之差', 'genTime minus block time', `${t.gapMs} ms`));
  }
  const f = failed(ss);
  if (f) return item(6, 'FAIL', describe(f), values, ss);
  if (!t) return item(6, 'NOT PROVIDED', 'the verification did not check time evidence (offline)', values, ss);
  if (t.status === 'not-provided') return item(6, 'NOT PROVIDED', 'no RFC 3161 token in this bundle: the operator configured no time-stamping authority, or the token was not obtained yet (refresh the bundle). The chain\'s block time is the only time here.', values, ss);
  if (t.status !== 'ok') return item(6, 'NOT PROVIDED', 'the token was checked except for who the TSA is: no TSA trust anchors were given (--tsa-ca)', values, ss);
  if (t.agree === false) return item(6, 'FAIL', 'the TSA\'s and the chain\'s time windows do not agree', values, ss);
  const k = t.tokens[0]!;
  return item(6, 'PASS', `independently of the chain and of the operator, ${k.tsa} attests that the signed checkpoint existed no later than ${k.notAfter}; the chain says no later than ${t.chainNotAfter}; both after ${t.notBefore}`, values, ss);
}

// ---- 7. depositor ----
function depositor({ b, steps }: Ctx): ReportItem {
  const ss = steps(['depositor-signature']);
  if (b.kind === 'evidence') {
    const rec = asObj(b.items[0]?.record);
    const by = asObj(rec?.collector);
    const sig = asObj(rec?.collectorSignature);
    const values = [
      v('存证人（API 密钥）', 'depositor (API key)', by ? `${str(by.keyId)} (role ${str(by.role)})` : null),
      v('存证人名称', 'depositor name', by?.name),
      v('签名地址', 'signing address', sig?.address),
      v('所签摘要 SHA-256(JCS(metadata))', 'digest signed, SHA-256(JCS(metadata))', sig?.digest),
      v('签名（EIP-191）', 'signature (EIP-191)', sig?.signature),
    ];
    const s = ss[0];
    if (!s) return item(7, 'NOT PROVIDED', 'the bundle holds no deposit record', values, ss);
    if (s.status === 'failed') return item(7, 'FAIL', describe(s), values, ss);
    if (s.status === 'ok') return item(7, 'PASS', s.detail, values, ss);
    return item(7, 'NOT PROVIDED', s.detail, values, ss);
  }
  if (b.kind === 'invoice') {
    const seller = asObj(asObj(b.items[0]?.record)?.seller);
    return item(7, 'NOT PROVIDED', 'an invoice is registered by the issuer\'s API key; the invoice carries no signature of the seller\'s own', [v('销售方', 'seller', seller ? `${str(seller.name) ?? ''} ${str(seller.taxId) ?? ''}`.trim() : null)], ss);
  }
  return item(7, 'NOT APPLICABLE', 'a record bundle has no depositor', [], ss);
}

/** The capture window a deposit states, wherever the capture tool put it. */
function captureWindow(meta: Obj | null): { start?: string; end?: string } | null {
  const cands = [asObj(meta?.capture), asObj(asObj(meta?.capture)?.window), asObj(asObj(meta?.environment)?.captureWindow), asObj(asObj(meta?.environment)?.capture)];
  for (const c of cands) {
    if (!c) continue;
    const start = str(c.startedAt) ?? str(c.start) ?? str(c.from);
    const end = str(c.endedAt) ?? str(c.end) ?? str(c.to);
    if (start || end) return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
  }
  return null;
}

const CAPTURE_SKEW_MS = 5 * 60 * 1000;

// ---- 8. pre-chain provenance ----
function provenance({ b, r, steps }: Ctx): ReportItem {
  if (b.kind !== 'evidence') return item(8, 'NOT APPLICABLE', b.kind === 'invoice' ? 'an invoice\'s source is its issuer\'s system; its status at the tax platform is corroborated by a status proof, not by this report' : 'a record bundle has no capture', [], []);
  const first = b.items[0];
  const rec = asObj(first?.record);
  const meta = asObj(rec?.metadata);
  const ss = steps(['commitment'], (s) => s.item === 0);
  if (!first || rec === null || !meta) return item(8, 'NOT PROVIDED', rec === null ? 'the deposit record is erased: its capture metadata is gone' : 'the bundle holds no deposit metadata', [], ss);
  const env = asObj(meta.environment);
  const source = asObj(meta.source);
  const win = captureWindow(meta);
  const capturedAt = str(meta.capturedAt);
  const at = first.entry.at;
  const gap = capturedAt ? Date.parse(at) - Date.parse(capturedAt) : NaN;
  // A deposit the node made from its own capture names the package's manifest (docs/capture.md).
  const nodeCapture = asObj(rec.capture);
  const pkg = r.capture;
  const captureSteps = steps(['capture-manifest', 'capture-artifact', 'capture-datapackage', 'capture-window']);
  const values = [
    v('取证方式', 'capture method', meta.method),
    v('来源', 'source', source?.url ?? source?.description),
    v('取证时间（存证人声明）', 'captured at (declared)', capturedAt),
    v('取证时间窗', 'capture window', win ? `${win.start ?? '?'} – ${win.end ?? '?'}` : null),
    v('受理时间（日志）', 'accepted at (log)', at),
    v('取证至存证间隔', 'capture to deposit', Number.isFinite(gap) ? `${Math.round(gap / 1000)} s` : null),
    v('取证环境', 'capture environment', env && Object.keys(env).length ? JSON.stringify(env) : null),
    v('案号', 'case reference', meta.caseRef),
    ...(nodeCapture ? [v('节点取证（清单）', 'node capture (manifest)', JSON.stringify(nodeCapture))] : []),
    ...(pkg
      ? [
          v('取证包', 'capture package', `${pkg.captureId ?? '—'}: ${pkg.artifacts.length} artifacts checked`),
          v('最终网址', 'final URL', pkg.finalUrl),
          v('链上时间窗（开始区块至锚定区块）', 'window on chain (start block to anchoring block)', pkg.window ? `${pkg.window.from} – ${pkg.window.to ?? 'not anchored yet'} (block ${pkg.window.startBlock}${pkg.window.anchorBlock ? ` to ${pkg.window.anchorBlock}` : ''})` : null),
          v('源站证书 SHA-256 指纹', 'origin certificate SHA-256 fingerprint', pkg.originFingerprint256),
        ]
      : []),
  ];
  const all = [...ss, ...captureSteps];
  const f = failed(all);
  if (f) return item(8, 'FAIL', f.name.startsWith('capture-') ? describe(f) : `the provenance shown is not the one committed at deposit: ${describe(f)}`, values, all);
  if (Number.isFinite(gap) && gap < -CAPTURE_SKEW_MS) return item(8, 'FAIL', `the capture time ${capturedAt} is after the deposit was accepted (${at}) by more than 5 minutes`, values, all);
  if (!env || (Object.keys(env).length === 0 && !win)) return item(8, 'NOT PROVIDED', 'the deposit states no capture environment', values, all);
  const pkgNote = pkg
    ? pkg.window?.to
      ? `; the capture package's artifacts match its manifest and its window on chain is ${pkg.window.from} – ${pkg.window.to}`
      : '; the capture package\'s artifacts match its manifest'
    : nodeCapture
      ? '; the node made this capture itself: give its package (the .wacz) as the file to check its artifacts and its window on chain'
      : '';
  return item(8, 'PASS', `the capture method, source, time and environment shown are what the depositor declared and the log committed at deposit (their truth is the depositor's statement: see the limitations)${pkgNote}`, values, all);
}

// ---- 9. custody ----
function custody({ b, r, steps }: Ctx): ReportItem {
  const ss = steps(['custody-order', 'custody-rules']);
  const rows = b.items.map((it, i) => {
    const rec = asObj(it.record);
    const by = asObj(rec?.by) ?? asObj(rec?.collector);
    const who = by ? `${str(by.keyId) ?? '?'} (${str(by.role) ?? '?'}${by.name ? `, ${str(by.name)}` : ''})` : rec === null ? 'erased' : '—';
    const what = str(rec?.event) ?? it.entry.kind;
    const why = [str(rec?.reason), str(rec?.note)].filter(Boolean).join(' — ');
    const s = r.items[i]!;
    return [String(it.index), it.entry.at, what, who, why || '—', s.recordDigest ?? '—', s.status];
  });
  const table: ReportTable = {
    caption: l('保管链事件（每一事件均为独立的日志条目）', 'chain-of-custody events (each its own log entry)'),
    columns: [l('日志序号', 'log index'), l('时间', 'time'), l('事件', 'event'), l('操作者', 'who'), l('理由 / 备注', 'reason / note'), l('记录摘要', 'record digest'), l('状态', 'status')],
    rows,
  };
  const values = [v('事件数', 'events', String(b.items.length)), v('最后一个事件', 'last event', `${b.items.at(-1)!.entry.kind} at ${b.items.at(-1)!.entry.at}`)];
  const f = failed(ss) ?? (r.items.some((i) => i.status === 'invalid') ? r.steps.find((s) => s.status === 'failed' && s.item !== undefined) : undefined);
  if (f) return item(9, 'FAIL', describe(f), values, ss, [table]);
  if (r.items.some((i) => i.status === 'pending')) return item(9, 'NOT PROVIDED', 'some events are not anchored yet (pending)', values, ss, [table]);
  return item(9, 'PASS', `${b.items.length} event${b.items.length === 1 ? '' : 's'} in log order, every one verified, the lifecycle rules replayed without violation`, values, ss, [table]);
}

// ---- 10–12. the operator's disclosures ----
function profileOf(b: Bundle): SignedOperatorProfile | null {
  return (b.operatorProfile?.profile as SignedOperatorProfile | undefined) ?? null;
}

function disclosures(ctx: Ctx, n: 10 | 11 | 12): ReportItem {
  const { b } = ctx;
  const ss = ctx.steps(['operator-profile']);
  const p = profileOf(b);
  const d: Partial<OperatorDeclaration> = (p?.declared ?? {}) as Partial<OperatorDeclaration>;
  const sign = [v('披露摘要 SHA-256', 'disclosure digest (SHA-256)', b.operatorProfile?.digest), v('签名者（日志运营者）', 'signed by (the log operator)', ss[0]?.calculated ?? null), v('签署时间', 'signed at', p?.signedAt)];
  let values: ReportValue[] = [];
  let tables: ReportTable[] = [];
  let missing: string | null = null;
  if (n === 10) {
    values = [v('运营者', 'operator', d.operatorName), v('统一社会信用代码', 'USCC', d.uscc), v('区块链信息服务备案编号', 'CAC blockchain filing number', d.cacFilingNumber), v('等级保护级别（GB/T 22239）', 'MLPS level (GB/T 22239)', d.mlpsLevel === undefined ? null : `第${d.mlpsLevel}级 / level ${d.mlpsLevel}${d.mlpsReference ? `, ${d.mlpsReference}` : ''}`), v('测评 / 认证 / 标准符合性', 'test reports, accreditations, conformity', d.accreditations?.join('; '))];
    if (!d.operatorName || !d.uscc || !d.cacFilingNumber || d.mlpsLevel === undefined) missing = 'the operator declared no name, USCC, CAC filing number and MLPS level';
  } else if (n === 11) {
    values = [v('运营者', 'operator', d.operatorName), v('利益关系声明', 'interest statement', d.interestStatement)];
    tables = [{ caption: l('节点及其运营方', 'nodes and who runs them'), columns: [l('节点', 'node'), l('运营方', 'run by'), l('角色', 'role'), l('位置', 'location')], rows: (d.nodes ?? []).map((x) => [x.name, x.operator, x.role, x.location ?? '—']) }];
    if (!d.operatorName || !d.nodes || d.nodes.length === 0) missing = 'the operator declared no node list';
  } else {
    const t = p?.technical;
    values = [
      v('软件', 'software', t ? `${t.software.name} ${t.software.version} (${t.software.runtime})` : null),
      ...Object.entries(t?.algorithms ?? {}).map(([k, x]) => v(`算法：${k}`, `algorithm: ${k}`, x)),
      v('链', 'chain', t ? `${t.chain.chainId} (${chainName(t.chain.chainId)}), registry ${t.chain.registry}${t.chain.embedded ? ', embedded' : ''}` : null),
      v('确认数', 'confirmations', t?.chain.confirmations),
      v('检查点间隔 / 最大合并延迟（MMD）', 'checkpoint interval / maximum merge delay (MMD)', t ? `${t.anchoring.checkpointIntervalMs} ms / ${t.anchoring.mmdMs} ms` : null),
      v('时间戳机构', 'time-stamping authorities', t ? (t.timestamping.tsaUrls.join(', ') || 'none configured') : null),
      v('密钥保管（声明）', 'key custody (declared)', d.keyCustody),
      v('时钟来源（声明）', 'clock source (declared)', d.clockSource),
      v('传输安全（声明）', 'transport security (declared)', d.transportSecurity),
    ];
    if (!t) missing = 'no technical profile';
    else if (!d.keyCustody || !d.clockSource) missing = 'the operator declared no key custody and clock source';
  }
  const values2 = [...values, ...sign];
  const s = ss[0];
  if (!b.operatorProfile) return item(n, 'NOT PROVIDED', 'the bundle carries no operator disclosures: the node runs without TIANFU_OPERATOR_PROFILE', values2, ss, tables);
  if (s?.status === 'failed') return item(n, 'FAIL', describe(s), values2, ss, tables);
  if (missing) return item(n, 'NOT PROVIDED', missing, values2, ss, tables);
  return item(n, 'PASS', `as declared by the operator and signed by the log operator's key (${s?.calculated ?? '?'}); ${n === 12 ? 'the software, algorithms, chain, confirmations and MMD are generated by the node from its running configuration' : 'the declaration is the operator\'s statement, not checked against registers here'}`, values2, ss, tables);
}

// ---- 13. reproducibility ----
function reproducibility(pack: ReproducibilityPack): ReportItem {
  const vv = pack.verifier;
  const values = [
    v('核验程序', 'verifier', `${vv.name} ${vv.version} (${vv.surface})`),
    v('核验程序代码 SHA-256', 'SHA-256 of the verifier\'s code', vv.codeSha256 ? `${vv.codeSha256} (${vv.codeOf})` : null),
    ...(vv.scriptSha256 ? [v('页面脚本 SHA-256', 'SHA-256 of the page script run', vv.scriptSha256)] : []),
    v('复现命令', 'command to rerun', pack.command),
    ...pack.inputs,
  ];
  if (!vv.codeSha256) return item(13, 'NOT PROVIDED', 'this verifier could not state the digest of its own code', values, []);
  return item(13, 'PASS', 'an expert can rerun the same open-source verifier, identified by the digest of its code, on the same inputs (their digests above) and obtain the same steps', values, []);
}

// ---- 14. result ----
function result(r: VerificationReport, pack: ReproducibilityPack): ReportItem {
  const count = (st: string) => r.steps.filter((s) => s.status === st).length;
  const values = [
    v('结论', 'verdict', r.verdict.toUpperCase()),
    v('首个失败或待定步骤', 'first failing or pending step', r.firstFailure ? describe(r.firstFailure) : null),
    v('步骤统计', 'steps', `${count('ok')} ok, ${count('failed')} failed, ${count('pending')} pending, ${count('skipped')} skipped`),
    v('核验时间（UTC）', 'verified at (UTC)', r.verifiedAt),
    v('核验者', 'verified by', `${pack.verifier.name} ${pack.verifier.version}, ${pack.verifier.surface}`),
    v('报告签名', 'signature over the report', 'none: the report is reproducible instead (item 13); its own digest can be recorded in the case file'),
  ];
  if (r.verdict === 'valid') return item(14, 'PASS', `VALID: every check above that could be made passed (verified ${r.verifiedAt})`, values, []);
  if (r.verdict === 'invalid') return item(14, 'FAIL', `INVALID: ${r.firstFailure ? describe(r.firstFailure) : 'a step failed'}`, values, r.firstFailure ? [r.firstFailure] : []);
  return item(14, 'NOT PROVIDED', `PENDING: ${r.firstFailure ? describe(r.firstFailure) : 'not yet anchored'}`, values, r.firstFailure ? [r.firstFailure] : []);
}

// ---- 15. limitations ----
function limitations(r: VerificationReport): ReportItem {
  return item(15, 'NOT APPLICABLE', 'a statement, not a check', [...LIMITATIONS.map((x, i) => v(`限制 ${i + 1}`, `limitation ${i + 1}`, `${x.zh} / ${x.en}`)), ...r.limits.map((x, i) => v(`本次核验的限制 ${i + 1}`, `limit of this verification ${i + 1}`, x))], []);
}

/** SHA-256(JCS(bundle)): the bundle's digest, the same from the CLI, the API and the page. */
export function bundleDigest(b: Bundle): Hex {
  return toHex(sha256(canonicalBytes(b)));
}

/** The report's QR code text: the verification page with the bundle's digest, or the digest alone. */
export function qrTextFor(digest: Hex, page: string | null): string {
  if (!page) return `tianfu-bundle:sha256:${digest}`;
  return `${page.split('#')[0]}#bundle-sha256=${digest}`;
}

export function buildCourtReport(b: Bundle, r: VerificationReport, inputs: ReportInputs): CourtReport {
  const ctx: Ctx = { b, r, steps: (names, where) => r.steps.filter((s) => names.includes(s.name) && (where ? where(s) : true)) };
  const pack: ReproducibilityPack = { verifier: inputs.verifier, command: inputs.command, inputs: inputs.inputs ?? [] };
  const digest = bundleDigest(b);
  const page = inputs.verificationPage ?? null;
  pack.inputs = [v('证据包 SHA-256(JCS)', 'bundle SHA-256(JCS)', digest), ...pack.inputs];
  const items = [
    fileIdentity(ctx),
    leafConstruction(ctx),
    anchor(ctx),
    inclusion(ctx),
    consistency(ctx),
    independentTime(ctx),
    depositor(ctx),
    provenance(ctx),
    custody(ctx),
    disclosures(ctx, 10),
    disclosures(ctx, 11),
    disclosures(ctx, 12),
    reproducibility(pack),
    result(r, pack),
    limitations(r),
  ];
  return { type: COURT_REPORT_TYPE, bundleDigest: digest, verificationPage: page, qrText: qrTextFor(digest, page), title: REPORT_TITLE, verdict: r.verdict, verifiedAt: r.verifiedAt, items, reproducibility: pack, limitations: LIMITATIONS, verification: r };
}
