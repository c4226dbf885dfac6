/**
 * Benchmark (not a test): journaled-block ack rate and journal replay time.
 * Run: npx tsx test/chain/replay-bench.ts [blocks=1000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Wallet } from 'ethers';
import { startEmbeddedChain } from '../../node/chain/embedded/embedded-chain';
import type { Hex } from '../../node/protocol/bytes';

const KEY = `0x${'a1'.repeat(32)}` as Hex;

async function main(): Promise<void> {
  const blocks = Number(process.argv[2] ?? 1000);
  const dir = await mkdtemp(path.join(tmpdir(), 'tianfu-chain-bench-'));
  try {
    const wallet = new Wallet(KEY);
    const raws: string[] = [];
    for (let nonce = 0; nonce < blocks; nonce++) {
      raws.push(await wallet.signTransaction({
        to: '0x000000000000000000000000000000000000dead', value: 1n, nonce, chainId: 31337,
        gasLimit: 21000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, type: 2,
      }));
    }
    const chain = await startEmbeddedChain({ dataDir: dir, port: 0, fundedKeys: [KEY] });
    const t0 = performance.now();
    for (const [i, raw] of raws.entries()) {
      const res = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'eth_sendRawTransaction', params: [raw] }) });
      const body = (await res.json()) as { error?: { message: string } };
      if (body.error !== undefined) throw new Error(body.error.message);
    }
    const sendMs = performance.now() - t0;
    await chain.close();
    const again = await startEmbeddedChain({ dataDir: dir, port: 0, fundedKeys: [KEY] });
    await again.close();
    const perK = (again.replayed.ms / again.replayed.blocks) * 1000;
    console.log(JSON.stringify({
      blocks,
      sendRawTransaction: { ackPerSecond: Math.round((blocks / sendMs) * 1000), meanAckMs: +(sendMs / blocks).toFixed(2) },
      replay: { ms: again.replayed.ms, msPer1000Blocks: Math.round(perK) },
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
