/**
 * A ChainReader over any EVM JSON-RPC endpoint with `fetch` alone: no ethers, no Node built-ins, so
 * the browser page carries a few kilobytes instead of ethers' provider stack. It asks the same reads
 * as the ethers reader (node/chain/chain-reader.ts) and answers the same values, which
 * test/chain/fetch-reader.test.ts holds side by side against a real chain. The two registry calls are
 * ABI-encoded by hand: `checkpoint(bytes32,uint64)`, `latest(bytes32)` and `operatorOf(bytes32)`, and the registry's
 * "unknown log / checkpoint" reverts are answers (null), not failures.
 */
import type { Hex } from '../protocol/bytes';
import { ChainReadError, type ChainReader } from '../protocol/chain';

export const DEFAULT_RPC_TIMEOUT_MS = 8_000;

/** 4-byte selectors: keccak256 of the signatures (checked against ethers' Interface in the test). */
export const SELECTORS = {
  checkpoint: '0xaa5a64ed', // checkpoint(bytes32,uint64)
  operatorOf: '0x63ea4ab2', // operatorOf(bytes32)
  latest: '0x79feb107', // latest(bytes32)
  unknownCheckpoint: '0xadcb9774', // AnchorRegistryUnknownCheckpoint(bytes32,uint64)
  unknownLog: '0x03d2a772', // AnchorRegistryUnknownLog(bytes32)
} as const;

const lower = (s: string): Hex => s.toLowerCase() as Hex;
const quantity = (n: bigint | number): string => '0x' + n.toString(16);
const word = (n: bigint | number): string => n.toString(16).padStart(64, '0');
const bytes32 = (h: Hex): string => {
  if (!/^0x[0-9a-fA-F]{64}$/.test(h)) throw new ChainReadError(`not 32 bytes of hex: ${h}`);
  return h.slice(2).toLowerCase();
};

/** An error the endpoint answered (JSON-RPC `error`), with its revert data when there is any. */
class RpcError extends Error {
  constructor(message: string, readonly data: string | undefined) {
    super(message);
  }
}

