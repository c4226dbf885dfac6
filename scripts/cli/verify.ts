/**
 * `tianfu verify <bundle.json> [--file F] [--rpc URL] [--confirmations N] [--json] [--allow-pending]
 *  [--refresh URL [--out F]] [--tsa-ca FILE] [--report out.html|out.pdf [--page-url URL]]`: checks a bundle with nothing but the bundle, the file beside it and a
 * JSON-RPC endpoint of the chain it names (docs/protocol.md §9). Uses node/verifier (the same code
 * as the API and the browser page) and node/chain/chain-reader; never the store or the API.
 *
 * Exit codes: 0 valid (or pending with --allow-pending); 1 invalid, with the first failing step
 * named, or pending; 2 unusable input (unreadable or non-JSON bundle, unknown bundle version,
 * missing fields, unreadable --file, unreachable RPC endpoint or node).
 */
import { createReadStream } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { BundleFormatError, ChainReadError, RECEIPT_V2_TYPE, certificatesFromPem, loadBundle, type Bundle, type Hex } from '../../node/protocol';
import { CAPTURE_MANIFEST_PATH, indexCapturePackage, type CapturePackageIndex } from '../../node/protocol/capture-package';
import { connectChainReader, DEFAULT_RPC_TIMEOUT_MS } from '../../node/chain/chain-reader';
import { StatusProofFormatError, isStatusProof, verifyStatusProof, type StatusVerificationReport } from '../../node/verifier';
import { domainHistoryRules, verifyBundle, type VerificationReport, type VerificationStep, type VerifyFileDigests } from '../../node/verifier';
import { ExitCode, UsageError, positiveInt, printJson } from './common';
import { recoverEip191Signer } from '../../node/crypto/eip191';
import type * as ReportModule from './report';

/** The report code (the renderer, the QR encoder, Chromium's driver) loads only for --report. */
const reportModule = (): typeof ReportModule => require('./report') as typeof ReportModule;

export const DEFAULT_RPC_URL = 'http://127.0.0.1:8545';

interface VerifyFlags {
  file?: string;
  rpc?: string;
  confirmations: number;
  json?: boolean;
  allowPending?: boolean;
  refresh?: string;
  out?: string;
  timeout: number;
  registry?: string;
  logId?: string;
  clockSkewMs: number;
  tsaCa?: string;
  report?: string;
  pageUrl?: string;
}

/** The TSA roots of `--tsa-ca FILE`: PEM (one or more CERTIFICATE blocks) or one DER certificate. */
export async function readTsaCa(file: string): Promise<Uint8Array[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new UsageError(`--tsa-ca ${file} cannot be read: ${(err as Error).message}`, 'TSA_CA_UNREADABLE');
  }
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const certs = certificatesFromPem(text);
    if (certs.length === 0) throw new UsageError(`--tsa-ca ${file} holds no PEM CERTIFICATE block`, 'TSA_CA_UNREADABLE');
    return certs;
  }
  // DER: one SEQUENCE.
  if (bytes.length < 16 || bytes[0] !== 0x30) throw new UsageError(`--tsa-ca ${file} is neither PEM nor a DER certificate`, 'TSA_CA_UNREADABLE');
  return [new Uint8Array(bytes)];
}


/** SHA-256, SM3 (GB/T 32905-2016; OpenSSL's 'sm3') and byte length of a file, streamed. */
export async function hashFile(file: string): Promise<Required<VerifyFileDigests>> {
  const sha = createHash('sha256');
  const sm3 = createHash('sm3');
  let size = 0;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      const buf = chunk as Buffer;
      sha.update(buf);
      sm3.update(buf);
      size += buf.length;
    }
  } catch (err) {
    throw new UsageError(`--file ${file} cannot be read: ${(err as Error).message}`, 'FILE_UNREADABLE');
  }
  return { sha256: `0x${sha.digest('hex')}` as Hex, sm3: `0x${sm3.digest('hex')}` as Hex, size };
}

function digestsOfBytes(b: Buffer): Required<VerifyFileDigests> {
  return { sha256: `0x${createHash('sha256').update(b).digest('hex')}` as Hex, sm3: `0x${createHash('sm3').update(b).digest('hex')}` as Hex, size: b.length };
}

export async function readBundleFile(file: string): Promise<Bundle> {
  return toBundle(await readJsonFile(file), file);
}

