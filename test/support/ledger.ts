/**
 * Starts a real node for a test: embedded Hardhat chain on an ephemeral port, real LevelDB in a temp
 * dir, the real HTTP server on an ephemeral port. `api(path, init)` calls it with fetch.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../node';
import { startServer, type RunningServer } from '../../api/server';

export interface ApiInit {
  method?: string;
  body?: unknown;
  rawBody?: string | Uint8Array;
  key?: string;
  headers?: Record<string, string>;
}

export interface ApiResult {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON bodies
  body: any;
  headers: Headers;
}

export interface TestLedger extends RunningServer {
  dataDir: string;
  adminKey: string;
  /** fetch against the server; JSON bodies are encoded and `key` becomes a Bearer header. */
  api(p: string, init?: ApiInit): Promise<ApiResult>;
  /** Creates an API key through the admin route. */
  createKey(role: string, taxId?: string): Promise<string>;
  /** Resolves once the anchorer has anchored at least `size` entries. */
  waitAnchored(size?: number, timeoutMs?: number): Promise<void>;
  /** Stops the server; removes the data dir unless keepData. */
  close(opts?: { keepData?: boolean }): Promise<void>;
}

/**
 * For tests that assert exact log sizes (nothing appended by a refusal, an anchor at exactly n): without
 * the state map the anchorer appends no state.root entries of its own between their steps. Test ledgers
 * run without it unless a test asks for WITH_STATE_MAP (the node's default is on).
 */
export const EXACT_LOG_SIZES = { TIANFU_STATE_MAP: 'false' } as const;
export const WITH_STATE_MAP = { TIANFU_STATE_MAP: 'true' } as const;

export async function startTestLedger(env: Record<string, string> = {}, opts: { dataDir?: string } = {}): Promise<TestLedger> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-ledger-'));
  const config = loadConfig({
    TIANFU_DATA_DIR: dataDir,
    TIANFU_PORT: '0',
    TIANFU_HOST: '127.0.0.1',
    TIANFU_CHAIN_PORT: '0',
    TIANFU_LOG_LEVEL: 'silent',
    TIANFU_CHECKPOINT_INTERVAL_MS: '100',
    TIANFU_RATE_LIMIT_PER_MIN: '0',
    // A 1 MiB body limit for tests (production default 8 MiB): the over-limit cases stay cheap to send.
    TIANFU_MAX_BODY_BYTES: '1048576',
    ...EXACT_LOG_SIZES,
    ...env,
  });
  const running = await startServer(config, pino({ level: config.logLevel }));
  const adminKey = fs.readFileSync(running.adminKeyFile, 'utf8').trim();
  const api: TestLedger['api'] = async (p, init = {}) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    let body: string | Uint8Array | undefined = init.rawBody;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    if (init.key) headers.authorization = `Bearer ${init.key}`;
    const res = await fetch(running.url + p, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body: body as BodyInit | undefined });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text.length ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    ...running,
    dataDir,
    adminKey,
    api,
    async createKey(role, taxId) {
      const r = await api('/v1/keys', { body: { role, ...(taxId ? { taxId } : {}) }, key: adminKey });
      if (r.status !== 201) throw new Error(`createKey ${role}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.key as string;
    },
    async waitAnchored(size, timeoutMs = 20_000) {
      const want = size ?? running.ledger.log.size;
      const deadline = Date.now() + timeoutMs;
      while ((running.ledger.anchorer.status().anchored?.treeSize ?? 0) < want) {
        if (Date.now() > deadline) throw new Error(`not anchored to ${want} within ${timeoutMs} ms: ${JSON.stringify(running.ledger.anchorer.status())}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close(o = {}) {
      await running.stop();
      if (!o.keepData && !opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
