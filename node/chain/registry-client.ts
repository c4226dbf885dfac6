/**
 * A typed wrapper over the AnchorRegistry contract (ethers v6). Integers come back as `bigint`,
 * hashes as lowercase 0x-hex, addresses as lowercase 0x-hex. Unknown checkpoints read as `null`
 * (the contract reverts with AnchorRegistryUnknownCheckpoint; here that is an answer, not a failure).
 */
import {
  Contract,
  ContractFactory,
  Interface,
  isError,
  type ContractRunner,
  type ContractTransactionResponse,
  type Provider,
  type Signer,
  type TransactionReceipt,
} from 'ethers';
import type { Hex } from '../protocol/bytes';
import { loadArtifact } from './artifacts';

/** One anchored checkpoint as stored on chain. */
export interface AnchoredCheckpoint {
  rootHash: Hex;
  /** The anchoring block's timestamp, seconds. */
  timestamp: bigint;
  blockNumber: bigint;
}

/** The latest checkpoint of a log; `treeSize` 0 (and zeros elsewhere) when none is anchored yet. */
export interface LatestCheckpoint extends AnchoredCheckpoint {
  treeSize: bigint;
}

/** A `CheckpointAnchored` event with where it was emitted. */
export interface CheckpointAnchoredEvent {
  logId: Hex;
  treeSize: bigint;
  rootHash: Hex;
  previousTreeSize: bigint;
  blockNumber: bigint;
  blockHash: Hex;
  txHash: Hex;
  logIndex: number;
}

/** Who ran a log from when: `LogCreated` (the first operator) or `OperatorChanged` (a rotation). */
export interface OperatorEvent {
  operator: Hex;
  /** OperatorChanged: who it replaced (null for LogCreated). */
  previous: Hex | null;
  blockNumber: bigint;
  logIndex: number;
  txHash: Hex;
}

/** What a mined registry transaction left behind. */
export interface MinedTx {
  txHash: Hex;
  blockNumber: bigint;
  blockHash: Hex;
  gasUsed: bigint;
}

/** A decoded AnchorRegistry custom error (or an OpenZeppelin one, e.g. EnforcedPause). */
export interface RegistryRevert {
  name: string;
  args: unknown[];
}

export interface AnchorParams {
  logId: Hex;
  treeSize: bigint | number;
  rootHash: Hex;
  consistencyProof: readonly Hex[];
}

export interface InclusionParams {
  logId: Hex;
  treeSize: bigint | number;
  leafIndex: bigint | number;
  leafHash: Hex;
  proof: readonly Hex[];
}

