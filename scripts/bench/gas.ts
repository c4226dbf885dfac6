/**
 * Gas benchmark on Hardhat's in-process EVM (hardfork cancun; AnchorRegistry compiled for paris):
 *  - `anchor` with its on-chain RFC 9162 consistency check, at tree sizes 10, 10^3 and 10^6 (the old
 *    size m a typical batch earlier, n - 1, and the m with the longest proof below n);
 *  - what a checkpoint costs without any check (BareAnchor: one root slot; the same two slots we keep);
 *  - per-record anchoring (one transaction per record hash);
 *  - one Ethereum Attestation Service `attest` (SchemaRegistry + EAS deployed from the npm package);
 *  - where the gas of one anchor goes, from an opcode trace: intrinsic, calldata, storage, SHA-256
 *    precompile calls, event, the rest of the execution.
 *
 * Trees of 10^6 entries need no store: every leaf is the same, so every perfect subtree of height L
 * has the same hash P[L], and any RFC 9162 range hash is a fold of those (perfectSubtrees). The gas of
 * `anchor` does not depend on the hash values, only on the proof's length and bit pattern.
 *
 * Standalone: `npx tsx scripts/bench/gas.ts` (prints a table, then the figures as JSON).
 */
import { AbiCoder, ContractFactory, Interface, solidityPackedKeccak256, type Signer, type TransactionReceipt } from 'ethers';
import type { HardhatRuntimeEnvironment } from 'hardhat/types';
import {
  consistencyProofLength,
  decomposeInclusion,
  logIdFor,
  toHex,
  verifyConsistency,
} from '../../node/protocol';
import { loadArtifact } from '../../node/chain/artifacts';
import { deployRegistry, type RegistryClient } from '../../node/chain/registry-client';
import { UniformTree } from '../../test/support/uniform-tree';

/**
 * Gas figures of one `anchor` from old size m to new size n. The registry keeps two checkpoints'
 * metadata per storage slot, so a checkpoint with an even ordinal opens a slot and one with an odd
 * ordinal fills it: `gas` is the mean of the two (what a log pays per checkpoint over time),
 * `gasOpening` and `gasFilling` each.
 */
export interface AnchorGas {
  n: number;
  m: number;
  proofLength: number;
  /** SHA-256 compressions the contract runs for this proof (two per element after the paths diverge). */
  hashes: number;
  gas: number;
  gasOpening: number;
  gasFilling: number;
  calldataGas: number;
}

export interface GasBreakdown {
  n: number;
  m: number;
  total: number;
  intrinsic: number;
  calldata: number;
  /** SSTORE: two new checkpoint slots and the per-log slot. */
  sstore: number;
  /** SLOAD: per-log slot, paused flag, the anchored old root. */
  sload: number;
  /** STATICCALLs to the SHA-256 precompile, including the 65-byte input writes around them. */
  sha256: number;
  sha256Calls: number;
  event: number;
  /** Everything else: dispatch, ABI decoding, the size arithmetic, loops, keccak of mapping keys. */
  other: number;
}

export interface GasBenchResult {
  /** First checkpoint of a log: no proof, same storage writes. */
  firstAnchor: number;
  anchors: AnchorGas[];
  bareRootAnchor: number;
  bareCheckpointAnchor: number;
  perRecordAnchor: number;
  easAttest: number;
  breakdown: GasBreakdown;
  /** The same split for the first checkpoint (no proof): the difference is what the check costs. */
  firstBreakdown: GasBreakdown;
  /** anchor(n=10^6, m=n-1000) / bare root anchor, and / bare anchor of the same two slots. */
  ratioVsBareRoot: number;
  ratioVsBareCheckpoint: number;
  /** anchor(n=1000, m=500), mean of the two slot positions, / bare root anchor (the target: ≤ 1.6). */
  ratioAt1000VsBareRoot: number;
  /** A log anchored every 1000 entries from 1000 to 9000: the mean gas of its 8 checkpoints with a proof. */
  sustained1000: number;
}

