/**
 * The embedded default chain: Hardhat 2's in-process EVM network, served as standard Ethereum
 * JSON-RPC over HTTP on 127.0.0.1, and made durable by a block journal (see ./journal.ts and
 * docs/embedded-chain.md).
 *
 * - Fixed genesis: fixed date, chain id and funded accounts, so every start rebuilds the same
 *   genesis block; the journal remembers its hash and refuses a different one.
 * - Every block mined is journaled (timestamp, raw signed transactions, resulting hash) with an
 *   fsync before the JSON-RPC response that caused it is sent. All requests go through one FIFO
 *   queue, so no client can observe a block that is not yet on disk.
 * - At start, the journal is replayed onto the fresh genesis block by block and every replayed
 *   block hash must equal the journaled one, or the chain refuses to start.
 * - Clients may only submit raw signed transactions; node-side signing and Hardhat's state
 *   cheats are refused (a few `evm_*` methods are available with `devMethods` for reorg tests,
 *   and keep the journal correct).
 */
import http from 'node:http';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { Signature, Transaction, keccak256, zeroPadValue } from 'ethers';
import { createHardhatNetworkProvider } from 'hardhat/internal/hardhat-network/provider/provider';
import { JsonRpcHandler } from 'hardhat/internal/hardhat-network/jsonrpc/handler';
import { defaultHardhatNetworkParams } from 'hardhat/internal/core/config/default-config';
import type { EIP1193Provider, RequestArguments } from 'hardhat/types';
import type { Hex } from '../../protocol/bytes';
import { isHex } from '../../protocol/bytes';
import { BlockJournal, JOURNAL_FORMAT, type JournalBlock } from './journal';
import { EmbeddedChainError, RpcMethodError } from './errors';

export { EmbeddedChainError, RpcMethodError } from './errors';
export type { EmbeddedChainErrorCode } from './errors';

/** pino-compatible subset. */
export interface ChainLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EmbeddedChainOptions {
  /** The journal lives in `<dataDir>/chain`. */
  dataDir: string;
  /** Default: env TIANFU_CHAIN_PORT, else 8545. 0 picks a free port. */
  port?: number;
  /** Loopback only: the chain serves one machine. */
  host?: '127.0.0.1';
  /** Default 31337. Part of the genesis: changing it later makes the journal unusable. */
  chainId?: number;
  /** Default 'cancun'. Part of the genesis. The registry is compiled for `paris`, which runs on any later fork. */
  hardfork?: string;
  /** Private keys funded in the genesis block. Part of the genesis: pass the same keys, in any order, on every start. */
  fundedKeys: Hex[];
  /** Also serve eth_sendTransaction and evm_snapshot/evm_revert/evm_mine/evm_setNextBlockTimestamp/evm_increaseTime (tests only). */
  devMethods?: boolean;
  /**
   * Who may send transactions over JSON-RPC (eth_sendRawTransaction): addresses (checked against the
   * signed transaction's sender), or 'any' (default). `[]` serves the chain read-only. The process
   * that owns the chain may still send through {@link EmbeddedChain.sendRawTransaction}.
   */
  senders?: readonly string[] | 'any';
  logger?: ChainLogger;
}

export interface EmbeddedChain {
  rpcUrl: string;
  chainId: number;
  genesisHash: Hex;
  /** What the start replayed from the journal. */
  replayed: { blocks: number; transactions: number; ms: number };
  /** Mines a signed transaction whoever sent it (the owning process's own use; clients are held to `senders`). */
  sendRawTransaction(raw: Hex): Promise<Hex>;
  close(): Promise<void>;
}

/** The genesis date is fixed so that the genesis block (and its hash) is the same on every start. */
export const GENESIS_DATE = new Date('2025-01-01T00:00:00Z');
/** 10^9 ether per funded key: effectively unlimited gas money on a chain nobody else can fund. */
export const GENESIS_BALANCE = 10n ** 27n;
const DEFAULT_CHAIN_ID = 31337;
const DEFAULT_HARDFORK = 'cancun';
const BLOCK_GAS_LIMIT = 30_000_000;