function parseUrl(rpcUrl: string): URL {
  let url: URL;
  try {
    url = new URL(rpcUrl);
  } catch {
    throw new ChainReadError(`RPC URL ${JSON.stringify(rpcUrl)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ChainReadError(`RPC URL must be http(s), got ${url.protocol}`);
  return url;
}

/** Asks the endpoint for its chain id with a timeout; ChainReadError when it does not answer. */
export async function probeChainId(rpcUrl: string, timeoutMs = DEFAULT_RPC_TIMEOUT_MS): Promise<bigint> {
  const url = parseUrl(rpcUrl);
  let body: { result?: unknown; error?: { message?: string } };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = (await res.json()) as typeof body;
  } catch (err) {
    throw new ChainReadError(`RPC endpoint ${url.origin} is unreachable: ${(err as Error).message}`, { cause: err });
  }
  if (typeof body.result !== 'string' || !/^0x[0-9a-f]+$/i.test(body.result)) {
    throw new ChainReadError(`RPC endpoint ${url.origin} gave no chain id: ${body.error?.message ?? JSON.stringify(body).slice(0, 200)}`);
  }
  return BigInt(body.result);
}

export interface FetchChainReader extends ChainReader {
  readonly rpcUrl: string;
  /** Nothing to release (no timers, no sockets held); there for the same shape as the ethers reader. */
  close(): void;
}

/** A ChainReader over `rpcUrl` with fetch; every request has `timeoutMs`. */
export function fetchChainReader(rpcUrl: string, opts: { timeoutMs?: number } = {}): FetchChainReader {
  const url = parseUrl(rpcUrl);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  let id = 0;
  const call = async (method: string, params: unknown[]): Promise<unknown> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`${method}: HTTP ${res.status}`);
    const body = (await res.json()) as { result?: unknown; error?: { message?: string; data?: unknown } };
    if (body.error) {
      const d = body.error.data;
      const data = typeof d === 'string' ? d : typeof d === 'object' && d !== null && typeof (d as { data?: unknown }).data === 'string' ? (d as { data: string }).data : undefined;
      throw new RpcError(`${method}: ${body.error.message ?? 'error'}`, data);
    }
    return body.result;
  };
  const hexResult = (method: string, v: unknown): string => {
    if (typeof v !== 'string' || !/^0x[0-9a-fA-F]*$/.test(v)) throw new Error(`${method}: not a hex answer: ${JSON.stringify(v)?.slice(0, 100)}`);
    return v;
  };
  /** eth_call; null when the registry reverted with one of its "unknown" errors. */
  const registryCall = async (to: Hex, data: string, blockTag: string): Promise<string | null> => {
    try {
      return hexResult('eth_call', await call('eth_call', [{ to, data }, blockTag]));
    } catch (err) {
      const d = err instanceof RpcError ? err.data?.toLowerCase() : undefined;
      if (d !== undefined && (d.startsWith(SELECTORS.unknownCheckpoint) || d.startsWith(SELECTORS.unknownLog))) return null;
      throw err;
    }
  };
  return {
    rpcUrl,
    close() {},
    async chainId() {
      return BigInt(hexResult('eth_chainId', await call('eth_chainId', [])));
    },
    async getCode(address) {
      return hexResult('eth_getCode', await call('eth_getCode', [address, 'latest']));
    },
    async checkpoint(reg, logId, treeSize) {
      const r = await registryCall(reg, SELECTORS.checkpoint + bytes32(logId) + word(treeSize), 'latest');
      if (r === null) return null;
      if (r.length !== 2 + 64 * 3) throw new Error(`checkpoint: ${(r.length - 2) / 2} bytes returned, 96 expected`);
      return { rootHash: lower('0x' + r.slice(2, 66)), timestamp: BigInt('0x' + r.slice(66, 130)), blockNumber: BigInt('0x' + r.slice(130, 194)) };
    },
    async latest(reg, logId) {
      const r = await registryCall(reg, SELECTORS.latest + bytes32(logId), 'latest');
      if (r === null) return null;
      if (r.length !== 2 + 64 * 4) throw new Error(`latest: ${(r.length - 2) / 2} bytes returned, 128 expected`);
      const w = (i: number): string => '0x' + r.slice(2 + 64 * i, 2 + 64 * (i + 1));
      return { treeSize: Number(BigInt(w(0))), rootHash: lower(w(1)), timestamp: BigInt(w(2)), blockNumber: BigInt(w(3)) };
    },
    async operatorOf(reg, logId, blockNumber) {
      const r = await registryCall(reg, SELECTORS.operatorOf + bytes32(logId), quantity(blockNumber));
      // null: unknown log; '0x': no contract at that address yet at that block (before the registry was deployed).
      if (r === null || r === '0x') return null;
      if (r.length !== 2 + 64) throw new Error(`operatorOf: ${(r.length - 2) / 2} bytes returned, 32 expected`);
      return lower('0x' + r.slice(26));
    },
    async getBlock(n) {
      const b = (await call('eth_getBlockByNumber', [quantity(n), false])) as { hash?: string | null; timestamp?: string } | null;
      return b && b.hash ? { hash: lower(b.hash), timestamp: BigInt(hexResult('eth_getBlockByNumber', b.timestamp)) } : null;
    },
    async blockNumber() {
      return BigInt(hexResult('eth_blockNumber', await call('eth_blockNumber', [])));
    },
    async transaction(txHash) {
      const r = (await call('eth_getTransactionReceipt', [txHash])) as {
        blockNumber: string; blockHash: string; to: string | null; status?: string | null;
        logs: { address: string; topics: string[]; data: string }[];
      } | null;
      return r
        ? {
            blockNumber: BigInt(r.blockNumber),
            blockHash: lower(r.blockHash),
            to: r.to ? lower(r.to) : null,
            status: r.status === undefined || r.status === null ? 0 : Number(r.status),
            logs: r.logs.map((l) => ({ address: lower(l.address), topics: l.topics.map(lower), data: l.data as Hex })),
          }
        : null;
    },
  };
}

/** Probes `rpcUrl`'s chain id (with a timeout, so a dead endpoint fails fast), then returns a fetch reader. */
export async function connectFetchChainReader(rpcUrl: string, opts: { timeoutMs?: number } = {}): Promise<FetchChainReader> {
  await probeChainId(rpcUrl, opts.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS);
  return fetchChainReader(rpcUrl, opts);
}
