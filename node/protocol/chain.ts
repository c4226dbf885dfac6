/**
 * What a verifier reads from an EVM chain: the `ChainReader` interface, the registry's event topic,
 * and the error a failed read raises. Types and constants only, so node/chain (ethers), the browser
 * page's reader and node/verifier all depend on node/protocol, never on each other.
 */
import type { Hex } from './bytes';
import { ProtocolError } from './errors';

/** What a verifier needs from an EVM chain. Implementations: node/chain/chain-reader.ts (ethers), the browser page's fetch reader. */
export interface ChainReader {
  chainId(): Promise<bigint>;
  getCode(address: Hex): Promise<string>;
  /** AnchorRegistry.checkpoint(logId, treeSize); null when that size was never anchored (or the log does not exist). */
  checkpoint(registry: Hex, logId: Hex, treeSize: number): Promise<{ rootHash: Hex; timestamp: bigint; blockNumber: bigint } | null>;
  getBlock(number: bigint): Promise<{ hash: Hex; timestamp: bigint } | null>;
  blockNumber(): Promise<bigint>;
  /**
   * Optional: AnchorRegistry.latest(logId), the newest anchored checkpoint of the log (treeSize 0: none);
   * null for an unknown log. Without it the `consistency` step is skipped.
   */
  latest?(registry: Hex, logId: Hex): Promise<{ treeSize: number; rootHash: Hex; timestamp: bigint; blockNumber: bigint } | null>;
  /** Optional: AnchorRegistry.operatorOf(logId) as of `blockNumber`; without it the `operator` step is skipped. */
  operatorOf?(registry: Hex, logId: Hex, blockNumber: bigint): Promise<Hex | null>;
  /**
   * Optional: where a transaction was mined and the logs it emitted; without it the bundle's txHash is
   * reported, not checked. With `logs`, the transaction must have emitted the checkpoint's event.
   */
  transaction?(txHash: Hex): Promise<{ blockNumber: bigint; blockHash: Hex; to: Hex | null; status: number; logs?: readonly ChainLog[] } | null>;
}

/** One EVM log of a transaction receipt. */
export interface ChainLog {
  address: Hex;
  topics: readonly Hex[];
  data: Hex;
}

/** topic0 of `CheckpointAnchored(bytes32 indexed logId, uint64 treeSize, bytes32 rootHash, uint64 previousTreeSize)`. */
export const CHECKPOINT_ANCHORED_TOPIC = '0x81aa484e785fddfe9489a2e8366e2c01d721f83751b07765ef222e25ba0339ab' as Hex;

/** A reader call failed (network, RPC error): the chain is unusable, which is not a verdict on the bundle. */
export class ChainReadError extends ProtocolError {
  override readonly name: string = 'ChainReadError';
  declare readonly code: 'CHAIN_READ';
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('CHAIN_READ', message, opts);
  }
}