function toBundle(json: unknown, file: string): Bundle {
  try {
    return loadBundle(json);
  } catch (err) {
    if (err instanceof BundleFormatError) throw new UsageError(`bundle ${file} is not usable: ${err.code} ${err.message}`, `BUNDLE_${err.code}`);
    throw err;
  }
}

async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`bundle ${file} cannot be read: ${(err as Error).message}`, 'BUNDLE_UNREADABLE');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`bundle ${file} is not JSON: ${(err as Error).message}`, 'BUNDLE_NOT_JSON');
  }
  return json;
}

/** `tianfu verify proof.json` for a tianfu.status-proof/v1: the state steps, then the state.root entry's bundle steps. */
async function runStatusProofVerify(json: unknown, proofFile: string, flags: VerifyFlags): Promise<number> {
  const rpc = flags.rpc ?? DEFAULT_RPC_URL;
  if (flags.refresh !== undefined || flags.out !== undefined || flags.file !== undefined || flags.report !== undefined) throw new UsageError('--refresh, --out, --file and --report are for bundles, not status proofs');
  const reader = await connectChainReader(rpc, { timeoutMs: flags.timeout }).catch((err: unknown) => {
    throw err instanceof ChainReadError ? new UsageError(err.message, 'CHAIN_UNREACHABLE') : err;
  });
  let report: StatusVerificationReport;
  try {
    const trust = { ...(flags.registry !== undefined ? { registry: flags.registry.toLowerCase() as Hex } : {}), ...(flags.logId !== undefined ? { logId: flags.logId.toLowerCase() as Hex } : {}) };
    report = await verifyStatusProof(json, { chain: reader, confirmations: flags.confirmations, allowPending: flags.allowPending === true, trust, recoverSigner: recoverEip191Signer, clockSkewMs: flags.clockSkewMs });
  } catch (err) {
    if (err instanceof ChainReadError) throw new UsageError(`chain ${rpc}: ${err.message}`, 'CHAIN_UNREACHABLE');
    if (err instanceof StatusProofFormatError || err instanceof BundleFormatError) throw new UsageError(`status proof ${proofFile} is not usable: ${err.message}`, 'STATUS_PROOF_MALFORMED');
    throw err;
  } finally {
    reader.close();
  }
  if (flags.json) printJson(report);
  else {
    const title = report.verdict === 'valid' ? 'VALID' : report.verdict === 'pending' ? 'PENDING' : 'INVALID';
    process.stdout.write(`Tianfu status proof: ${title}\n  ${report.status.statement}\n\n`);
    process.stdout.write(formatReport(report, { rpc, bundleFile: proofFile }));
  }
  return report.accepted ? ExitCode.Ok : ExitCode.Invalid;
}

async function getJson(base: string, p: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const url = new URL(p, base.endsWith('/') ? base : base + '/');
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    throw new UsageError(`--refresh: node ${url.origin} is unreachable: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new UsageError(`--refresh: GET ${url.pathname}${url.search} answered ${res.status}: ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new UsageError(`--refresh: GET ${url.pathname} did not answer JSON`);
  }
}

/**
 * Fills the inclusion proof and anchor of every pending item from a node (as OpenTimestamps upgrades
 * a proof). The node is not trusted: what it returns is verified against the chain like the rest.
 * Uses the earliest anchored checkpoint covering every pending item (the earliest time it proves).
 */
