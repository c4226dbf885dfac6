/**
 * `tianfu audit (--api URL | --from-export DIR) [--rpc URL] [--registry ADDR] [--state FILE | --state-dir DIR] [--json]`:
 * replays the whole log and checks it against the checkpoints read from the chain (never from the
 * node). Exit 0 clean, 1 violations, 2 unusable input (unreadable export, node or chain unreachable).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { isAddress } from 'ethers';
import {
  ApiSource, AuditInputError, ChainReadError, ExportSource, SourceError, StateFileError,
  chainProvider, defaultStateDir, legacyStatePath, runAudit, type LogSource, type RunAuditResult,
} from '../../node/audit';
import { ExitCode, UsageError, printJson } from './common';
import { progressBar } from './progress';

interface AuditFlags {
  api?: string;
  fromExport?: string;
  rpc: string;
  registry?: string;
  state?: string | false;
  stateDir: string;
  mmdMs: number;
  fromBlock: number;
  records?: boolean;
  key?: string;
  receiptSample?: number;
  receiptWorkers?: number;
  json?: boolean;
  maxListed: number;
}

const int = (name: string, min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};

export function register(program: Command): void {
  program
    .command('audit')
    .description('replay the whole log against the checkpoints anchored on chain; exit 0 clean, 1 violations, 2 unusable input')
    .option('--api <url>', 'audit a live node through its HTTP API')
    .option('--from-export <dir>', 'audit an export directory written by tianfu export')
    .option('--rpc <url>', 'EVM JSON-RPC endpoint to read the registry from', process.env.TIANFU_RPC_URL ?? 'http://127.0.0.1:8545')
    .option('--registry <address>', 'AnchorRegistry address to trust (default: the one the source names)')
    .option('--state-dir <dir>', 'directory of audit state, one file per (chain, registry, log): the last verified checkpoint and head', defaultStateDir())
    .option('--state <file>', 'one audit state file instead (holds any number of logs)')
    .option('--no-state', 'neither read nor write any audit state')
    .option('--mmd-ms <ms>', 'maximum merge delay: every entry must be anchored within this', int('--mmd-ms', 0), 60_000)
    .option('--from-block <n>', 'first block to read registry events from', int('--from-block', 0), 0)
    .option('--records', 'with --api: also fetch and check records and salts (auditor or court key)')
    .option('--key <key>', 'API key (default: env TIANFU_API_KEY)')
    .option('--receipt-sample <k>', 'verify every k-th receipt signature instead of all (fields are always checked)', int('--receipt-sample', 1))
    .option('--receipt-workers <n>', 'worker threads checking receipt signatures (default: cores - 1, at least 1; 0: on the main thread)', int('--receipt-workers', 0))
    .option('--max-listed <n>', 'violations listed per code in the text report', int('--max-listed', 1), 20)
    .option('--json', 'machine-readable report on stdout')
    .action(async (flags: AuditFlags) => {
      process.exitCode = await audit(flags);
    });
}

async function audit(flags: AuditFlags): Promise<number> {
  if (!!flags.api === !!flags.fromExport) throw new UsageError('give exactly one of --api URL or --from-export DIR');
  if (flags.registry !== undefined && !isAddress(flags.registry)) throw new UsageError(`--registry ${flags.registry} is not an address`);
  const key = flags.key ?? process.env.TIANFU_API_KEY;
  const progress = progressBar('audit', !flags.json);
  let result: RunAuditResult;
  const provider = chainProvider(flags.rpc);
  try {
    const source: LogSource = flags.fromExport ? new ExportSource(flags.fromExport) : await ApiSource.open(flags.api!, { key, records: flags.records });
    result = await runAudit({
      source,
      provider,
      registry: flags.registry,
      mmdMs: flags.mmdMs,
      fromBlock: flags.fromBlock,
      statePath: flags.state === false ? null : (flags.state ?? null),
      stateDir: flags.state === false ? null : flags.stateDir,
      legacyStatePath: legacyStatePath(),
      receiptSignatureStride: flags.receiptSample,
      receiptWorkers: flags.receiptWorkers,
      onProgress: (d, t) => progress.update(d, t),
    });
  } catch (err) {
    if (err instanceof SourceError || err instanceof ChainReadError || err instanceof AuditInputError || err instanceof StateFileError) throw new UsageError(err.message);
    throw err;
  } finally {
    progress.stop();
    provider.destroy();
  }
  const { report, savedState } = result;
  if (flags.json) printJson({ ...report, savedState, stateFile: result.stateFile });
  else process.stdout.write(textReport(result, flags.maxListed));
  return report.ok ? ExitCode.Ok : ExitCode.Invalid;
}

function textReport({ report: r, savedState, stateFile, priorFrom }: RunAuditResult, maxListed: number): string {
  const L: string[] = [];
  L.push(`Tianfu audit of ${r.source}`);
  L.push(`  log ${r.logId} on chain ${r.chainId}, registry ${r.registry} (${r.registryFrom === 'flag' ? 'given' : 'as named by the source'}), operator ${r.operator}`);
  L.push(`  chain read at block ${r.chainBlock}; ${r.durationMs} ms`);
  L.push('');
  L.push(`Entries replayed: ${r.treeSize}, root ${r.rootHash}`);
  for (const [k, n] of Object.entries(r.kinds).sort()) L.push(`  ${k.padEnd(36)} ${n}`);
  const c = r.checkpoints;
  L.push(`Checkpoints on chain: ${c.onChain}; root equal to the replay: ${c.verified}; different: ${c.mismatched}; beyond the replay: ${c.beyondReplay}; consistency proofs verified: ${c.consistencyProofs}`);
  if (c.latest) L.push(`  latest: size ${c.latest.treeSize}, root ${c.latest.rootHash}, block ${c.latest.blockNumber} (${new Date(c.latest.timestamp * 1000).toISOString()})`);
  L.push(`Anchoring: maximum merge delay ${r.anchoring.mmdMs} ms; largest delay seen ${r.anchoring.maxDelayMs ?? '-'} ms; not anchored yet (within the delay): ${r.anchoring.pending}`);
  L.push(`Receipts: ${r.receipts.checked} checked, ${r.receipts.signaturesVerified} signatures verified${r.receipts.sampled ? ' (sampled)' : ''}`);
  if (r.records.replayed) L.push(`Records: ${r.records.checked} opened their commitments, ${r.records.erased} erased; lifecycle replayed from records`);
  L.push(`State map: ${r.stateMap.subjects} subjects replayed from the entries, root ${r.stateMap.root}; ${r.stateMap.stateRoots} state.root entr${r.stateMap.stateRoots === 1 ? 'y' : 'ies'} checked`);
  if (r.nodeCheckpoints) L.push(`Node's checkpoint list: ${r.nodeCheckpoints.listed} listed, ${r.nodeCheckpoints.matching} equal to the chain`);
  if (r.state.prior) L.push(`State: previous audit ${r.state.prior.verifiedAt} verified size ${r.state.prior.treeSize}; ${r.state.consistent ? 'the log extends it' : 'NOT consistent with it'}`);
  if (priorFrom === 'legacy') L.push('State: the previous audit was read from the shared ~/.tianfu/audit-state.json of earlier versions');
  if (savedState) L.push(`State saved: size ${savedState.treeSize} (head ${savedState.head?.treeSize ?? '-'}) in ${stateFile}`);
  else if (!stateFile) L.push('State: none kept (--no-state)');
  L.push('');
  if (r.ok) {
    L.push('Result: CLEAN — no violations.');
  } else {
    L.push(`Result: ${r.violations.length} VIOLATION(S)`);
    for (const [code, n] of Object.entries(r.violationCounts)) {
      L.push(`  ${code} × ${n}`);
      for (const v of r.violations.filter((x) => x.code === code).slice(0, maxListed)) L.push(`    - ${v.message}`);
      if (n > maxListed) L.push(`    … ${n - maxListed} more (--json lists all)`);
    }
  }
  L.push('');
  L.push('Limits: the audit proves the log served is the one anchored, append-only, and that its lifecycle rules held; it cannot see records the node never logged.');
  return L.join('\n') + '\n';
}
