import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startTestLedger, type TestLedger } from '../support/ledger';

const CLI = path.join(__dirname, '../../scripts/tianfu.js');
// Asynchronous: the server under test runs in this process, so a blocking spawnSync would starve it.
const run = (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 }, (error, out, err) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, err });
    });
  });

describe('tianfu keys', () => {
  let t: TestLedger;
  beforeAll(async () => {
    t = await startTestLedger();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates a scoped key that works, lists it, and revokes it', async () => {
    const c = await run(['keys', 'create', '--role', 'buyer', '--tax-id', '9144030071526726XG', '--api', t.url, '--key-file', t.adminKeyFile, '--json']);
    expect(c.code, c.err).toBe(0);
    const created = JSON.parse(c.out);
    expect(created).toMatchObject({ role: 'buyer', taxId: '9144030071526726XG' });
    // The key authenticates (403: a buyer may not manage keys, rather than 401: unknown key).
    expect((await t.api('/v1/keys', { key: created.key })).status).toBe(403);
    const l = await run(['keys', 'list', '--api', t.url], { TIANFU_API_KEY: t.adminKey });
    expect(l.code, l.err).toBe(0);
    expect(l.out).toContain(created.id);
    expect(l.out).not.toContain(created.key);
    const r = await run(['keys', 'revoke', created.id, '--api', t.url, '--key', t.adminKey]);
    expect(r.code, r.err).toBe(0);
    expect((await t.api('/v1/keys', { key: created.key })).status).toBe(401);
  });

  it('exits 2 with what was wrong: bad role, no admin key, wrong key, unreachable API', async () => {
    const bad = await run(['keys', 'create', '--role', 'wizard', '--api', t.url, '--key', t.adminKey]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/422.*role/);
    const noKey = await run(['keys', 'create', '--role', 'court', '--api', t.url], { TIANFU_API_KEY: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.err).toMatch(/admin key is needed/);
    const wrong = await run(['keys', 'create', '--role', 'court', '--api', t.url, '--key', 'tfk_wrong-wrong-wrong']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/401/);
    const down = await run(['keys', 'create', '--role', 'court', '--api', 'http://127.0.0.1:9', '--key', t.adminKey]);
    expect(down.code).toBe(2);
    expect(down.err).toMatch(/unreachable/);
  });
});