/** Thrown when a registry transaction reverts; carries the decoded custom error when there is one. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    message: string,
    readonly revert: RegistryRevert | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

let iface: Interface | undefined;
export function registryInterface(): Interface {
  iface ??= new Interface(loadArtifact('AnchorRegistry').abi);
  return iface;
}

const lower = (s: string): Hex => s.toLowerCase() as Hex;

/** Revert data found on an error: ethers' CALL_EXCEPTION `data`, or a JSON-RPC error's `data` (Hardhat, Besu, geth). */
function revertDataOf(err: unknown, depth = 0): string | undefined {
  if (err === null || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as { data?: unknown; error?: unknown; info?: { error?: unknown }; cause?: unknown };
  if (typeof e.data === 'string' && /^0x[0-9a-fA-F]{8}/.test(e.data)) return e.data;
  if (e.data !== null && typeof e.data === 'object') {
    const inner = revertDataOf(e.data, depth + 1);
    if (inner) return inner;
  }
  return revertDataOf(e.error, depth + 1) ?? revertDataOf(e.info?.error, depth + 1) ?? revertDataOf(e.cause, depth + 1);
}

/**
 * Decodes the AnchorRegistry custom error (or inherited OpenZeppelin error) behind a failed call,
 * estimateGas or transaction, or returns undefined when the failure was not a decodable revert
 * (network error, out of gas, malformed calldata reverting without data...).
 */
export function decodeRegistryRevert(err: unknown): RegistryRevert | undefined {
  if (err instanceof RegistryError) return err.revert;
  if (isError(err, 'CALL_EXCEPTION') && err.revert) return { name: err.revert.name, args: [...err.revert.args] };
  const data = revertDataOf(err);
  if (data === undefined) return undefined;
  try {
    const parsed = registryInterface().parseError(data);
    return parsed ? { name: parsed.name, args: [...parsed.args] } : undefined;
  } catch {
    return undefined; // data that is not an ABI-encoded error of this contract: not a registry revert
  }
}

function wrap(what: string, err: unknown): Error {
  const revert = decodeRegistryRevert(err);
  if (revert === undefined) return err instanceof Error ? err : new Error(String(err));
  const args = revert.args.map((a) => (typeof a === 'bigint' ? a.toString() : String(a))).join(', ');
  return new RegistryError(`${what} reverted: ${revert.name}(${args})`, revert, { cause: err });
}

/**
 * Deploys a fresh AnchorRegistry with `admin` (default: the signer) holding DEFAULT_ADMIN_ROLE and
 * waits for `confirmations` (default 1).
 */
export async function deployRegistry(
  signer: Signer,
  admin?: string,
  confirmations = 1,
): Promise<{ client: RegistryClient; deployTx: Hex; deployBlock: bigint }> {
  const { abi, bytecode } = loadArtifact('AnchorRegistry');
  const factory = new ContractFactory(abi, bytecode, signer);
  const contract = await factory.deploy(admin ?? (await signer.getAddress()));
  const tx = contract.deploymentTransaction();
  if (!tx) throw new Error('AnchorRegistry deployment transaction is missing');
  const receipt = await tx.wait(confirmations);
  if (!receipt || receipt.status !== 1 || !receipt.contractAddress) throw new Error(`AnchorRegistry deployment ${tx.hash} failed`);
  return { client: RegistryClient.connect(receipt.contractAddress, signer), deployTx: lower(tx.hash), deployBlock: BigInt(receipt.blockNumber) };
}

export class RegistryClient {
  readonly contract: Contract;

  private constructor(
    readonly address: Hex,
    runner: ContractRunner,
  ) {
    this.contract = new Contract(address, loadArtifact('AnchorRegistry').abi, runner);
  }

  /** A client for the registry at `address`; `runner` is a Provider (read only) or a Signer (writes too). */
  static connect(address: string, runner: ContractRunner): RegistryClient {
    return new RegistryClient(lower(address), runner);
  }

  /** The same registry, sending from another signer. */
  withRunner(runner: ContractRunner): RegistryClient {
    return new RegistryClient(this.address, runner);
  }

  private get provider(): Provider {
    const p = this.contract.runner?.provider;
    if (!p) throw new Error('the registry client has no provider');
    return p;
  }

  private async send(what: string, tx: Promise<ContractTransactionResponse>, confirmations: number): Promise<MinedTx> {
    let receipt: TransactionReceipt | null;
    try {
      receipt = await (await tx).wait(confirmations);
    } catch (err) {
      throw wrap(what, err);
    }
    if (!receipt) throw new Error(`${what}: no receipt`);
    return { txHash: lower(receipt.hash), blockNumber: BigInt(receipt.blockNumber), blockHash: lower(receipt.blockHash), gasUsed: receipt.gasUsed };
  }

  // ---- writes (each waits for `confirmations`, default 1, and decodes reverts into RegistryError)

  createLog(logId: Hex, operator: string, confirmations = 1): Promise<MinedTx> {
    return this.send('createLog', this.contract.getFunction('createLog')(logId, operator), confirmations);
  }

  setOperator(logId: Hex, newOperator: string, confirmations = 1): Promise<MinedTx> {
    return this.send('setOperator', this.contract.getFunction('setOperator')(logId, newOperator), confirmations);
  }

  pause(confirmations = 1): Promise<MinedTx> {
    return this.send('pause', this.contract.getFunction('pause')(), confirmations);
  }

  unpause(confirmations = 1): Promise<MinedTx> {
    return this.send('unpause', this.contract.getFunction('unpause')(), confirmations);
  }

  /** Sends `anchor` and returns at once: for callers (the anchorer) that track confirmations themselves. */
  async sendAnchor(p: AnchorParams): Promise<ContractTransactionResponse> {
    try {
      return await this.contract.getFunction('anchor')(p.logId, p.treeSize, p.rootHash, [...p.consistencyProof]);
    } catch (err) {
      throw wrap('anchor', err);
    }
  }

  /** Sends `anchor` and waits for `confirmations`. */
  anchor(p: AnchorParams, confirmations = 1): Promise<MinedTx> {
    return this.send('anchor', this.sendAnchor(p), confirmations);
  }

  /** The gas `anchor` would use now; reverts surface as RegistryError (a dry run before sending). */
  async estimateAnchorGas(p: AnchorParams): Promise<bigint> {
    try {
      return await this.contract.getFunction('anchor').estimateGas(p.logId, p.treeSize, p.rootHash, [...p.consistencyProof]);
    } catch (err) {
      throw wrap('anchor', err);
    }
  }

  // ---- reads (blockTag: read the state at a given block, e.g. at the confirmation depth)

  async operatorOf(logId: Hex, blockTag?: bigint | number | string): Promise<Hex> {
    try {
      return lower(await this.contract.getFunction('operatorOf').staticCall(logId, { blockTag }));
    } catch (err) {
      throw wrap('operatorOf', err);
    }
  }

  /** The anchored checkpoint at `treeSize`, or null when that size was never anchored. */
  async checkpoint(logId: Hex, treeSize: bigint | number, blockTag?: bigint | number | string): Promise<AnchoredCheckpoint | null> {
    let r: [string, bigint, bigint];
    try {
      r = await this.contract.getFunction('checkpoint').staticCall(logId, treeSize, { blockTag });
    } catch (err) {
      if (decodeRegistryRevert(err)?.name === 'AnchorRegistryUnknownCheckpoint') return null;
      throw wrap('checkpoint', err);
    }
    return { rootHash: lower(r[0]), timestamp: r[1], blockNumber: r[2] };
  }

  /** The latest checkpoint of `logId` (treeSize 0 when none yet); RegistryError for an unknown log. */
  async latest(logId: Hex, blockTag?: bigint | number | string): Promise<LatestCheckpoint> {
    let r: [bigint, string, bigint, bigint];
    try {
      r = await this.contract.getFunction('latest').staticCall(logId, { blockTag });
    } catch (err) {
      throw wrap('latest', err);
    }
    return { treeSize: r[0], rootHash: lower(r[1]), timestamp: r[2], blockNumber: r[3] };
  }

  /** The contract's own RFC 9162 inclusion check against the anchored checkpoint (RegistryError if not anchored). */
  async verifyInclusion(p: InclusionParams, blockTag?: bigint | number | string): Promise<boolean> {
    try {
      return await this.contract.getFunction('verifyInclusion').staticCall(p.logId, p.treeSize, p.leafIndex, p.leafHash, [...p.proof], { blockTag });
    } catch (err) {
      throw wrap('verifyInclusion', err);
    }
  }

  /** Whether `account` holds DEFAULT_ADMIN_ROLE. */
  async isAdmin(account: string): Promise<boolean> {
    const role: string = await this.contract.getFunction('DEFAULT_ADMIN_ROLE').staticCall();
    return this.contract.getFunction('hasRole').staticCall(role, account);
  }

  async paused(): Promise<boolean> {
    return this.contract.getFunction('paused').staticCall();
  }

  /**
   * The log's operator history in [fromBlock, toBlock]: its `LogCreated` event and every
   * `OperatorChanged`, in chain order. Callers page large ranges themselves.
   */
  async queryOperatorEvents(fromBlock: bigint | number, toBlock: bigint | number, logId: Hex): Promise<OperatorEvent[]> {
    const iface = this.contract.interface;
    const created = iface.getEvent('LogCreated');
    const changed = iface.getEvent('OperatorChanged');
    if (!created || !changed) throw new Error('LogCreated / OperatorChanged are missing from the AnchorRegistry ABI');
    const logs = await this.provider.getLogs({
      address: this.address,
      topics: [[created.topicHash, changed.topicHash], logId],
      fromBlock: Number(fromBlock),
      toBlock: Number(toBlock),
    });
    return logs
      .map((log) => {
        const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
        if (!parsed) throw new Error(`undecodable operator event in tx ${log.transactionHash}`);
        const created = parsed.name === 'LogCreated';
        const operator = created ? (parsed.args[1] as string) : (parsed.args[2] as string);
        const previous = created ? null : lower(parsed.args[1] as string);
        return { operator: lower(operator), previous, blockNumber: BigInt(log.blockNumber), logIndex: log.index, txHash: lower(log.transactionHash) };
      })
      .sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
  }

  /**
   * `CheckpointAnchored` events in [fromBlock, toBlock] (inclusive), optionally for one log, in chain
   * order. Callers page large ranges themselves: many RPC providers cap eth_getLogs ranges.
   */
  async queryAnchoredEvents(fromBlock: bigint | number, toBlock: bigint | number | 'latest', logId?: Hex): Promise<CheckpointAnchoredEvent[]> {
    const iface = this.contract.interface;
    const event = iface.getEvent('CheckpointAnchored');
    if (!event) throw new Error('CheckpointAnchored is missing from the AnchorRegistry ABI');
    const topics = iface.encodeFilterTopics(event, logId === undefined ? [] : [logId]);
    const logs = await this.provider.getLogs({
      address: this.address,
      topics,
      fromBlock: typeof fromBlock === 'bigint' ? Number(fromBlock) : fromBlock,
      toBlock: typeof toBlock === 'bigint' ? Number(toBlock) : toBlock,
    });
    return logs.map((log) => {
      const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
      if (!parsed) throw new Error(`undecodable CheckpointAnchored log in tx ${log.transactionHash}`);
      return {
        logId: lower(parsed.args[0] as string),
        treeSize: parsed.args[1] as bigint,
        rootHash: lower(parsed.args[2] as string),
        previousTreeSize: parsed.args[3] as bigint,
        blockNumber: BigInt(log.blockNumber),
        blockHash: lower(log.blockHash),
        txHash: lower(log.transactionHash),
        logIndex: log.index,
      };
    });
  }
}