/** Read and submit methods any Ethereum tool needs; everything else is refused unless dev. */
const PUBLIC_METHODS = new Set([
  'web3_clientVersion', 'web3_sha3', 'net_version', 'net_listening', 'net_peerCount',
  'eth_chainId', 'eth_blockNumber', 'eth_syncing', 'eth_mining', 'eth_hashrate', 'eth_coinbase', 'eth_protocolVersion',
  'eth_gasPrice', 'eth_maxPriorityFeePerGas', 'eth_feeHistory', 'eth_blobBaseFee',
  'eth_getBalance', 'eth_getCode', 'eth_getStorageAt', 'eth_getTransactionCount', 'eth_getProof',
  'eth_call', 'eth_estimateGas', 'eth_createAccessList',
  'eth_getBlockByNumber', 'eth_getBlockByHash',
  'eth_getBlockTransactionCountByHash', 'eth_getBlockTransactionCountByNumber',
  'eth_getUncleCountByBlockHash', 'eth_getUncleCountByBlockNumber',
  'eth_getUncleByBlockHashAndIndex', 'eth_getUncleByBlockNumberAndIndex',
  'eth_getTransactionByHash', 'eth_getTransactionByBlockHashAndIndex', 'eth_getTransactionByBlockNumberAndIndex',
  'eth_getTransactionReceipt', 'eth_getLogs',
  'eth_newFilter', 'eth_newBlockFilter', 'eth_newPendingTransactionFilter',
  'eth_getFilterChanges', 'eth_getFilterLogs', 'eth_uninstallFilter',
  'eth_accounts', 'eth_sendRawTransaction',
  'debug_traceTransaction', 'debug_traceCall',
]);
/**
 * With `devMethods`. Each either mines through the journal or changes no chain state. Hardhat's
 * other cheats (hardhat_setBalance, hardhat_setCode, evm_setAutomine...) change state without a
 * block and could never be replayed, so they are refused even then.
 */
const DEV_METHODS = new Set(['eth_sendTransaction', 'evm_snapshot', 'evm_revert', 'evm_mine', 'evm_setNextBlockTimestamp', 'evm_increaseTime']);
const MINING_METHODS = new Set(['eth_sendRawTransaction', 'eth_sendTransaction', 'evm_mine']);

