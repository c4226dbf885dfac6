/**
 * `npm start` smoke (issue 3): api/server.ts as a child process with no configuration but a temp data
 * dir and free ports: embedded chain, registry deployed on first start, admin key written 0600 and
 * named in the log, API up. SIGTERM exits 0 with everything flushed; the second start finds the same
 * chain id and registry, and what was written before.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, kill, rpc, spawnJson, type JsonChild } from '../node/fixtures/processes';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-start-'));
let child: JsonChild | undefined;

afterAll(async () => {
  if (child) await kill(child, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Only the three settings the brief allows; nothing else inherited from the runner's environment. */
function cleanEnv(port: number, chainPort: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TIANFU_')) env[k] = v;
  return { ...env, TIANFU_DATA_DIR: dir, TIANFU_PORT: String(port), TIANFU_CHAIN_PORT: String(chainPort) };
}

async function start(port: number, chainPort: number): Promise<JsonChild> {
  const c = spawnJson(path.join(ROOT, 'api', 'server.ts'), [], cleanEnv(port, chainPort));
  await c.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('Tianfu Ledger API listening'), 60_000);
  return c;
}

describe('npm start', () => {
  it('starts with no configuration, drains on SIGTERM, and restarts on the same chain and registry', async () => {
    const port = await freePort();
    const chainPort = await freePort();
    child = await start(port, chainPort);
    const base = `http://127.0.0.1:${port}`;
    const first = (await (await fetch(`${base}/v1/log`)).json()) as { chainId: string; registry: string; logId: string };
    expect(first).toMatchObject({ chainId: '31337', treeSize: 0 });
    expect(first.registry).toMatch(/^0x[0-9a-f]{40}$/);

    const keyFile = path.join(dir, 'admin-api-key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(child.lines.some((l) => typeof l.msg === 'string' && l.msg.includes(keyFile))).toBe(true);
    const admin = fs.readFileSync(keyFile, 'utf8').trim();
    // The embedded chain is standard JSON-RPC on TIANFU_CHAIN_PORT, readable by any tool.
    expect(await rpc(`http://127.0.0.1:${chainPort}`, 'eth_chainId')).toBe('0x7a69');
    expect(await rpc(`http://127.0.0.1:${chainPort}`, 'eth_getCode', [first.registry, 'latest'])).not.toBe('0x');

    const created = await fetch(`${base}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'auditor', name: 'smoke' }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    expect(await kill(child, 'SIGTERM')).toBe(0);
    expect(child.lines.some((l) => l.msg === 'ledger stopped')).toBe(true);

    child = await start(port, chainPort);
    const again = (await (await fetch(`${base}/v1/log`)).json()) as typeof first;
    expect(again).toMatchObject({ chainId: first.chainId, registry: first.registry, logId: first.logId });
    const keys = (await (await fetch(`${base}/v1/keys`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { keys: { id: string }[] };
    expect(keys.keys.map((k) => k.id)).toContain(id);
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(admin); // not re-created
    expect(await kill(child, 'SIGTERM')).toBe(0);
    child = undefined;
  });
});
