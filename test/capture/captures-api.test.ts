/**
 * POST /v1/captures and GET /v1/captures/{id} on a real node (embedded chain, LevelDB, HTTP) with real
 * Chromium against the tests' own loopback site: a capture deposited as evidence (method web-page, the
 * package's manifest in the deposit record, content = the package), failures logged as
 * evidence.capture-failed entries, the forbidden target refused 422 before anything is fetched, the
 * bounded queue, roles, and a restart in the middle of a running capture.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { startCaptureSite, type CaptureSite } from '../support/capture-site';
import { chromiumPath } from '../support/system-tools';

const sha = (b: Uint8Array): string => '0x' + createHash('sha256').update(b).digest('hex');

function captureEnv(site: CaptureSite, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TIANFU_CAPTURE_ALLOW_HOSTS: '127.0.0.1',
    TIANFU_CAPTURE_CA_FILE: site.caFile,
    TIANFU_CHROMIUM_PATH: chromiumPath(),
    TIANFU_CAPTURE_MAX_BYTES: String(1024 * 1024),
    ...extra,
  };
}

async function waitFor(t: TestLedger, key: string, id: string, pred: (b: { status: string; progress: { step: string } }) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown> & { status: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await t.api(`/v1/captures/${id}`, { key });
    expect(r.status).toBe(200);
    if (pred(r.body)) return r.body;
    if (Date.now() > deadline) throw new Error(`capture ${id} still ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
const settled = (b: { status: string }): boolean => b.status === 'done' || b.status === 'failed';

async function entry(t: TestLedger, index: number): Promise<{ kind: string; subject: string }> {
  const r = await t.api(`/v1/log/entries?start=${index}&end=${index + 1}`);
  expect(r.status).toBe(200);
  return r.body.entries[0].entry;
}

describe('capture jobs over HTTP (real node, real Chromium)', () => {
  let site: CaptureSite;
  let t: TestLedger;
  let collector: string;
  let other: string;
  let court: string;
  let auditor: string;
  beforeAll(async () => {
    site = await startCaptureSite();
    t = await startTestLedger(captureEnv(site, { TIANFU_CAPTURE_QUEUE_MAX: '2' }));
    [collector, other, court, auditor] = await Promise.all([t.createKey('collector'), t.createKey('collector'), t.createKey('court'), t.createKey('auditor')]);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await site?.close();
  });

  it('captures an HTTPS page and deposits the package as evidence of the collector who asked', async () => {
    const posted = await t.api('/v1/captures', { key: collector, body: { url: `${site.https}/page`, title: 'Listing for case 7', caseRef: '(2026)川0192民初7号', options: { timeoutMs: 20_000 } } });
    expect(posted.status).toBe(202);
    expect(posted.body).toEqual({ captureId: expect.stringMatching(/^cap_[0-9a-f]{32}$/), status: 'queued', statusUrl: `/v1/captures/${posted.body.captureId}` });
    expect(posted.headers.get('location')).toBe(posted.body.statusUrl);
    const done = await waitFor(t, collector, posted.body.captureId, settled);
    expect(done).toMatchObject({ status: 'done', attempts: 1, failedEntries: [], progress: { step: 'done', attempt: 1 } });
    const evidenceId = done.evidenceId as string;

    // Settled: no longer held in memory, read from the store, the same answer.
    expect(await t.ledger.captures.job(posted.body.captureId)).toMatchObject({ status: 'done', evidenceId });
    expect(t.ledger.captures.liveJobs).toBe(0);
    // Roles: a court and an auditor may read the status; another collector is told it does not exist.
    expect((await t.api(`/v1/captures/${posted.body.captureId}`, { key: court })).body.evidenceId).toBe(evidenceId);
    expect((await t.api(`/v1/captures/${posted.body.captureId}`, { key: auditor })).status).toBe(200);
    const hidden = await t.api(`/v1/captures/${posted.body.captureId}`, { key: other });
    expect(hidden.status).toBe(404);
    expect(hidden.body.code).toBe('CAPTURE_NOT_FOUND');
    expect((await t.api(`/v1/evidence/${evidenceId}`, { key: other })).status).toBe(404);

    const ev = await t.api(`/v1/evidence/${evidenceId}`, { key: collector });
    expect(ev.status).toBe(200);
    expect(ev.body.metadata).toMatchObject({ method: 'web-page', mediaType: 'application/wacz+zip', source: { url: `${site.https}/page` }, caseRef: '(2026)川0192民初7号', title: 'Listing for case 7' });
    expect(ev.body.collector.role).toBe('collector');
    const content = await fetch(`${t.url}/v1/evidence/${evidenceId}/content`, { headers: { authorization: `Bearer ${collector}` } });
    const bytes = new Uint8Array(await content.arrayBuffer());
    expect(sha(bytes)).toBe((done.package as { sha256: string }).sha256);
    const files = unzipSync(bytes);
    const manifest = JSON.parse(Buffer.from(files['tianfu/manifest.json']!).toString('utf8'));
    expect(sha(files['tianfu/manifest.json']!)).toBe((done.package as { manifestSha256: string }).manifestSha256);
    expect(manifest.originTls.fingerprint256).toBe(site.certFingerprint);
    expect(manifest.captureId).toBe(posted.body.captureId);
    // The start block is the chain's: its hash at that number.
    const block = await t.ledger.provider.getBlock(Number(manifest.chainStart.number));
    expect(block!.hash).toBe(manifest.chainStart.hash);

    // The deposit record names the manifest (the bundle carries the record).
    await t.waitAnchored();
    const bundle = await t.api(`/v1/evidence/${evidenceId}/bundle`, { key: court });
    expect(bundle.body.items[0].record.capture).toEqual({ captureId: posted.body.captureId, attempt: 1, manifest: { sha256: sha(files['tianfu/manifest.json']!), sm3: expect.stringMatching(/^0x[0-9a-f]{64}$/), size: files['tianfu/manifest.json']!.length } });
  }, 90_000);

  it('a failed capture is a log entry of its own (evidence.capture-failed, the reason, no page content)', async () => {
    const posted = await t.api('/v1/captures', { key: collector, body: { url: `${site.http}/missing` } });
    expect(posted.status).toBe(202);
    const failed = await waitFor(t, collector, posted.body.captureId, settled);
    expect(failed).toMatchObject({ status: 'failed', error: { reason: 'http-status' }, attempts: 1 });
    // A status that says failed already names its entry, and the log already holds it.
    expect(failed.failedEntries).toHaveLength(1);
    const [index] = failed.failedEntries as number[];
    expect(index!).toBeLessThan(t.ledger.log.size);
    expect(await entry(t, index!)).toMatchObject({ kind: 'evidence.capture-failed', subject: posted.body.captureId });
    const rec = (await t.ledger.sequencer.getRecord(index!))!.record as Record<string, unknown>;
    expect(rec).toMatchObject({ type: 'tianfu.evidence.capture-failed/v1', captureId: posted.body.captureId, attempt: 1, reason: 'http-status', url: `${site.http}/missing` });
    expect(JSON.stringify(rec)).not.toContain('no such page'); // the page's text is not in the log
  }, 60_000);

  it('refuses a forbidden target with 422 CAPTURE_TARGET_FORBIDDEN before anything is fetched, and logs the attempt', async () => {
    const size = t.ledger.log.size;
    const r = await t.api('/v1/captures', { key: collector, body: { url: `${site.decoy}/page` } });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(r.body).toMatchObject({ code: 'CAPTURE_TARGET_FORBIDDEN', address: '127.0.0.2', range: 'loopback', captureId: expect.stringMatching(/^cap_/) });
    expect(t.ledger.log.size).toBe(size + 1);
    expect(await entry(t, r.body.index)).toMatchObject({ kind: 'evidence.capture-failed', subject: r.body.captureId });
    for (const url of [`http://localhost:${new URL(site.http).port}/page`, `http://[::1]:${new URL(site.decoy).port}/`, 'file:///etc/passwd']) {
      expect((await t.api('/v1/captures', { key: collector, body: { url } })).body.code, url).toBe('CAPTURE_TARGET_FORBIDDEN');
    }
    expect(site.decoyHits).toEqual([]);
  });

  it('validates the body, and only collectors start captures', async () => {
    const bad = await t.api('/v1/captures', { key: collector, body: { url: `${site.http}/page`, options: { timeoutMs: 500_000 } } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toEqual(['body', 'options', 'timeoutMs']);
    expect((await t.api('/v1/captures', { key: collector, body: { url: `${site.http}/page`, extra: 1 } })).status).toBe(422);
    expect((await t.api('/v1/captures', { key: court, body: { url: `${site.http}/page` } })).status).toBe(403);
    expect((await t.api('/v1/captures', { body: { url: `${site.http}/page` } })).status).toBe(401);
  });

  it('bounds the queue: 429 CAPTURE_QUEUE_FULL past TIANFU_CAPTURE_QUEUE_MAX, nothing accepted is lost', async () => {
    const slow = { url: `${site.http}/slow`, options: { timeoutMs: 1500, waitUntil: 'load' } };
    const a = await t.api('/v1/captures', { key: collector, body: slow });
    const b = await t.api('/v1/captures', { key: collector, body: slow });
    expect([a.status, b.status]).toEqual([202, 202]);
    const c = await t.api('/v1/captures', { key: collector, body: slow });
    expect(c.status).toBe(429);
    expect(c.body.code).toBe('CAPTURE_QUEUE_FULL');
    for (const id of [a.body.captureId, b.body.captureId]) expect(await waitFor(t, collector, id, settled)).toMatchObject({ status: 'failed', error: { reason: 'timeout' } });
  }, 60_000);
});

describe('a restart in the middle of a running capture', () => {
  it('re-runs the job after the restart; the log holds both attempts', async () => {
    const site = await startCaptureSite();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-capture-restart-'));
    let t = await startTestLedger(captureEnv(site), { dataDir });
    try {
      const key = await t.createKey('collector');
      const posted = await t.api('/v1/captures', { key, body: { url: `${site.http}/delay?ms=4000`, options: { waitUntil: 'load', timeoutMs: 30_000 } } });
      expect(posted.status).toBe(202);
      const id = posted.body.captureId as string;
      await waitFor(t, key, id, (b) => b.status === 'running' && b.progress.step === 'loading');
      await t.close({ keepData: true });
      t = await startTestLedger(captureEnv(site), { dataDir });
      const done = await waitFor(t, key, id, settled, 90_000);
      expect(done).toMatchObject({ status: 'done', attempts: 2 });
      const [interrupted] = done.failedEntries as number[];
      expect(await entry(t, interrupted!)).toMatchObject({ kind: 'evidence.capture-failed', subject: id });
      expect((await t.ledger.sequencer.getRecord(interrupted!))!.record).toMatchObject({ attempt: 1, reason: 'interrupted' });
      const ev = await t.api(`/v1/evidence/${done.evidenceId}/bundle`, { key });
      expect(ev.body.items[0].record.capture).toMatchObject({ captureId: id, attempt: 2 });
      expect(ev.body.items[0].index).toBeGreaterThan(interrupted!);
      // After another restart the settled job is not loaded into memory, and its status still reads the same.
      await t.close({ keepData: true });
      t = await startTestLedger(captureEnv(site), { dataDir });
      expect((await t.api(`/v1/captures/${id}`, { key })).body).toEqual(done);
      expect(t.ledger.captures.liveJobs).toBe(0);
    } finally {
      await t.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      await site.close();
    }
  }, 180_000);
});
