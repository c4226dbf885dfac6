/**
 * The node the writer benchmarks and tools drive in-process (state-map.ts, state-growth.ts,
 * profile-node.ts): a temp data dir, the embedded chain on a free port, durable writes, checkpoints
 * every second and a maximum merge delay far beyond any run, with or without the state map.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ledger, loadConfig } from '../../node';

export async function startWriterLedger(stateMap: boolean, tmpPrefix: string): Promise<{ ledger: Ledger; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const ledger = await Ledger.start(
    loadConfig({ TIANFU_DATA_DIR: dir, TIANFU_CHAIN_PORT: '0', TIANFU_CHECKPOINT_INTERVAL_MS: '1000', TIANFU_DURABLE: 'true', TIANFU_MMD_MS: '600000', TIANFU_STATE_MAP: String(stateMap) }),
  );
  return { ledger, dir };
}