export async function refreshBundle(b: Bundle, nodeUrl: string, timeoutMs: number): Promise<{ bundle: Bundle; refreshed: number; note: string }> {
  const pending = b.items.filter((it) => it.inclusion === null || it.anchor === null);
  if (pending.length === 0) {
    const t = await refreshTimestamps(b, nodeUrl, timeoutMs);
    return t ? { bundle: t.bundle, refreshed: t.added, note: t.note } : { bundle: b, refreshed: 0, note: 'nothing to refresh: every item is anchored' };
  }
  const info = await getJson(nodeUrl, 'v1/log', timeoutMs);
  for (const [k, want] of [['logId', b.log.logId], ['chainId', b.log.chainId], ['registry', b.log.registry]] as const) {
    if (String(info[k]).toLowerCase() !== want.toLowerCase()) throw new UsageError(`--refresh: the node at ${nodeUrl} serves ${k} ${String(info[k])}, the bundle's is ${want}`);
  }
  const need = Math.max(...pending.map((it) => it.index)) + 1;
  const list = await getJson(nodeUrl, `v1/log/checkpoints?fromSize=${need}&limit=1`, timeoutMs);
  const cp = (Array.isArray(list.checkpoints) ? list.checkpoints[0] : undefined) as
    | { treeSize: number; rootHash: Hex; txHash: Hex; blockNumber: string; timestamp: string }
    | undefined;
  if (!cp) return { bundle: b, refreshed: 0, note: `the node has not anchored a checkpoint covering log index ${need - 1} yet` };
  const items = [];
  for (const it of b.items) {
    if (it.inclusion !== null && it.anchor !== null) {
      items.push(it);
      continue;
    }
    const proof = await getJson(nodeUrl, `v1/log/proof/inclusion?index=${it.index}&treeSize=${cp.treeSize}`, timeoutMs);
    // A v2 receipt's signed tree and the anchored one: the log's consistency proof between them.
    const rs = it.receipt.type === RECEIPT_V2_TYPE ? it.receipt.checkpoint.treeSize : cp.treeSize;
    const receiptConsistency = rs === cp.treeSize ? undefined : await getJson(nodeUrl, `v1/log/proof/consistency?from=${Math.min(rs, cp.treeSize)}&to=${Math.max(rs, cp.treeSize)}`, timeoutMs);
    items.push({
      ...it,
      ...(receiptConsistency !== undefined ? { receiptConsistency: receiptConsistency as unknown as NonNullable<Bundle['items'][number]['receiptConsistency']> } : {}),
      inclusion: proof as unknown as NonNullable<Bundle['items'][number]['inclusion']>,
      anchor: { chainId: b.log.chainId, registry: b.log.registry, logId: b.log.logId, treeSize: cp.treeSize, rootHash: cp.rootHash, txHash: cp.txHash, blockNumber: cp.blockNumber, timestamp: cp.timestamp },
    });
  }
  let bundle: Bundle;
  try {
    bundle = loadBundle({ ...b, items });
  } catch (err) {
    if (err instanceof BundleFormatError) throw new UsageError(`--refresh: the node's answer does not fit the bundle: ${err.message}`);
    throw err;
  }
  const note = `${pending.length} pending item${pending.length === 1 ? '' : 's'} filled from checkpoint ${cp.treeSize}`;
  const t = await refreshTimestamps(bundle, nodeUrl, timeoutMs);
  return t ? { bundle: t.bundle, refreshed: pending.length + t.added, note: `${note}; ${t.note}` } : { bundle, refreshed: pending.length, note };
}

/**
 * Fills the signed checkpoint and the RFC 3161 tokens the node holds for the bundle's checkpoint (a
 * token is asked for after anchoring, so a bundle made right then has none yet). Null when there is
 * nothing new. The tokens are not trusted here: the verifier checks them like the rest.
 */
async function refreshTimestamps(b: Bundle, nodeUrl: string, timeoutMs: number): Promise<{ bundle: Bundle; added: number; note: string } | null> {
  const size = b.checkpoint?.treeSize ?? b.items.find((it) => it.anchor !== null)?.anchor?.treeSize;
  if (size === undefined) return null;
  const have = new Set((b.timestamps ?? []).map((t) => t.token));
  const got = await getJson(nodeUrl, `v1/log/checkpoints/${size}/timestamps`, timeoutMs);
  const fresh = (Array.isArray(got.timestamps) ? got.timestamps : []).filter((t: { token?: unknown }) => typeof t.token === 'string' && !have.has(t.token));
  if (fresh.length === 0 && b.checkpoint !== undefined) return null;
  try {
    const bundle = loadBundle({ ...b, checkpoint: b.checkpoint ?? got.checkpoint, timestamps: [...(b.timestamps ?? []), ...fresh] });
    return { bundle, added: fresh.length, note: fresh.length ? `${fresh.length} RFC 3161 token${fresh.length === 1 ? '' : 's'} added for checkpoint ${size}` : `signed checkpoint ${size} added (no RFC 3161 token yet)` };
  } catch (err) {
    if (err instanceof BundleFormatError) throw new UsageError(`--refresh: the node's timestamps do not fit the bundle: ${err.message}`);
    throw err;
  }
}

const STATUS_LABEL: Record<VerificationStep['status'], string> = { ok: 'ok', failed: 'FAILED', pending: 'pending', skipped: 'skipped' };

function where(s: VerificationStep): string {
  if (s.token !== undefined) return `token ${s.token}`;
  if (s.item !== undefined) return `item ${s.item}`;
  if (s.checkpoint !== undefined) return `checkpoint ${s.checkpoint}`;
  return '';
}

