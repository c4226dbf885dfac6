/**
 * A ChainReader (node/protocol/chain.ts) over any EVM JSON-RPC endpoint, with ethers v6. It reads
 * the registry through a minimal human-readable ABI, so a verifier needs neither compiled artifacts
 * nor the node's store or API: only an RPC URL. Every request has a timeout, so an unreachable
 * endpoint fails fast (the CLI turns that into exit 2) instead of ethers' endless network retry.
 */
import { Contract, FetchRequest, Interface, JsonRpcProvider, Network, isError, type Provider } from 'ethers';
import type { Hex } from '../protocol/bytes';
import type { ChainReader } from '../protocol/chain';
import { DEFAULT_RPC_TIMEOUT_MS, probeChainId } from './fetch-reader';

export { DEFAULT_RPC_TIMEOUT_MS, probeChainId } from './fetch-reader';

/** The registry reads a verifier needs, and the errors an unknown log or checkpoint reverts with. */
export const REGISTRY_READ_ABI = [
  'function checkpoint(bytes32 logId, uint64 treeSize) view returns (bytes32 rootHash, uint64 timestamp, uint64 blockNumber)',
  'function operatorOf(bytes32 logId) view returns (address)',
  'function latest(bytes32 logId) view returns (uint64 treeSize, bytes32 rootHash, uint64 timestamp, uint64 blockNumber)',
  'error AnchorRegistryUnknownLog(bytes32 logId)',
  'error AnchorRegistryUnknownCheckpoint(bytes32 logId, uint64 treeSize)',
] as const;


const lower = (s: string): Hex => s.toLowerCase() as Hex;
const iface = new Interface(REGISTRY_READ_ABI);

/** The registry's "unknown" reverts are answers (never anchored), not failures. */
function unknownRevert(err: unknown): boolean {
  if (!isError(err, 'CALL_EXCEPTION')) return false;
  const name = err.revert?.name;
  if (name === 'AnchorRegistryUnknownCheckpoint' || name === 'AnchorRegistryUnknownLog') return true;
  if (typeof err.data === 'string' && err.data.length >= 10) {
    try {
      const parsed = iface.parseError(err.data);
      return parsed?.name === 'AnchorRegistryUnknownCheckpoint' || parsed?.name === 'AnchorRegistryUnknownLog';
    } catch {
      return false; // not one of this ABI's errors: a real failure, reported by the caller
    }
  }
  return false;
}

/**
 * A ChainReader over an existing ethers provider (e.g. the node's own, for the API's verify route).
 * Prefer connectChainReader for untrusted endpoints: it probes with a timeout first.
 */
export function chainReaderFromProvider(provider: Provider): ChainReader {
  const registry = (address: Hex): Contract => new Contract(address, REGISTRY_READ_ABI, provider);
  return {
    async chainId() {
      // Ask the endpoint itself: a provider's configured (static) network is a claim, not an answer.
      const rpc = provider as Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> };
      if (typeof rpc.send === 'function') return BigInt(String(await rpc.send('eth_chainId', [])));
      return (await provider.getNetwork()).chainId;
    },
    async getCode(address) {
      return provider.getCode(address);
    },
    async checkpoint(reg, logId, treeSize) {
      try {
        const r = (await registry(reg).getFunction('checkpoint').staticCall(logId, treeSize)) as [string, bigint, bigint];
        return { rootHash: lower(r[0]), timestamp: r[1], blockNumber: r[2] };
      } catch (err) {
        if (unknownRevert(err)) return null;
        throw err;
      }
    },
    async latest(reg, logId) {
      try {
        const r = (await registry(reg).getFunction('latest').staticCall(logId)) as [bigint, string, bigint, bigint];
        return { treeSize: Number(r[0]), rootHash: lower(r[1]), timestamp: r[2], blockNumber: r[3] };
      } catch (err) {
        if (unknownRevert(err)) return null;
        throw err;
      }
    },
    async operatorOf(reg, logId, blockNumber) {
      try {
        return lower((await registry(reg).getFunction('operatorOf').staticCall(logId, { blockTag: blockNumber })) as string);
      } catch (err) {
        if (unknownRevert(err)) return null;
        // An empty answer: no contract at that address yet at that block (before the registry was deployed).
        if (isError(err, 'BAD_DATA') && err.value === '0x') return null;
        throw err;
      }
    },
    async getBlock(n) {
      const b = await provider.getBlock(n);
      return b && b.hash ? { hash: lower(b.hash), timestamp: BigInt(b.timestamp) } : null;
    },
    async blockNumber() {
      return BigInt(await provider.getBlockNumber());
    },
    async transaction(txHash) {
      const r = await provider.getTransactionReceipt(txHash);
      return r
        ? {
            blockNumber: BigInt(r.blockNumber),
            blockHash: lower(r.blockHash),
            to: r.to ? lower(r.to) : null,
            status: r.status ?? 0,
            logs: r.logs.map((l) => ({ address: lower(l.address), topics: l.topics.map(lower), data: l.data as Hex })),
          }
        : null;
    },
  };
}

export interface RpcChainReader extends ChainReader {
  readonly rpcUrl: string;
  readonly provider: JsonRpcProvider;
  close(): void;
}

/**
 * Connects to `rpcUrl` (probing its chain id first, with a timeout) and returns a ChainReader.
 * Call `close()` when done: the provider holds timers.
 */
export async function connectChainReader(rpcUrl: string, opts: { timeoutMs?: number } = {}): Promise<RpcChainReader> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const id = await probeChainId(rpcUrl, timeoutMs);
  const req = new FetchRequest(rpcUrl);
  req.timeout = timeoutMs;
  // staticNetwork: the chain id was just probed; without it ethers re-detects (and retries forever when down).
  const provider = new JsonRpcProvider(req, Network.from(id), { staticNetwork: true, cacheTimeout: -1, batchMaxCount: 1 });
  return {
    ...chainReaderFromProvider(provider),
    rpcUrl,
    provider,
    close() {
      provider.destroy();
    },
  };
}
