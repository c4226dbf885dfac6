/**
 * Reads a log's anchored checkpoints straight from the chain: the registry's CheckpointAnchored
 * events, each confirmed by a `checkpoint(logId, treeSize)` storage read at the same block height,
 * and `latest(logId)` to be sure no event at the head was hidden. Nothing here asks the node.
 */
import { JsonRpcProvider, getAddress } from 'ethers';
import type { Hex } from '../protocol/bytes';
import { RegistryClient, type OperatorEvent } from '../chain/registry-client';
import type { AuditViolation, ChainCheckpoint, OperatorTenure } from './engine';
import { ChainReadError } from '../protocol/chain';

/** The audit's chain failures are the verifier's: one class (node/protocol/chain.ts). */
export { ChainReadError };

export interface ChainView {
  chainId: string;
  registry: Hex;
  logId: Hex;
  /** The operator the registry names at `blockNumber` (operatorOf), lowercase. */
  operator: Hex;
  /** Who ran the log from when (LogCreated, then every OperatorChanged), in chain order. */
  operators: OperatorTenure[];
  /** The block all reads were made at. */
  blockNumber: number;
  checkpoints: ChainCheckpoint[];
  /** Disagreements between events and storage (a lying RPC, or a registry that is not ours). */
  problems: AuditViolation[];
}

export interface ReadChainOptions {
  fromBlock?: number;
  /** Blocks per eth_getLogs call: providers cap ranges. */
  pageBlocks?: number;
  /** Parallel storage reads. */
  concurrency?: number;
}

/** A provider for an RPC URL with no response cache (each read goes to the node). */
export function chainProvider(rpcUrl: string): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1, batchMaxCount: 20 });
}

export async function readChainCheckpoints(provider: JsonRpcProvider, registryAddress: string, logId: Hex, o: ReadChainOptions = {}): Promise<ChainView> {
  let chainId: bigint;
  let head: number;
  try {
    chainId = (await provider.getNetwork()).chainId;
    head = await provider.getBlockNumber();
  } catch (err) {
    throw new ChainReadError(`the chain is unreachable: ${(err as Error).message}`);
  }
  const registry = registryAddress.toLowerCase() as Hex;
  if ((await provider.getCode(registry, head)) === '0x') throw new ChainReadError(`no contract at registry ${getAddress(registry)} on chain ${chainId}`);
  const client = RegistryClient.connect(registry, provider);
  let operator: Hex;
  try {
    operator = await client.operatorOf(logId, head);
  } catch (err) {
    throw new ChainReadError(`log ${logId} is not known to registry ${registry} on chain ${chainId}: ${(err as Error).message}`);
  }
  if (/^0x0{40}$/.test(operator)) throw new ChainReadError(`log ${logId} has no operator in registry ${registry} on chain ${chainId}`);
  const latest = await client.latest(logId, head);

  const page = Math.max(1, o.pageBlocks ?? 10_000);
  const events = [];
  const operators: OperatorTenure[] = [];
  let firstOperatorEvent: OperatorEvent | undefined;
  for (let from = o.fromBlock ?? 0; from <= head; from += page) {
    const to = Math.min(head, from + page - 1);
    events.push(...(await client.queryAnchoredEvents(from, to, logId)));
    for (const e of await client.queryOperatorEvents(from, to, logId)) {
      firstOperatorEvent ??= e;
      operators.push({ operator: e.operator, blockNumber: Number(e.blockNumber), logIndex: e.logIndex });
    }
  }
  // Read from a block after the log was created: the first rotation seen says who ran it before.
  const first = firstOperatorEvent;
  if (first && first.previous !== null) operators.unshift({ operator: first.previous, blockNumber: -1, logIndex: -1 });
  const problems: AuditViolation[] = [];
  // The events must end where storage is: a hidden rotation would make older signatures look wrong (or
  // right). No events at all: the log was created before `fromBlock`; every check uses operatorOf now.
  const lastOperator = operators[operators.length - 1];
  if (lastOperator && lastOperator.operator !== operator.toLowerCase()) {
    problems.push({
      source: 'chain',
      code: 'CHAIN_OPERATOR_EVENTS_INCOMPLETE',
      message: `operatorOf(logId) is ${operator.toLowerCase()} at block ${head}, but the LogCreated/OperatorChanged events read from block ${o.fromBlock ?? 0} end at ${lastOperator.operator}`,
    });
  }
  const checkpoints: ChainCheckpoint[] = [];
  const concurrency = Math.max(1, o.concurrency ?? 16);
  for (let i = 0; i < events.length; i += concurrency) {
    const slice = events.slice(i, i + concurrency);
    const stored = await Promise.all(slice.map((e) => client.checkpoint(logId, e.treeSize, head)));
    slice.forEach((e, j) => {
      const s = stored[j];
      const treeSize = Number(e.treeSize);
      if (!s) {
        problems.push({ source: 'chain', code: 'CHAIN_EVENT_WITHOUT_CHECKPOINT', treeSize, message: `event for checkpoint ${treeSize} (tx ${e.txHash}) but checkpoint(${treeSize}) is not in registry storage` });
        return;
      }
      if (s.rootHash !== e.rootHash || s.blockNumber !== e.blockNumber) {
        problems.push({ source: 'chain', code: 'CHAIN_EVENT_STORAGE_MISMATCH', treeSize, message: `event for checkpoint ${treeSize} says root ${e.rootHash} in block ${e.blockNumber}; storage says ${s.rootHash} in block ${s.blockNumber}` });
      }
      // Storage is what verifiers read (docs/protocol.md §9): it is the authority.
      checkpoints.push({ treeSize, rootHash: s.rootHash, timestamp: Number(s.timestamp), blockNumber: s.blockNumber.toString(), txHash: e.txHash, previousTreeSize: Number(e.previousTreeSize), logIndex: e.logIndex });
    });
  }
  checkpoints.sort((a, b) => a.treeSize - b.treeSize);
  const last = checkpoints[checkpoints.length - 1];
  if (Number(latest.treeSize) !== (last?.treeSize ?? 0)) {
    problems.push({ source: 'chain', code: 'CHAIN_EVENTS_INCOMPLETE', treeSize: Number(latest.treeSize), message: `latest(logId) is size ${latest.treeSize}, but the events read from block ${o.fromBlock ?? 0} end at ${last?.treeSize ?? 0}` });
  }
  return { chainId: chainId.toString(), registry, logId, operator: operator.toLowerCase() as Hex, operators, blockNumber: head, checkpoints, problems };
}
