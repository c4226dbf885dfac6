/**
 * The refusals of the write routes are byte-identical to what the node answered before receipts v2 and
 * the validation workers: test/fixtures/error-bodies.json holds the exact bytes (422 with field paths,
 * the strict reader's 422s, 409 conflicts, a batch of refusals), taken with the code of that time by
 * test/fixtures/generate-v1.ts. The same log is rebuilt on a fresh node, so the log indexes a conflict
 * names are the same too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { errorBodies, fillLog } from '../fixtures/generate-v1';

interface Case {
  name: string;
  path: string;
  status: number;
  responseType: string | null;
  response: string;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'error-bodies.json'), 'utf8')) as { cases: Case[] };

// Checked on the intake workers (the default) and on the request thread (TIANFU_INTAKE_WORKERS=0).
describe.each(['1', '0'])('error bodies are unchanged (fixtures from before receipts v2 and the intake workers), intake workers: %s', (workers) => {
  let t: TestLedger;
  let tmp: string;
  let got: Case[];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-error-bodies-'));
    t = await startTestLedger({ TIANFU_INTAKE_WORKERS: workers });
    const { keys } = await fillLog(t, path.join(tmp, 'evidence.bin'));
    if (workers !== '0') expect(await t.ledger.intake!.whenReady()).toBe(true);
    const pooled = t.ledger.intake?.stats.pooled ?? 0;
    got = (await errorBodies(t, keys)).cases;
    // On the workers: every invoice request of the cases went there.
    if (workers !== '0') expect(t.ledger.intake!.stats.pooled - pooled).toBe(got.filter((c) => c.path.startsWith('/v1/invoices') && !c.path.includes('reimbursement')).length);
    else expect(t.ledger.intake).toBeNull();
  });
  afterAll(async () => {
    await t?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('covers 422 field paths, the strict reader, 409 conflicts and a batch', () => {
    expect(fixture.cases.map((c) => c.status)).toEqual(expect.arrayContaining([422, 409, 200]));
    expect(got.map((c) => c.name)).toEqual(fixture.cases.map((c) => c.name));
  });

  for (const c of fixture.cases) {
    it(`${c.name}: same status, media type and bytes`, () => {
      const g = got.find((x) => x.name === c.name)!;
      expect(g.status).toBe(c.status);
      expect(g.responseType).toBe(c.responseType);
      expect(g.response).toBe(c.response);
    });
  }
});