const nodeHashers = {
  sha256: (b: Uint8Array): Hex => `0x${createHash('sha256').update(b).digest('hex')}` as Hex,
  sm3: (b: Uint8Array): Hex => `0x${createHash('sm3').update(b).digest('hex')}` as Hex,
};

/**
 * The file given, opened as a capture package when the deposit is the node's own capture (its record
 * has `capture`) or the file is a zip holding tianfu/manifest.json; otherwise undefined (a plain file).
 */
export async function capturePackageOf(file: string, bundle: Bundle): Promise<CapturePackageIndex | undefined> {
  const declared = bundle.items[0]?.record !== null && typeof bundle.items[0]?.record?.capture === 'object';
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new UsageError(`--file ${file} cannot be read: ${(err as Error).message}`, 'FILE_UNREADABLE');
  }
  const isZip = bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50;
  if (!declared && !(isZip && bytes.includes(Buffer.from(CAPTURE_MANIFEST_PATH)))) return undefined;
  return indexCapturePackage(bytes, nodeHashers);
}

/** The report for a person. */
export function formatReport(r: VerificationReport, ctx: { rpc: string; bundleFile: string; file?: string }): string {
  const out: string[] = [];
  const title = r.verdict === 'valid' ? 'VALID' : r.verdict === 'pending' ? 'PENDING (not yet anchored)' : 'INVALID';
  out.push(`Tianfu bundle verification: ${title}`, '');
  out.push(`  bundle     ${ctx.bundleFile} (${r.bundle.format}, made ${r.bundle.createdAt})`);
  const subject = r.bundle.subjectKey !== undefined ? `${r.bundle.subjectKey} (in the log as ${r.bundle.subject})` : r.bundle.subject;
  out.push(`  subject    ${r.bundle.kind} ${subject}, ${r.bundle.items} record${r.bundle.items === 1 ? '' : 's'}`);
  out.push(`  log        ${r.bundle.logId}, operator ${r.bundle.operator}`);
  out.push(`  chain      ${r.bundle.chainId} via ${ctx.rpc}, registry ${r.bundle.registry}`);
  for (const c of r.checkpoints) {
    out.push(`  anchored   tree size ${c.treeSize}, root ${c.rootHash}`);
    out.push(`             block ${c.blockNumber}${c.blockHash ? ` (hash ${c.blockHash})` : ''}${c.blockTime ? ` at ${c.blockTime}` : ''}${c.confirmations !== null ? `, ${c.confirmations} confirmation${c.confirmations === 1 ? '' : 's'}` : ''}, tx ${c.txHash} [${c.status}]`);
  }
  if (r.time) {
    const t = r.time;
    if (t.tokens.length === 0) out.push(`  time       no RFC 3161 token (not provided); the chain's block time bounds the checkpoint`);
    for (const k of t.tokens) out.push(`  time       TSA ${k.tsa}: genTime ${k.genTime ?? '?'}${k.accuracyMs !== null ? ` ± ${k.accuracyMs} ms` : ''} [${k.status}]`);
    if (t.tokens.length > 0) out.push(`             existed after ${t.notBefore ?? '?'}; no later than ${t.chainNotAfter ?? '?'} (chain)${t.tokens.map((k) => `, ${k.notAfter ?? '?'} (TSA ${k.token})`).join('')}; ${t.agree === null ? 'not compared' : t.agree ? 'the windows agree' : 'the windows DISAGREE'}`);
  }
  for (const it of r.items) out.push(`  item ${it.item}     log index ${it.index}, ${it.kind}, accepted ${it.at} [${it.status}]`);
  if (r.file) out.push(`  ${r.bundle.kind === 'invoice' ? 'xml ' : 'file'}       ${ctx.file ?? (r.bundle.kind === 'invoice' ? '(carried in the bundle)' : '(given)')}: SHA-256 ${r.file.sha256}${r.file.sm3 ? `, SM3 ${r.file.sm3}` : ''}${r.file.size !== undefined ? `, ${r.file.size} bytes` : ''} [${r.file.status}]`);
  if (r.capture) {
    const c = r.capture;
    out.push(`  capture    ${c.captureId ?? '(none named)'} [${c.status}]`);
    if (c.finalUrl) out.push(`             final URL ${c.finalUrl}`);
    if (c.window) out.push(`             window [${c.window.from}, ${c.window.to ?? 'not anchored yet'}] (after block ${c.window.startBlock}${c.window.anchorBlock ? `, before block ${c.window.anchorBlock}` : ''})`);
    if (c.originFingerprint256) out.push(`             origin certificate SHA-256 ${c.originFingerprint256}`);
    for (const a of c.artifacts) out.push(`             ${a.path} (${a.mediaType}, ${a.size} bytes) [${a.status}]`);
  }
  out.push('', 'Steps');
  for (const s of r.steps) {
    out.push(`  ${STATUS_LABEL[s.status].padEnd(8)} ${s.name.padEnd(18)} ${where(s).padEnd(14)} ${s.detail}`);
    if (s.status === 'failed' || s.status === 'pending') {
      if (s.expected !== undefined) out.push(`  ${''.padEnd(42)} expected   ${s.expected}`);
      if (s.calculated !== undefined) out.push(`  ${''.padEnd(42)} calculated ${s.calculated}`);
    }
  }
  if (r.proves.length) {
    out.push('', 'What this proves');
    for (const p of r.proves) out.push(`  - ${p}`);
  }
  out.push('', 'What it does not prove');
  for (const l of r.limits) out.push(`  - ${l}`);
  out.push('');
  const f = r.firstFailure;
  if (r.verdict === 'valid') out.push(`Verdict: VALID. Verified at ${r.verifiedAt}.`);
  else if (r.verdict === 'pending') out.push(`Verdict: PENDING at step ${f?.name}${f && where(f) ? ` (${where(f)})` : ''}: ${f?.detail}${r.accepted ? ' (accepted: --allow-pending)' : ''}`);
  else out.push(`Verdict: INVALID. First failing step: ${f?.name}${f && where(f) ? ` (${where(f)})` : ''}: ${f?.detail}`);
  return out.join('\n') + '\n';
}

