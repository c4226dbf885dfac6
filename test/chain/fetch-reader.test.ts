/**
 * The browser page's fetch reader (node/chain/fetch-reader.ts, no ethers) against the ethers reader
 * the CLI uses, side by side on a real chain (the embedded Hardhat node over HTTP): every read gives
 * the same answer, the registry's "unknown" reverts are null in both, and a whole verification gives
 * the same report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Interface } from 'ethers';
import { connectChainReader, REGISTRY_READ_ABI, type RpcChainReader } from '../../node/chain/chain-reader';
import { SELECTORS, connectFetchChainReader, fetchChainReader, type FetchChainReader } from '../../node/chain/fetch-reader';
import { ChainReadError, type Bundle, type Hex } from '../../node/protocol';
import { domainHistoryRules, verifyBundle } from '../../node/verifier';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { issueInvoiceWithHistory } from '../verify/fixtures';

describe('fetch chain reader', () => {
  let t: TestLedger;
  let ethersReader: RpcChainReader;
  let fetchReader: FetchChainReader;
  let bundle: Bundle;

  beforeAll(async () => {
    t = await startTestLedger();
    const key = await issueInvoiceWithHistory(t.ledger);
    await t.waitAnchored();
    bundle = await t.ledger.bundle('invoice', key);
    ethersReader = await connectChainReader(t.ledger.chain.rpcUrl);
    fetchReader = await connectFetchChainReader(t.ledger.chain.rpcUrl);
  });
  afterAll(async () => {
    ethersReader?.close();
    fetchReader?.close();
    await t?.close();
  });

  it('its selectors are the registry ABI\'s', () => {
    const iface = new Interface([...REGISTRY_READ_ABI]);
    expect(SELECTORS.checkpoint).toBe(iface.getFunction('checkpoint')!.selector);
    expect(SELECTORS.operatorOf).toBe(iface.getFunction('operatorOf')!.selector);
    expect(SELECTORS.latest).toBe(iface.getFunction('latest')!.selector);
    expect(SELECTORS.unknownCheckpoint).toBe(iface.getError('AnchorRegistryUnknownCheckpoint')!.selector);
    expect(SELECTORS.unknownLog).toBe(iface.getError('AnchorRegistryUnknownLog')!.selector);
  });

  it('answers every read as the ethers reader does', async () => {
    const a = bundle.items.find((it) => it.anchor !== null)!.anchor!;
    const otherLog = ('0x' + '5a'.repeat(32)) as Hex;
    const head = await ethersReader.blockNumber();
    const reads: [string, (r: FetchChainReader | RpcChainReader) => Promise<unknown>][] = [
      ['chainId', (r) => r.chainId()],
      ['blockNumber', (r) => r.blockNumber()],
      ['getCode registry', (r) => r.getCode(a.registry)],
      ['getCode empty', (r) => r.getCode(('0x' + '00'.repeat(19) + '01') as Hex)],
      ['checkpoint', (r) => r.checkpoint(a.registry, a.logId, a.treeSize)],
      ['checkpoint never anchored', (r) => r.checkpoint(a.registry, a.logId, a.treeSize + 1000)],
      ['checkpoint unknown log', (r) => r.checkpoint(a.registry, otherLog, 1)],
      ['latest', (r) => r.latest!(a.registry, a.logId)],
      ['latest unknown log', (r) => r.latest!(a.registry, otherLog)],
      ['operatorOf head', (r) => r.operatorOf!(a.registry, a.logId, head)],
      ['operatorOf unknown log', (r) => r.operatorOf!(a.registry, otherLog, head)],
      ['operatorOf before the registry', (r) => r.operatorOf!(a.registry, a.logId, 0n)],
      ['getBlock anchoring', (r) => r.getBlock(BigInt(a.blockNumber))],
      ['getBlock future', (r) => r.getBlock(head + 1000n)],
      ['transaction', (r) => r.transaction!(a.txHash)],
      ['transaction unknown', (r) => r.transaction!(('0x' + '77'.repeat(32)) as Hex)],
    ];
    for (const [what, f] of reads) expect(await f(fetchReader), what).toEqual(await f(ethersReader));
    const cp = await fetchReader.checkpoint(a.registry, a.logId, a.treeSize);
    expect(cp?.rootHash).toBe(a.rootHash);
    expect(await fetchReader.checkpoint(a.registry, a.logId, a.treeSize + 1000)).toBeNull();
    expect((await fetchReader.latest!(a.registry, a.logId))!.treeSize).toBeGreaterThanOrEqual(a.treeSize);
    expect(await fetchReader.latest!(a.registry, otherLog)).toBeNull();
    expect((await fetchReader.transaction!(a.txHash))!.logs!.length).toBeGreaterThan(0);
  });

  it('a verification reads the same report through either reader', async () => {
    const now = () => new Date(0);
    const viaFetch = await verifyBundle(bundle, { chain: fetchReader, history: domainHistoryRules, now });
    const viaEthers = await verifyBundle(bundle, { chain: ethersReader, history: domainHistoryRules, now });
    expect(viaFetch.verdict).toBe('valid');
    expect(viaFetch).toEqual(viaEthers);
  });

  it('refuses a URL that is not http(s) and fails fast on an endpoint that does not answer', async () => {
    expect(() => fetchChainReader('file:///etc/passwd')).toThrow(ChainReadError);
    await expect(connectFetchChainReader('http://127.0.0.1:1', { timeoutMs: 2000 })).rejects.toThrow(/unreachable/);
  });
});