export async function startEmbeddedChain(opts: EmbeddedChainOptions): Promise<EmbeddedChain> {
  const chainId = opts.chainId ?? DEFAULT_CHAIN_ID;
  const hardfork = opts.hardfork ?? DEFAULT_HARDFORK;
  const port = resolvePort(opts.port);
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new EmbeddedChainError('CONFIG', `the embedded chain listens on 127.0.0.1 only, got host ${JSON.stringify(host)}`);
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new EmbeddedChainError('CONFIG', `chainId must be a positive integer, got ${chainId}`);
  if (opts.fundedKeys.length === 0) throw new EmbeddedChainError('CONFIG', 'fundedKeys is empty: nobody could pay for a transaction');
  for (const [i, key] of opts.fundedKeys.entries()) {
    if (!isHex(key, 32)) throw new EmbeddedChainError('CONFIG', `fundedKeys[${i}] is not a 32-byte lowercase 0x-hex private key`);
  }

  const inner = await createHardhatNetworkProvider(
    {
      hardfork,
      chainId,
      networkId: chainId,
      blockGasLimit: BLOCK_GAS_LIMIT,
      minGasPrice: 0n,
      automine: true,
      intervalMining: 0,
      // FIFO keeps submission order; with automine every block holds at most one transaction anyway.
      mempoolOrder: 'fifo',
      chains: defaultHardhatNetworkParams.chains,
      // Sorted so the same set of keys in any order gives the same node.
      genesisAccounts: [...new Set(opts.fundedKeys)].sort().map((privateKey) => ({ privateKey, balance: GENESIS_BALANCE })),
      allowUnlimitedContractSize: false,
      // Like a real node: a reverting transaction is mined and reported in its receipt, not as an RPC error.
      throwOnTransactionFailures: false,
      throwOnCallFailures: true,
      // Block time is wall-clock seconds; several blocks in one second share it rather than run ahead of the clock.
      allowBlocksWithSameTimestamp: true,
      initialDate: GENESIS_DATE,
      enableTransientStorage: false,
      enableRip7212: false,
    },
    { enabled: false },
  );

  const genesis = await getBlock(inner, 0);
  const location = path.join(opts.dataDir, 'chain');
  await mkdir(location, { recursive: true });
  const journal = await BlockJournal.open(location);
  let server: http.Server | undefined;
  try {
    const meta = await journal.readMeta();
    if (meta === undefined) {
      await journal.writeMeta({ format: JOURNAL_FORMAT, chainId, hardfork, genesisHash: genesis.hash, createdAt: new Date().toISOString() });
    } else if (meta.chainId !== chainId || meta.hardfork !== hardfork || meta.genesisHash !== genesis.hash) {
      throw new EmbeddedChainError(
        'GENESIS_MISMATCH',
        `the chain journal in ${location} belongs to another genesis (journal: chainId ${meta.chainId}, hardfork ${meta.hardfork}, genesis ${meta.genesisHash}; ` +
          `now: chainId ${chainId}, hardfork ${hardfork}, genesis ${genesis.hash}); were the funded keys changed?`,
      );
    }

    const started = Date.now();
    const replay = await replayJournal(inner, journal, genesis);
    const replayed = { ...replay.counts, ms: Date.now() - started };
    opts.logger?.info({ chainId, head: replay.head.number, ...replayed }, 'embedded chain: journal replayed');

    const senders = opts.senders === undefined || opts.senders === 'any' ? null : new Set(opts.senders.map((a) => a.toLowerCase()));
    const provider = new JournaledProvider(inner, journal, replay.head, opts.devMethods === true, opts.logger, senders);
    const handler = new JsonRpcHandler(provider);
    server = http.createServer((req, res) => void handler.handleHttp(req, res));
    const address = await listen(server, port, host);
    const rpcUrl = `http://${host}:${address.port}`;
    opts.logger?.info({ rpcUrl, chainId, genesisHash: genesis.hash }, 'embedded chain: serving JSON-RPC');

    const srv = server;
    let closing: Promise<void> | undefined;
    return {
      rpcUrl,
      chainId,
      genesisHash: genesis.hash,
      replayed,
      sendRawTransaction: (raw) => provider.request({ method: 'eth_sendRawTransaction', params: [raw] }, true) as Promise<Hex>,
      close: () => {
        closing ??= (async () => {
          await closeServer(srv);
          await provider.drain();
          await journal.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    if (server?.listening === true) await closeServer(server);
    await journal.close();
    throw err;
  }
}

function resolvePort(port: number | undefined): number {
  const env = process.env.TIANFU_CHAIN_PORT;
  const value = port ?? (env !== undefined && env !== '' ? Number(env) : 8545);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new EmbeddedChainError('CONFIG', `chain port must be an integer 0..65535 (port option or TIANFU_CHAIN_PORT), got ${JSON.stringify(port ?? env)}`);
  }
  return value;
}

interface Head {
  number: number;
  timestamp: number;
  hash: Hex;
}

interface RpcBlock {
  number: string;
  hash: Hex;
  parentHash: Hex;
  timestamp: string;
  transactions: unknown[];
}

async function getBlock(p: EIP1193Provider, n: number, full = false): Promise<Head & { parentHash: Hex; transactions: unknown[] }> {
  const b = (await p.request({ method: 'eth_getBlockByNumber', params: [`0x${n.toString(16)}`, full] })) as RpcBlock | null;
  if (b === null) throw new EmbeddedChainError('JOURNAL_DIVERGED', `block ${n} is missing from the in-memory chain`);
  return { number: Number(b.number), timestamp: Number(b.timestamp), hash: b.hash, parentHash: b.parentHash, transactions: b.transactions };
}

/** Rebuilds the journaled chain on a fresh genesis, checking each block hash as it goes. */
async function replayJournal(p: EIP1193Provider, journal: BlockJournal, genesis: Head): Promise<{ head: Head; counts: { blocks: number; transactions: number } }> {
  let head: Head = genesis;
  let transactions = 0;
  for await (const block of journal.blocks()) {
    try {
      await p.request({ method: 'evm_setNextBlockTimestamp', params: [block.timestamp] });
      if (block.txs.length === 0) await p.request({ method: 'evm_mine', params: [] });
      else if (block.txs.length === 1) await p.request({ method: 'eth_sendRawTransaction', params: [block.txs[0]] });
      else {
        // Automine never puts two transactions in a block and batch mining is refused, so a journal saying so was not written by us.
        throw new Error(`it lists ${block.txs.length} transactions; this chain mines one per block`);
      }
    } catch (cause) {
      throw new EmbeddedChainError('JOURNAL_MISMATCH', `cannot replay journaled block ${block.number}: ${(cause as Error).message}`, { cause });
    }
    const got = await getBlock(p, block.number);
    if (got.hash !== block.hash || got.timestamp !== block.timestamp) {
      throw new EmbeddedChainError(
        'JOURNAL_MISMATCH',
        `replayed block ${block.number} does not match the journal (journaled hash ${block.hash}, replayed ${got.hash}); ` +
          'the chain journal was altered or damaged, refusing to start',
      );
    }
    head = got;
    transactions += block.txs.length;
  }
  return { head, counts: { blocks: head.number, transactions } };
}

/**
 * The provider the JSON-RPC handler talks to: refuses what the journal cannot replay, sets block
 * timestamps, and journals every new block before the request that mined it returns.
 */
class JournaledProvider extends EventEmitter implements EIP1193Provider {
  private tail: Promise<unknown> = Promise.resolve();
  /** dev: evm_increaseTime seconds added to the wall clock; evm_setNextBlockTimestamp value. */
  private clockOffset = 0;
  private nextTimestamp: number | undefined;

  constructor(
    private readonly inner: EIP1193Provider,
    private readonly journal: BlockJournal,
    private head: Head,
    private readonly dev: boolean,
    private readonly logger: ChainLogger | undefined,
    /** Addresses whose signed transactions clients may send; null: anyone's. */
    private readonly senders: ReadonlySet<string> | null = null,
  ) {
    super();
    // eth_subscribe notifications, for the handler's listeners.
    inner.on('notification', (n: unknown) => this.emit('notification', n));
  }

  request(args: RequestArguments, owner = false): Promise<unknown> {
    const { method } = args;
    const params = Array.isArray(args.params) ? (args.params as unknown[]) : [];
    if (!PUBLIC_METHODS.has(method) && !(this.dev && DEV_METHODS.has(method))) {
      const hint = method === 'eth_sendTransaction' ? ': sign the transaction yourself and use eth_sendRawTransaction' : '';
      return Promise.reject(new RpcMethodError(-32601, `method ${method} is not served by the Tianfu embedded chain${hint}`));
    }
    if (method === 'eth_sendRawTransaction' && this.senders !== null && !owner) {
      const refusal = this.refuseSender(params[0]);
      if (refusal) return Promise.reject(refusal);
    }
    // One queue for reads and writes: a read never sees a block whose journal write has not finished.
    const result = this.tail.then(() => this.handle(method, params));
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** EIP-1474 "transaction rejected" (-32003) unless the raw transaction's signer is one of `senders`. */
  private refuseSender(raw: unknown): RpcMethodError | null {
    let from: string | null = null;
    try {
      from = typeof raw === 'string' ? (Transaction.from(raw).from?.toLowerCase() ?? null) : null;
    } catch {
      from = null;
    }
    if (from !== null && this.senders!.has(from)) return null;
    if (this.senders!.size === 0) return new RpcMethodError(-32003, 'this chain is served read-only: it accepts no transactions');
    return new RpcMethodError(-32003, `transactions are accepted only from ${[...this.senders!].join(', ')}${from ? `, not from ${from}` : ' (the transaction is not a signed one)'}`);
  }

  /** Resolves when every queued request has finished. */
  async drain(): Promise<void> {
    await this.tail;
  }

  private async handle(method: string, params: unknown[]): Promise<unknown> {
    if (method === 'eth_accounts' && !this.dev) return []; // the node holds no keys for its clients
    if (!MINING_METHODS.has(method) && method !== 'evm_revert') {
      const result = await this.inner.request({ method, params });
      if (method === 'evm_setNextBlockTimestamp') this.nextTimestamp = Number(params[0]);
      if (method === 'evm_increaseTime') this.clockOffset += Number(params[0]);
      return result;
    }
    const known = new Map<string, Hex>();
    if (method === 'eth_sendRawTransaction' && isHex(params[0])) known.set(keccak256(params[0]), params[0]);
    const explicitTime = method === 'evm_mine' && params[0] !== undefined;
    if (MINING_METHODS.has(method) && !explicitTime) {
      // Wall-clock seconds, never behind the last block (after a restart the clock may be behind the journal).
      const wall = Math.floor(Date.now() / 1000) + this.clockOffset;
      await this.inner.request({ method: 'evm_setNextBlockTimestamp', params: [Math.max(this.nextTimestamp ?? wall, this.head.timestamp)] });
    }
    try {
      return await this.inner.request({ method, params });
    } finally {
      // Also after an error: whatever was mined must be journaled before anyone hears about it.
      await this.reconcile(known);
    }
  }

  /** Brings the journal to the in-memory chain's head: drops reverted blocks, appends new ones. */
  private async reconcile(known: Map<string, Hex>): Promise<void> {
    const top = Number(await this.inner.request({ method: 'eth_blockNumber', params: [] }));
    if (top < this.head.number) {
      const dropped = await this.journal.truncateAbove(top);
      const kept = top === 0 ? await getBlock(this.inner, 0) : await this.journal.get(top);
      const live = await getBlock(this.inner, top);
      if (kept === undefined || kept.hash !== live.hash) {
        throw new EmbeddedChainError('JOURNAL_DIVERGED', `after evm_revert to block ${top} the journal holds ${kept?.hash ?? 'nothing'} there but the chain has ${live.hash}`);
      }
      this.head = live;
      this.logger?.warn({ head: top, dropped }, 'embedded chain: blocks reverted (dev method)');
      return;
    }
    if (top === this.head.number) return;
    const blocks: JournalBlock[] = [];
    let parent = this.head;
    for (let n = parent.number + 1; n <= top; n++) {
      const b = await getBlock(this.inner, n, true);
      if (b.parentHash !== parent.hash) {
        throw new EmbeddedChainError('JOURNAL_DIVERGED', `block ${n} has parent ${b.parentHash} but the journal's block ${parent.number} is ${parent.hash}`);
      }
      const txs = (b.transactions as RpcTransaction[]).map((tx) => known.get(tx.hash) ?? rawFromRpc(tx));
      blocks.push({ number: n, timestamp: b.timestamp, hash: b.hash, txs });
      parent = b;
    }
    await this.journal.append(blocks);
    this.head = parent;
    this.nextTimestamp = undefined;
  }
}

interface RpcTransaction {
  hash: Hex;
  type: string;
  chainId?: string;
  nonce: string;
  gas: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  to: string | null;
  value: string;
  input: string;
  accessList?: { address: string; storageKeys: string[] }[];
  v: string;
  r: string;
  s: string;
  yParity?: string;
}

/**
 * The raw bytes of a transaction the node signed itself (dev eth_sendTransaction), rebuilt from its
 * fields; the hash check proves the rebuild is byte-exact.
 */
function rawFromRpc(tx: RpcTransaction): Hex {
  const type = Number(tx.type);
  const signature = Signature.from({
    r: zeroPadValue(tx.r, 32),
    s: zeroPadValue(tx.s, 32),
    ...(type === 0 ? { v: BigInt(tx.v) } : { yParity: Number(tx.yParity ?? tx.v) as 0 | 1 }),
  });
  const rebuilt = Transaction.from({
    type,
    chainId: tx.chainId === undefined ? undefined : BigInt(tx.chainId),
    nonce: Number(tx.nonce),
    gasLimit: BigInt(tx.gas),
    to: tx.to,
    value: BigInt(tx.value),
    data: tx.input,
    ...(type >= 2
      ? { maxFeePerGas: BigInt(tx.maxFeePerGas ?? '0'), maxPriorityFeePerGas: BigInt(tx.maxPriorityFeePerGas ?? '0') }
      : { gasPrice: BigInt(tx.gasPrice ?? '0') }),
    ...(type >= 1 ? { accessList: tx.accessList ?? [] } : {}),
    signature,
  });
  if (rebuilt.hash !== tx.hash) {
    throw new EmbeddedChainError('JOURNAL_DIVERGED', `cannot rebuild the raw bytes of transaction ${tx.hash} (type ${type}) to journal it`);
  }
  return rebuilt.serialized as Hex;
}

function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new EmbeddedChainError('CONFIG', `cannot listen on ${host}:${port} for the embedded chain (${err.code ?? err.message}); set TIANFU_CHAIN_PORT`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err === undefined ? resolve() : reject(err)));
    // Keep-alive sockets would hold close() open; requests in flight still finish.
    server.closeIdleConnections();
  });
}