async function writeAtomically(file: string, bundle: Bundle): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(bundle, null, 2) + '\n');
  await rename(tmp, file);
}

export async function runVerify(bundleFile: string, flags: VerifyFlags): Promise<number> {
  const rpc = flags.rpc ?? DEFAULT_RPC_URL;
  const json = await readJsonFile(bundleFile);
  if (isStatusProof(json)) return runStatusProofVerify(json, bundleFile, flags);
  let bundle = toBundle(json, bundleFile);
  if (flags.report !== undefined) reportModule().checkReportTarget(flags.report);
  // An invoice bundle may carry its original XML (GET …/bundle?xml=1): without --file, that document is checked.
  const file = flags.file !== undefined ? await hashFile(flags.file) : bundle.kind === 'invoice' && bundle.xml ? digestsOfBytes(Buffer.from(bundle.xml.base64, 'base64')) : undefined;
  const capture = flags.file !== undefined && bundle.kind === 'evidence' ? await capturePackageOf(flags.file, bundle) : undefined;
  let refreshNote: string | null = null;
  let refreshed = 0;
  if (flags.refresh !== undefined) {
    const r = await refreshBundle(bundle, flags.refresh, flags.timeout);
    bundle = r.bundle;
    refreshed = r.refreshed;
    refreshNote = r.note;
  } else if (flags.out !== undefined) throw new UsageError('--out is only for --refresh');

  let report: VerificationReport;
  const tsaTrustAnchors = flags.tsaCa !== undefined ? await readTsaCa(flags.tsaCa) : undefined;
  const reader = await connectChainReader(rpc, { timeoutMs: flags.timeout }).catch((err: unknown) => {
    throw err instanceof ChainReadError ? new UsageError(err.message, 'CHAIN_UNREACHABLE') : err;
  });
  try {
    const trust = { ...(flags.registry !== undefined ? { registry: flags.registry.toLowerCase() as Hex } : {}), ...(flags.logId !== undefined ? { logId: flags.logId.toLowerCase() as Hex } : {}) };
    report = await verifyBundle(bundle, { chain: reader, file, ...(capture ? { capture } : {}), confirmations: flags.confirmations, allowPending: flags.allowPending === true, history: domainHistoryRules, trust, recoverSigner: recoverEip191Signer, clockSkewMs: flags.clockSkewMs, ...(tsaTrustAnchors ? { tsaTrustAnchors } : {}) });
  } catch (err) {
    if (err instanceof ChainReadError) throw new UsageError(`chain ${rpc}: ${err.message}`, 'CHAIN_UNREACHABLE');
    throw err;
  } finally {
    reader.close();
  }

  let written: string | null = null;
  if (refreshed > 0 && report.verdict !== 'invalid') {
    written = path.resolve(flags.out ?? bundleFile);
    await writeAtomically(written, bundle);
  }
  let reportNote: string | null = null;
  if (flags.report !== undefined) {
    // A report is written whatever the verdict: a failed verification is a document for the file too.
    const { cliCourtReport, writeCourtReport } = reportModule();
    const court = await cliCourtReport({
      bundle, verification: report, bundleFile: written ?? bundleFile, rpc, confirmations: flags.confirmations,
      ...(flags.file !== undefined && file ? { file: flags.file, fileDigests: file } : {}),
      ...(flags.tsaCa !== undefined ? { tsaCa: flags.tsaCa } : {}),
      ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
      ...(flags.logId !== undefined ? { logId: flags.logId } : {}),
      pageUrl: flags.pageUrl ?? (flags.refresh !== undefined ? new URL('/', flags.refresh).toString() : null),
    });
    const n = await writeCourtReport(flags.report, court);
    reportNote = `Report (tianfu.report/v1, ${court.items.filter((i) => i.status === 'PASS').length} of 15 items PASS) written to ${path.resolve(flags.report)} (${n} bytes)`;
  }
  if (flags.json) printJson({ ...report, ...(flags.refresh !== undefined ? { refresh: { note: refreshNote, written } } : {}) });
  else {
    process.stdout.write(formatReport(report, { rpc, bundleFile, ...(flags.file !== undefined ? { file: flags.file } : {}) }));
    if (refreshNote !== null) process.stdout.write(`Refresh: ${refreshNote}${written ? `; updated bundle written to ${written}` : refreshed > 0 ? '; not written (invalid)' : ''}\n`);
  }
  if (reportNote !== null) process.stderr.write(`${reportNote}\n`);
  return report.accepted ? ExitCode.Ok : ExitCode.Invalid;
}