/** The hashes AnchorRegistry computes for a proof from m to n (mirrors _rootsFromConsistencyProof). */
function contractHashCount(m: number, n: number): number {
  const { inner: fullInner, border } = decomposeInclusion(m - 1, n);
  let shift = 0;
  while ((m / 2 ** shift) % 2 === 0) shift++;
  const inner = fullInner - shift;
  const mask = Math.floor((m - 1) / 2 ** shift);
  let hashes = 2 * border;
  for (let i = 0; i < inner; i++) hashes += Math.floor(mask / 2 ** i) % 2 === 1 ? 2 : 1;
  return hashes;
}

/** EIP-2028 calldata cost (cancun: no EIP-7623 floor). */
function calldataGas(data: string): number {
  let gas = 0;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === '00' ? 4 : 16;
  return gas;
}

// ---- chain plumbing ----------------------------------------------------------------------

function loadHre(): HardhatRuntimeEnvironment {
  // hardhat.config.ts is TypeScript; tsx's require hook compiles it (Hardhat would want ts-node).
  (require('tsx/cjs/api') as { register: () => unknown }).register();
  return require('hardhat') as HardhatRuntimeEnvironment;
}

async function mined(p: Promise<{ wait: () => Promise<TransactionReceipt | null> }>): Promise<TransactionReceipt> {
  const receipt = await (await p).wait();
  if (!receipt || receipt.status !== 1) throw new Error('benchmark transaction failed');
  return receipt;
}

async function deployRaw(name: string, signer: Signer, args: unknown[] = []): Promise<{ address: string; iface: Interface }> {
  const a = loadArtifact(name);
  const c = await new ContractFactory(a.abi, a.bytecode, signer).deploy(...args);
  await c.waitForDeployment();
  return { address: await c.getAddress(), iface: new Interface(a.abi) };
}

interface TraceLog {
  op: string;
  gas: number;
  depth: number;
  stack?: string[];
}

/** Splits a transaction's execution gas by opcode class from debug_traceTransaction. */
async function breakdownOf(hre: HardhatRuntimeEnvironment, receipt: TransactionReceipt, data: string, n: number, m: number): Promise<GasBreakdown> {
  const trace = (await hre.network.provider.request({ method: 'debug_traceTransaction', params: [receipt.hash, { disableMemory: true, disableStorage: true }] })) as {
    structLogs: TraceLog[];
  };
  const logs = trace.structLogs;
  const total = Number(receipt.gasUsed);
  const intrinsic = 21_000;
  const calldata = calldataGas(data);
  const b: GasBreakdown = { n, m, total, intrinsic, calldata, sstore: 0, sload: 0, sha256: 0, sha256Calls: 0, event: 0, other: 0 };
  let execution = 0;
  for (let i = 0; i < logs.length; i++) {
    const step = logs[i]!;
    const next = logs[i + 1];
    // A step's cost is the gas it removed (the precompile call has no steps of its own).
    const cost = next ? step.gas - next.gas : 0;
    execution += cost;
    if (step.op === 'SSTORE') b.sstore += cost;
    else if (step.op === 'SLOAD') b.sload += cost;
    else if (step.op.startsWith('LOG')) b.event += cost;
    else if (step.op === 'STATICCALL' && step.stack && BigInt('0x' + step.stack[step.stack.length - 2]!.replace(/^0x/, '')) === 2n) {
      b.sha256 += cost;
      b.sha256Calls++;
    } else b.other += cost;
  }
  // Refunds and the final STOP/RETURN are outside the step differences; put the residue in `other`.
  b.other += total - intrinsic - calldata - execution;
  return b;
}

// ---- the benchmark -----------------------------------------------------------------------

export interface BenchGasOptions {
  log?: (line: string) => void;
}

