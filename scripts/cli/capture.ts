/**
 * `tianfu capture <url> --api URL [--case-ref R] [--title T] [--out DIR] [--rpc URL] [--json]`: asks the
 * node to capture a page (POST /v1/captures, collector key from --key, --key-file or TIANFU_API_KEY),
 * shows the job's progress, waits for the deposit to be anchored, downloads the package and the
 * bundle into DIR and verifies them as `tianfu verify <bundle> --file <package>` does.
 * Exit codes as verify: 0 valid, 1 invalid or the capture failed, 2 unusable input (a refused target,
 * a bad flag, an unreachable node or chain).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ChainReadError } from '../../node/protocol';
import { connectChainReader, DEFAULT_RPC_TIMEOUT_MS } from '../../node/chain/chain-reader';
import { domainHistoryRules, verifyBundle, type VerificationReport } from '../../node/verifier';
import { recoverEip191Signer } from '../../node/crypto/eip191';
import { ExitCode, UsageError, apiKeyFrom, positiveInt, printJson } from './common';
import { DEFAULT_RPC_URL, capturePackageOf, formatReport, hashFile, readBundleFile } from './verify';

interface CaptureFlags {
  api: string;
  key?: string;
  keyFile?: string;
  caseRef?: string;
  title?: string;
  out: string;
  rpc?: string;
  json?: boolean;
  timeoutMs?: number;
  wait: number;
}

interface JobStatus {
  captureId: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  progress: { step: string; attempt: number };
  evidenceId?: string;
  error?: { reason: string; message: string };
}

async function call(api: string, p: string, key: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: unknown; bytes?: Buffer }> {
  let res: Response;
  try {
    res = await fetch(new URL(p, api), {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { authorization: `Bearer ${key}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch (err) {
    throw new UsageError(`the node at ${api} cannot be reached: ${(err as Error).message}`, 'NODE_UNREACHABLE');
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  let body: unknown = null;
  if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(bytes.toString('utf8'));
  return { status: res.status, body, bytes };
}

function problemText(r: { status: number; body: unknown }): string {
  const b = r.body as { code?: string; detail?: string } | null;
  return `${r.status} ${b?.code ?? ''} ${b?.detail ?? ''}`.trim();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runCapture(url: string, flags: CaptureFlags): Promise<number> {
  const key = apiKeyFrom(flags, 'a collector key');
  const say = (s: string): void => {
    if (!flags.json) process.stderr.write(s + '\n');
  };
  const body: Record<string, unknown> = { url };
  if (flags.caseRef !== undefined) body.caseRef = flags.caseRef;
  if (flags.title !== undefined) body.title = flags.title;
  if (flags.timeoutMs !== undefined) body.options = { timeoutMs: flags.timeoutMs };
  const posted = await call(flags.api, '/v1/captures', key, { body });
  if (posted.status !== 202) throw new UsageError(`the node refused the capture: ${problemText(posted)}`, (posted.body as { code?: string } | null)?.code ?? 'CAPTURE_REFUSED');
  const { captureId, statusUrl } = posted.body as { captureId: string; statusUrl: string };
  say(`capture ${captureId} queued`);
  const deadline = Date.now() + flags.wait;
  let job: JobStatus;
  let last = '';
  for (;;) {
    const r = await call(flags.api, statusUrl, key);
    if (r.status !== 200) throw new UsageError(`GET ${statusUrl}: ${problemText(r)}`, 'CAPTURE_STATUS');
    job = r.body as JobStatus;
    const now = `${job.status} (${job.progress.step}, attempt ${job.progress.attempt})`;
    if (now !== last) say(`  ${now}`);
    last = now;
    if (job.status === 'done' || job.status === 'failed') break;
    if (Date.now() > deadline) throw new UsageError(`capture ${captureId} did not finish within ${flags.wait} ms (still ${job.status})`, 'CAPTURE_TIMEOUT');
    await sleep(300);
  }
  if (job.status === 'failed') {
    if (flags.json) printJson({ capture: job, verification: null });
    else process.stdout.write(`Capture ${captureId} FAILED: ${job.error?.reason}: ${job.error?.message}\n`);
    return ExitCode.Invalid;
  }
  const evidenceId = job.evidenceId!;
  fs.mkdirSync(flags.out, { recursive: true });
  const pkgFile = path.join(flags.out, `${captureId}.wacz`);
  const bundleFile = path.join(flags.out, `${evidenceId}.bundle.json`);
  // The download is a content read, logged as an `accessed` event: read first, then wait until the
  // deposit and every event (this read's too) are anchored, so the bundle verifies in full.
  const content = await call(flags.api, `/v1/evidence/${evidenceId}/content`, key);
  if (content.status !== 200) throw new UsageError(`GET /v1/evidence/${evidenceId}/content: ${problemText(content)}`, 'CONTENT');
  fs.writeFileSync(pkgFile, content.bytes!);
  say(`deposited as ${evidenceId}; waiting for the anchor…`);
  for (;;) {
    const r = await call(flags.api, `/v1/evidence/${evidenceId}`, key);
    if (r.status !== 200) throw new UsageError(`GET /v1/evidence/${evidenceId}: ${problemText(r)}`, 'EVIDENCE_STATUS');
    const v = r.body as { deposit: { anchored: unknown }; custody: { anchored: unknown }[] };
    if (v.deposit.anchored && v.custody.every((c) => c.anchored)) break;
    if (Date.now() > deadline) throw new UsageError(`the deposit ${evidenceId} was not anchored within ${flags.wait} ms`, 'ANCHOR_TIMEOUT');
    await sleep(300);
  }
  const bundle = await call(flags.api, `/v1/evidence/${evidenceId}/bundle`, key);
  if (bundle.status !== 200) throw new UsageError(`GET /v1/evidence/${evidenceId}/bundle: ${problemText(bundle)}`, 'BUNDLE');
  fs.writeFileSync(bundleFile, JSON.stringify(bundle.body, null, 2));
  say(`wrote ${pkgFile} and ${bundleFile}; verifying…`);

  const rpc = flags.rpc ?? DEFAULT_RPC_URL;
  const b = await readBundleFile(bundleFile);
  const file = await hashFile(pkgFile);
  const capture = await capturePackageOf(pkgFile, b);
  const reader = await connectChainReader(rpc, { timeoutMs: DEFAULT_RPC_TIMEOUT_MS }).catch((err: unknown) => {
    throw err instanceof ChainReadError ? new UsageError(err.message, 'CHAIN_UNREACHABLE') : err;
  });
  let report: VerificationReport;
  try {
    report = await verifyBundle(b, { chain: reader, file, ...(capture ? { capture } : {}), history: domainHistoryRules, recoverSigner: recoverEip191Signer });
  } catch (err) {
    if (err instanceof ChainReadError) throw new UsageError(`chain ${rpc}: ${err.message}`, 'CHAIN_UNREACHABLE');
    throw err;
  } finally {
    reader.close();
  }
  if (flags.json) printJson({ capture: job, files: { package: pkgFile, bundle: bundleFile }, verification: report });
  else process.stdout.write(formatReport(report, { rpc, bundleFile, file: pkgFile }));
  return report.accepted ? ExitCode.Ok : ExitCode.Invalid;
}

export function register(program: Command): void {
  program
    .command('capture')
    .description('have the node capture a web page in its own clean browser, wait for the deposit to be anchored, download the package and bundle, and verify them')
    .argument('<url>', 'the page (http or https)')
    .requiredOption('--api <url>', 'the node, e.g. http://127.0.0.1:8080')
    .option('--key <key>', 'collector API key (or --key-file, or env TIANFU_API_KEY)')
    .option('--key-file <file>', 'file holding the collector API key')
    .option('--case-ref <ref>', 'case reference recorded with the deposit')
    .option('--title <title>', 'title of the deposit')
    .option('--out <dir>', 'where the package and the bundle are written', '.')
    .option('--rpc <url>', `JSON-RPC endpoint of the node's chain, for the verification (default ${DEFAULT_RPC_URL})`)
    .option('--timeout-ms <ms>', 'the page load timeout (the node default 30000, at most 120000)', positiveInt(120_000))
    .option('--wait <ms>', 'how long to wait for the capture and its anchor', positiveInt(3_600_000), 300_000)
    .option('--json', 'print {capture, files, verification} as JSON')
    .action(async (url: string, flags: CaptureFlags) => {
      process.exitCode = await runCapture(url, flags);
    });
}