function hexArg(re: RegExp, what: string) {
  return (value: string): string => {
    if (!re.test(value)) throw new InvalidArgumentError(`must be ${what}`);
    return value;
  };
}

export function register(program: Command): void {
  program
    .command('verify')
    .description('verify a tianfu.bundle/v1 against the chain it names: record, commitment, entry, inclusion, receipt, on-chain checkpoint, block; the evidence file; the order of events')
    .argument('<bundle>', 'bundle JSON file')
    .option('--file <file>', 'the evidence file beside the bundle, or the XML an invoice was registered from: hashed here (SHA-256 and SM3) and compared with the deposit record (the invoice record\'s original)')
    .option('--rpc <url>', `JSON-RPC endpoint of the bundle's chain (default ${DEFAULT_RPC_URL})`)
    .option('--confirmations <n>', 'confirmations the anchoring block needs', positiveInt(1_000_000), 1)
    .option('--clock-skew-ms <ms>', "how far an entry's time may be after its anchoring block's (the node's clock ahead of the chain's)", positiveInt(86_400_000), 5000)
    .option('--json', 'print the report as JSON (tianfu.verification/v1)')
    .option('--allow-pending', 'exit 0 for a bundle whose records are not yet anchored (receipts checked)')
    .option('--refresh <url>', 'fetch inclusion proofs and anchors of pending items from a node and write the updated bundle')
    .option('--out <file>', 'with --refresh: write the updated bundle here instead of over <bundle>')
    .option('--registry <address>', 'the AnchorRegistry address to trust (the ledger\'s published one); without it the bundle\'s own is used', hexArg(/^0x[0-9a-fA-F]{40}$/, 'a 20-byte 0x-hex address'))
    .option('--log-id <id>', 'the log id to trust; without it the bundle\'s own is used', hexArg(/^0x[0-9a-fA-F]{64}$/, '32 bytes of 0x-hex'))
    .option('--tsa-ca <file>', 'the TSA root certificates to trust (PEM, or one DER certificate): the bundle\'s RFC 3161 tokens must chain to one of them')
    .option('--report <file>', 'also write the court report (tianfu.report/v1, the 15 checklist items) to this .html or .pdf file (PDF: printed by Chromium)')
    .option('--page-url <url>', 'with --report: where the verification page is (the report\'s QR code links there with the bundle\'s digest); default the --refresh node\'s')
    .option('--timeout <ms>', 'timeout per RPC / HTTP request', positiveInt(600_000), DEFAULT_RPC_TIMEOUT_MS)
    .action(async (bundleFile: string, flags: VerifyFlags) => {
      process.exitCode = await runVerify(bundleFile, flags);
    });
}