export async function benchGas(opts: BenchGasOptions = {}): Promise<GasBenchResult> {
  const log = opts.log ?? (() => undefined);
  const hre = loadHre();
  await hre.run('compile', { quiet: true });
  const [admin, operator] = await hre.ethers.getSigners();
  const { client } = await deployRegistry(admin!);
  const registry: RegistryClient = client.withRunner(operator!);
  const operatorAddress = await operator!.getAddress();
  const tree = new UniformTree();
  const iface = new Interface(loadArtifact('AnchorRegistry').abi);
  let logCount = 0;

  /** anchor(m → n) as the log's checkpoint number `priors.length + 1` (priors ascending, each < m). */
  const anchorAfter = async (priors: number[], m: number, n: number): Promise<{ receipt: TransactionReceipt; data: string; proofLength: number }> => {
    const logId = logIdFor(`bench/${n}/${m}/${++logCount}`);
    await client.createLog(logId, operatorAddress);
    let prev = 0;
    for (const size of [...priors, m]) {
      await registry.anchor({ logId, treeSize: size, rootHash: toHex(tree.root(size)), consistencyProof: prev === 0 ? [] : tree.consistencyProof(prev, size).map(toHex) });
      prev = size;
    }
    const proof = tree.consistencyProof(m, n);
    verifyConsistency(m, n, proof, tree.root(m), tree.root(n)); // never bench a proof our own verifier refuses
    const args = { logId, treeSize: n, rootHash: toHex(tree.root(n)), consistencyProof: proof.map(toHex) };
    const sent = await registry.sendAnchor(args);
    const receipt = await sent.wait();
    if (!receipt || receipt.status !== 1) throw new Error(`anchor ${m} -> ${n} failed`);
    return { receipt, data: iface.encodeFunctionData('anchor', [logId, n, args.rootHash, args.consistencyProof]), proofLength: proof.length };
  };
  const anchorOnce = async (m: number, n: number): Promise<{ gas: AnchorGas; receipt: TransactionReceipt; data: string }> => {
    // Ordinal 1 fills the slot checkpoint 0 opened; ordinal 2 (one more checkpoint before, of size 1)
    // opens the next. For m = 1 there is no room for a checkpoint before it: that row is ordinal 1 only.
    const filling = await anchorAfter([], m, n);
    const opening = m > 1 ? await anchorAfter([1], m, n) : null;
    const gasFilling = Number(filling.receipt.gasUsed);
    const gasOpening = opening ? Number(opening.receipt.gasUsed) : gasFilling;
    const main = opening ?? filling;
    return {
      gas: { n, m, proofLength: main.proofLength, hashes: contractHashCount(m, n), gas: Math.round((gasFilling + gasOpening) / 2), gasOpening, gasFilling, calldataGas: calldataGas(main.data) },
      receipt: main.receipt,
      data: main.data,
    };
  };

  // First checkpoint of a log (no proof).
  const firstLog = logIdFor('bench/first');
  await client.createLog(firstLog, operatorAddress);
  const firstArgs = { logId: firstLog, treeSize: 1000, rootHash: toHex(tree.root(1000)), consistencyProof: [] };
  const firstReceipt = await (await registry.sendAnchor(firstArgs)).wait();
  if (!firstReceipt || firstReceipt.status !== 1) throw new Error('first anchor failed');
  const firstAnchor = Number(firstReceipt.gasUsed);
  const firstData = iface.encodeFunctionData('anchor', [firstLog, 1000, firstArgs.rootHash, []]);
  const firstBreakdown = await breakdownOf(hre, firstReceipt, firstData, 1000, 0);

  // anchor at 10, 10^3, 10^6: a batch earlier (m = n - min(1000, n/2)), one entry earlier, and the
  // m below n whose proof is longest (the worst case for the check).
  const anchors: AnchorGas[] = [];
  let main: { gas: AnchorGas; receipt: TransactionReceipt; data: string } | undefined;
  for (const n of [10, 1_000, 1_000_000]) {
    let worst = 1;
    for (let m = 1; m < n; m++) if (consistencyProofLength(m, n) > consistencyProofLength(worst, n)) worst = m;
    const batch = n - Math.min(1000, n / 2);
    for (const m of [...new Set([batch, n - 1, worst])]) {
      const r = await anchorOnce(m, n);
      anchors.push(r.gas);
      log(`anchor ${m} -> ${n}: proof ${r.gas.proofLength}, ${r.gas.hashes} hashes, ${r.gas.gas} gas (opening a slot ${r.gas.gasOpening}, filling ${r.gas.gasFilling})`);
      if (n === 1_000_000 && m === batch) main = r;
    }
  }
  if (!main) throw new Error('the 10^6 batch anchor was not measured');
  const at1000 = anchors.find((a) => a.n === 1_000 && a.m === 500)!;

  // Sustained: one log anchored every 1000 entries, 1000 → 9000.
  const sustainedLog = logIdFor('bench/sustained');
  await client.createLog(sustainedLog, operatorAddress);
  await registry.anchor({ logId: sustainedLog, treeSize: 1000, rootHash: toHex(tree.root(1000)), consistencyProof: [] });
  const sustainedGas: number[] = [];
  for (let k = 2; k <= 9; k++) {
    const receipt = await (await registry.sendAnchor({ logId: sustainedLog, treeSize: 1000 * k, rootHash: toHex(tree.root(1000 * k)), consistencyProof: tree.consistencyProof(1000 * (k - 1), 1000 * k).map(toHex) })).wait();
    if (!receipt || receipt.status !== 1) throw new Error('sustained anchor failed');
    sustainedGas.push(Number(receipt.gasUsed));
  }
  const sustained1000 = Math.round(sustainedGas.reduce((a, b) => a + b, 0) / sustainedGas.length);
  log(`sustained, every 1000 entries: ${sustainedGas.join(' ')} (mean ${sustained1000})`);
  const breakdown = await breakdownOf(hre, main.receipt, main.data, main.gas.n, main.gas.m);

  // Baselines without any check.
  const bare = await deployRaw('BareAnchor', admin!);
  const bareAt = (fn: string, args: unknown[]) => mined(admin!.sendTransaction({ to: bare.address, data: bare.iface.encodeFunctionData(fn, args) }));
  const root = toHex(tree.root(1_000_000));
  // Fresh keys each time: every anchor writes new slots, as a real one does. Measured on the 2nd call.
  await bareAt('anchorRoot', [logIdFor('bare/0'), root]);
  const bareRootAnchor = Number((await bareAt('anchorRoot', [logIdFor('bare/1'), root])).gasUsed);
  await bareAt('anchorCheckpoint', [logIdFor('bare/2'), root]);
  const bareCheckpointAnchor = Number((await bareAt('anchorCheckpoint', [logIdFor('bare/3'), root])).gasUsed);
  await bareAt('anchorRecord', [logIdFor('record/0')]);
  const perRecordAnchor = Number((await bareAt('anchorRecord', [logIdFor('record/1')])).gasUsed);

  // Ethereum Attestation Service: one attestation of a record hash under a minimal schema.
  const schemas = await deployRaw('SchemaRegistry', admin!);
  const eas = await deployRaw('EAS', admin!, [schemas.address]);
  const schemaDef = 'bytes32 recordHash';
  await mined(admin!.sendTransaction({ to: schemas.address, data: schemas.iface.encodeFunctionData('register', [schemaDef, '0x0000000000000000000000000000000000000000', true]) }));
  // UID = keccak256(abi.encodePacked(schema, resolver, revocable)), as SchemaRegistry._getUID.
  const schemaUid = solidityPackedKeccak256(['string', 'address', 'bool'], [schemaDef, '0x0000000000000000000000000000000000000000', true]);
  const attest = (i: number) =>
    mined(
      admin!.sendTransaction({
        to: eas.address,
        data: eas.iface.encodeFunctionData('attest', [
          {
            schema: schemaUid,
            data: {
              recipient: '0x0000000000000000000000000000000000000000',
              expirationTime: 0,
              revocable: true,
              refUID: `0x${'00'.repeat(32)}`,
              data: AbiCoder.defaultAbiCoder().encode(['bytes32'], [logIdFor(`eas/${i}`)]),
              value: 0,
            },
          },
        ]),
      }),
    );
  await attest(0);
  const easAttest = Number((await attest(1)).gasUsed);

  const round2 = (x: number) => Math.round(x * 100) / 100;
  const result: GasBenchResult = {
    firstAnchor,
    anchors,
    bareRootAnchor,
    bareCheckpointAnchor,
    perRecordAnchor,
    easAttest,
    breakdown,
    firstBreakdown,
    ratioVsBareRoot: round2(main.gas.gas / bareRootAnchor),
    ratioVsBareCheckpoint: round2(main.gas.gas / bareCheckpointAnchor),
    ratioAt1000VsBareRoot: round2(at1000.gas / bareRootAnchor),
    sustained1000,
  };
  return result;
}

export function formatGasTable(r: GasBenchResult): string {
  const lines: string[] = [];
  const row = (cells: Array<string | number>) => lines.push(cells.map((c, i) => String(c).padStart(i === 0 ? 0 : 10)).join(' '));
  lines.push('anchor with on-chain consistency check (gas per transaction)');
  row(['n'.padEnd(9), 'm', 'proof', 'hashes', 'calldata', 'gas', 'opening', 'filling', 'x bare', 'x bare2']);
  for (const a of r.anchors) {
    row([String(a.n).padEnd(9), a.m, a.proofLength, a.hashes, a.calldataGas, a.gas, a.gasOpening, a.gasFilling, (a.gas / r.bareRootAnchor).toFixed(2), (a.gas / r.bareCheckpointAnchor).toFixed(2)]);
  }
  lines.push(`n = 1000, m = 500 (mean of the two slot positions) / bare root anchor: ${r.ratioAt1000VsBareRoot} (target <= 1.6)`);
  lines.push(`a log anchored every 1000 entries (1000 -> 9000): ${r.sustained1000} gas per checkpoint on average`);
  lines.push('');
  lines.push(`first checkpoint of a log (no proof)       ${r.firstAnchor}`);
  lines.push(`bare root anchor (1 slot + event, no check) ${r.bareRootAnchor}   = "x bare"`);
  lines.push(`bare checkpoint (same 2 slots, no check)    ${r.bareCheckpointAnchor}   = "x bare2"`);
  lines.push(`per-record anchor (one tx per record)       ${r.perRecordAnchor}   (1000 records: ${r.perRecordAnchor * 1000})`);
  lines.push(`EAS attest (one attestation)                ${r.easAttest}`);
  const b = r.breakdown;
  const f = r.firstBreakdown;
  lines.push('');
  lines.push(`where the gas goes: anchor ${b.m} -> ${b.n} (with proof) beside the first checkpoint (no proof)`);
  for (const [k, v, w] of [
    ['intrinsic', b.intrinsic, f.intrinsic],
    ['calldata', b.calldata, f.calldata],
    ['SSTORE (root slot, metadata, log slot)', b.sstore, f.sstore],
    ['SLOAD (log, paused, slots; old root)', b.sload, f.sload],
    [`SHA-256 precompile (${b.sha256Calls} calls)`, b.sha256, f.sha256],
    ['event', b.event, f.event],
    ['other execution', b.other, f.other],
    ['total', b.total, f.total],
  ] as Array<[string, number, number]>) {
    lines.push(`  ${k.padEnd(38)} ${String(v).padStart(7)} ${((100 * v) / b.total).toFixed(1).padStart(5)}%   ${String(w).padStart(7)}   check: ${String(v - w).padStart(6)}`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  benchGas({ log: (l) => process.stderr.write(l + '\n') })
    .then((r) => {
      process.stdout.write(formatGasTable(r) + '\n\n' + JSON.stringify(r, null, 2) + '\n');
    })
    .catch((err: unknown) => {
      process.stderr.write(`gas bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    });
}
