/**
 * Evidence custody, content reads, roles and erasure through HTTP (issue 5). Every custody rule is
 * exercised allowed and refused; every content read leaves exactly one `accessed` event (including a
 * read the client aborts halfway) and every refused read none; every route refuses no key, the wrong
 * role and another collector; erasure removes content, record and salt while every other proof keeps
 * verifying and the deposit's bundle reports "erased".
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import { verifyBundle as verifyWithProtocol, type Bundle } from '../../node';
import { chainReaderFromProvider } from '../../node/chain/chain-reader';
import { domainHistoryRules } from '../../node/verifier';
import { EXACT_LOG_SIZES, startTestLedger, type TestLedger } from '../support/ledger';
import { bytesOf, deposit, metadata, sha256Hex, verifyBundle } from './evidence-support';

describe('evidence custody, content, roles, erasure (real server, embedded chain)', () => {
  let t: TestLedger;
  let A: string; // depositing collector
  let B: string; // another collector
  let court: string;
  let auditor: string;
  let admin: string;
  let n = 0;

  beforeAll(async () => {
    t = await startTestLedger({ TIANFU_MAX_EVIDENCE_BYTES: String(8 * 1024 * 1024), ...EXACT_LOG_SIZES });
    [A, B, court, auditor] = await Promise.all([t.createKey('collector'), t.createKey('collector'), t.createKey('court'), t.createKey('auditor')]);
    admin = t.adminKey;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function fresh(bytes: Uint8Array = bytesOf(20_000, `item ${++n}`), key = A): Promise<{ id: string; sha256: string; index: number }> {
    const r = await deposit(t, key, metadata(), bytes);
    if (r.status !== 201) throw new Error(`deposit: ${r.status} ${JSON.stringify(r.body)}`);
    return { id: r.body.evidenceId, sha256: r.body.sha256, index: r.body.index };
  }
  const post = (id: string, key: string, event: string, extra: Record<string, unknown> = {}) =>
    t.api(`/v1/evidence/${id}/custody`, { body: { event, reason: `${event} for the test`, ...extra }, key });
  const history = async (id: string): Promise<{ event: string; by: { keyId: string; role: string } | null; reason: string; note?: string; index: number }[]> => {
    const r = await t.api(`/v1/evidence/${id}`, { key: court });
    if (r.status !== 200) throw new Error(`history: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.custody;
  };
  const accessedCount = async (id: string): Promise<number> => (await history(id)).filter((e) => e.event === 'accessed').length;
  const read = (id: string, key?: string) => fetch(`${t.url}/v1/evidence/${id}/content`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  /** Posts `event` and checks the outcome; a refusal must append nothing. */
  async function expectCustody(id: string, key: string, event: string, status: number, code?: string): Promise<void> {
    const size = t.ledger.log.size;
    const r = await post(id, key, event);
    expect(r.status, `${event}: ${JSON.stringify(r.body)}`).toBe(status);
    if (code) expect(r.body.code, event).toBe(code);
    if (status === 201) {
      expect(r.body).toMatchObject({ evidenceId: id, event, index: size });
      const last = (await history(id)).at(-1)!;
      expect(last).toMatchObject({ event, reason: `${event} for the test`, index: size });
    } else {
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(t.ledger.log.size, `${event} refused but appended`).toBe(size);
    }
  }

  it('custody on an active item: who may add each event', async () => {
    const { id } = await fresh();
    for (const event of ['transferred', 'exported', 'annotated']) {
      await expectCustody(id, A, event, 201);
      await expectCustody(id, court, event, 201);
      // Another collector's scope is its own deposits: this item reads as never deposited.
      await expectCustody(id, B, event, 404, 'EVIDENCE_NOT_FOUND');
      await expectCustody(id, auditor, event, 403, 'ROLE_FORBIDDEN');
      await expectCustody(id, admin, event, 403, 'ROLE_FORBIDDEN');
    }
    await expectCustody(id, A, 'sealed', 403, 'EVIDENCE_FORBIDDEN');
    await expectCustody(id, B, 'withdrawn', 404, 'EVIDENCE_NOT_FOUND');
    // Node-only and admin-only events cannot be posted by clients.
    for (const event of ['accessed', 'erased', 'deposited', 'bogus']) {
      const r = await post(id, court, event);
      expect(r.status, event).toBe(422);
      expect(r.body.code).toBe('EVIDENCE_INVALID_CUSTODY_EVENT');
    }
    // Bad bodies and unknown items.
    expect((await t.api(`/v1/evidence/${id}/custody`, { body: { event: 'annotated' }, key: court })).body.errors[0].path).toEqual(['body', 'reason']);
    expect((await t.api(`/v1/evidence/${id}/custody`, { body: { event: 'annotated', reason: 'a\u0007b' }, key: court })).status).toBe(422);
    expect((await t.api(`/v1/evidence/${id}/custody`, { body: { event: 'annotated', reason: 'x', extra: 1 }, key: court })).status).toBe(422);
    expect((await post('ev_' + '0'.repeat(32), court, 'annotated')).status).toBe(404);
    expect((await post('not-an-id', court, 'annotated')).body.code).toBe('EVIDENCE_NOT_FOUND');
    // The note may span lines and is kept.
    const noted = await post(id, court, 'annotated', { note: 'line one\nline two' });
    expect(noted.status).toBe(201);
    expect((await history(id)).at(-1)).toMatchObject({ note: 'line one\nline two', by: { role: 'court' } });
  });

  it('sealed: only a court reads and acts, the depositor may still annotate; one seal only', async () => {
    const { id } = await fresh();
    await expectCustody(id, court, 'sealed', 201);
    await expectCustody(id, court, 'sealed', 409, 'EVIDENCE_ALREADY_SEALED');
    for (const event of ['transferred', 'exported', 'withdrawn']) await expectCustody(id, A, event, 403, 'EVIDENCE_SEALED');
    await expectCustody(id, A, 'annotated', 201);
    await expectCustody(id, court, 'transferred', 201);
    await expectCustody(id, court, 'exported', 201);
    const before = await accessedCount(id);
    const refused = await read(id, A);
    expect(refused.status).toBe(403);
    expect((await refused.json()).code).toBe('EVIDENCE_SEALED');
    expect(await accessedCount(id)).toBe(before);
    const ok = await read(id, court);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    expect(await accessedCount(id)).toBe(before + 1);
    await expectCustody(id, court, 'withdrawn', 201);
    expect((await t.api(`/v1/evidence/${id}`, { key: A })).body).toMatchObject({ status: 'withdrawn', sealed: true, withdrawn: true });
  });

  it('withdrawn: nothing after it but annotations by a court; content no longer served, not even to a court', async () => {
    const { id } = await fresh();
    await expectCustody(id, A, 'withdrawn', 201);
    await expectCustody(id, A, 'withdrawn', 410, 'EVIDENCE_WITHDRAWN');
    for (const event of ['transferred', 'exported', 'sealed', 'withdrawn']) await expectCustody(id, court, event, 410, 'EVIDENCE_WITHDRAWN');
    await expectCustody(id, A, 'annotated', 410, 'EVIDENCE_WITHDRAWN');
    await expectCustody(id, court, 'annotated', 201);
    for (const key of [A, court]) {
      const r = await read(id, key);
      expect(r.status).toBe(410);
      expect((await r.json()).code).toBe('EVIDENCE_WITHDRAWN');
    }
    expect(await accessedCount(id)).toBe(0);
    // A court may also withdraw an item.
    const other = await fresh();
    await expectCustody(other.id, court, 'withdrawn', 201);
  });

  it('every content read leaves exactly one accessed event (who, when, which key), written before the bytes; refused reads none', async () => {
    const bytes = bytesOf(300_000, 'read me');
    const { id, sha256 } = await fresh(bytes);
    const courtKeyId = (await t.ledger.keys.authenticate(court))!.keyId;
    const aKeyId = (await t.ledger.keys.authenticate(A))!.keyId;
    for (const [key, keyId, role] of [[A, aKeyId, 'collector'], [court, courtKeyId, 'court'], [court, courtKeyId, 'court']] as const) {
      const before = await history(id);
      const r = await read(id, key);
      expect(r.status).toBe(200);
      const accessIndex = Number(r.headers.get('x-tianfu-access-index'));
      // The event is already in the log when the headers arrive, before the body is read.
      const during = await history(id);
      expect(during).toHaveLength(before.length + 1);
      expect(during.at(-1)).toMatchObject({ event: 'accessed', index: accessIndex, by: { keyId, role } });
      const got = Buffer.from(await r.arrayBuffer());
      expect(got.equals(bytes)).toBe(true);
      expect(r.headers.get('x-tianfu-sha256')).toBe(sha256);
      expect(r.headers.get('repr-digest')).toBe(`sha-256=:${Buffer.from(sha256.slice(2), 'hex').toString('base64')}:`);
      expect(r.headers.get('content-digest')).toBe(r.headers.get('repr-digest'));
      expect(r.headers.get('x-tianfu-sm3')).toMatch(/^0x[0-9a-f]{64}$/);
      expect(r.headers.get('content-type')).toBe('multipart/related');
      expect(r.headers.get('content-length')).toBe(String(bytes.length));
      expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="listing-\d+\.mhtml"; filename\*=UTF-8''listing-\d+\.mhtml$/);
      expect(r.headers.get('content-security-policy')).toBe('sandbox');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(await history(id)).toHaveLength(before.length + 1);
    }
    // Refused reads leave nothing: another collector, wrong roles, no key, unknown item.
    const count = await accessedCount(id);
    for (const [key, status, code] of [[B, 404, 'EVIDENCE_NOT_FOUND'], [auditor, 403, 'ROLE_FORBIDDEN'], [admin, 403, 'ROLE_FORBIDDEN'], [undefined, 401, 'UNAUTHENTICATED']] as const) {
      const r = await read(id, key);
      expect(r.status).toBe(status);
      expect((await r.json()).code).toBe(code);
    }
    expect(await accessedCount(id)).toBe(count);
    expect((await read('ev_' + 'a'.repeat(32), court)).status).toBe(404);
  });

  it('byte ranges (a player seeking): 206 with exactly those bytes, one accessed event naming them; 416 and nothing logged outside the file', async () => {
    const bytes = bytesOf(100_000, 'video');
    const { id, sha256 } = await fresh(bytes);
    const ranged = (range: string, extra: Record<string, string> = {}) => fetch(`${t.url}/v1/evidence/${id}/content`, { headers: { authorization: `Bearer ${court}`, range, ...extra } });
    const etag = `"${sha256.slice(2)}"`;
    for (const [range, start, end] of [['bytes=0-99', 0, 99], ['bytes=99990-', 99_990, 99_999], ['bytes=-10', 99_990, 99_999], ['bytes=50000-2000000', 50_000, 99_999]] as const) {
      const before = await history(id);
      const r = await ranged(range);
      expect(r.status, range).toBe(206);
      expect(r.headers.get('content-range')).toBe(`bytes ${start}-${end}/100000`);
      expect(r.headers.get('content-length')).toBe(String(end - start + 1));
      expect(r.headers.get('accept-ranges')).toBe('bytes');
      expect(r.headers.get('etag')).toBe(etag);
      // The whole file's digest is the representation's; this message carries only a part.
      expect(r.headers.get('repr-digest')).toBe(`sha-256=:${Buffer.from(sha256.slice(2), 'hex').toString('base64')}:`);
      expect(r.headers.get('content-digest')).toBeNull();
      expect(Buffer.from(await r.arrayBuffer()).equals(bytes.subarray(start, end + 1))).toBe(true);
      const after = await history(id);
      expect(after).toHaveLength(before.length + 1);
      expect(after.at(-1)).toMatchObject({ event: 'accessed', reason: `evidence content read, bytes ${start}-${end} of 100000`, index: Number(r.headers.get('x-tianfu-access-index')) });
    }
    // Outside the file: 416 with the size, and no read logged.
    const size = t.ledger.log.size;
    const out = await ranged('bytes=100000-100010');
    expect(out.status).toBe(416);
    expect(out.headers.get('content-range')).toBe('bytes */100000');
    expect((await out.json()).code).toBe('RANGE_NOT_SATISFIABLE');
    expect(t.ledger.log.size).toBe(size);
    // Several ranges, a malformed one, or an If-Range naming another version: the whole file, one read.
    for (const [range, extra] of [['bytes=0-9,20-29', {}], ['bytes=x-y', {}], ['bytes=0-9', { 'if-range': '"0000"' }]] as const) {
      const r = await ranged(range, extra);
      expect(r.status, range).toBe(200);
      expect(Buffer.from(await r.arrayBuffer()).equals(bytes)).toBe(true);
    }
    // If-Range with this file's ETag: the range.
    expect((await ranged('bytes=0-9', { 'if-range': etag })).status).toBe(206);
    // Another unit, or a last position below the first (invalid, RFC 9110 §14.1.1): ignored, whole file.
    for (const range of ['items=500000-600000', 'bytes=5-1']) {
      const r = await ranged(range);
      expect(r.status, range).toBe(200);
      expect(Buffer.from(await r.arrayBuffer()).length).toBe(100_000);
    }
    // HEAD: the headers a read would get, after the same permission check, and no read logged.
    const heads = t.ledger.log.size;
    const head = await fetch(`${t.url}/v1/evidence/${id}/content`, { method: 'HEAD', headers: { authorization: `Bearer ${court}`, range: 'bytes=0-9' } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('100000');
    expect(head.headers.get('etag')).toBe(etag);
    expect(head.headers.get('x-tianfu-sha256')).toBe(sha256);
    expect(head.headers.get('x-tianfu-access-index')).toBeNull();
    expect((await fetch(`${t.url}/v1/evidence/${id}/content`, { method: 'HEAD', headers: { authorization: `Bearer ${B}` } })).status).toBe(404);
    expect(t.ledger.log.size).toBe(heads);
    // A refused reader learns nothing from a range either.
    expect((await fetch(`${t.url}/v1/evidence/${id}/content`, { headers: { authorization: `Bearer ${B}`, range: 'bytes=0-9' } })).status).toBe(404);
  });

  it('a read the client aborts halfway still leaves exactly one accessed event, and the node keeps serving', async () => {
    const bytes = bytesOf(6 * 1024 * 1024, 'abort');
    const { id } = await fresh(bytes);
    const before = await accessedCount(id);
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.get(`${t.url}/v1/evidence/${id}/content`, { headers: { authorization: `Bearer ${court}` } }, (res) => {
        expect(res.statusCode).toBe(200);
        let got = 0;
        res.on('data', (c: Buffer) => {
          got += c.length;
          if (got >= 64 * 1024) {
            req.destroy();
            resolve(got);
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', (e) => (e.message.includes('socket hang up') || (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    });
    expect(received).toBeLessThan(bytes.length);
    // Give the server a moment to see the abort, then count.
    await new Promise((r) => setTimeout(r, 200));
    expect(await accessedCount(id)).toBe(before + 1);
    const again = await read(id, court);
    expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
    expect(await accessedCount(id)).toBe(before + 2);
  });

  it('content missing from disk is 410 and logs no access', async () => {
    const { id, sha256 } = await fresh(bytesOf(1000, 'vanishing'));
    fs.unlinkSync(t.ledger.blobs.pathFor(sha256 as `0x${string}`));
    const r = await read(id, court);
    expect(r.status).toBe(410);
    expect((await r.json()).code).toBe('EVIDENCE_CONTENT_NOT_FOUND');
    expect(await accessedCount(id)).toBe(0);
  });

  it('roles on every route: no key 401, wrong role 403, another collector 404 (as if never deposited)', async () => {
    const { id } = await fresh();
    const routes: { name: string; call: (key?: string) => Promise<{ status: number; body: { code?: string } }>; wrongRole: string[]; otherCollector: boolean; allowed: string[] }[] = [
      { name: 'POST /evidence', call: (key) => deposit(t, key, metadata(), bytesOf(100, 'roles')), wrongRole: [court, auditor, admin], otherCollector: false, allowed: [] },
      { name: 'POST custody', call: (key) => post(id, key!, 'annotated'), wrongRole: [auditor, admin], otherCollector: true, allowed: [A, court] },
      { name: 'GET content', call: async (key) => { const r = await read(id, key); return { status: r.status, body: r.status === 200 ? (await r.arrayBuffer(), {}) : await r.json() }; }, wrongRole: [auditor, admin], otherCollector: true, allowed: [A, court] },
      { name: 'GET evidence', call: (key) => t.api(`/v1/evidence/${id}`, key ? { key } : {}), wrongRole: [], otherCollector: true, allowed: [A, court, auditor, admin] },
      { name: 'GET bundle', call: (key) => t.api(`/v1/evidence/${id}/bundle`, key ? { key } : {}), wrongRole: [], otherCollector: true, allowed: [A, court, auditor, admin] },
      { name: 'DELETE content', call: (key) => t.api(`/v1/evidence/${id}/content`, { method: 'DELETE', body: { reason: 'roles' }, ...(key ? { key } : {}) }), wrongRole: [A, B, court, auditor], otherCollector: false, allowed: [] },
      { name: 'PUT signer', call: (key) => t.api('/v1/evidence/signer', { method: 'PUT', body: { address: '0x' + '1'.repeat(40), proof: '0x' + '2'.repeat(130) }, ...(key ? { key } : {}) }), wrongRole: [court, auditor, admin], otherCollector: false, allowed: [] },
    ];
    for (const r of routes) {
      const none = await r.call(undefined);
      expect(none.status, `${r.name} without a key`).toBe(401);
      for (const key of r.wrongRole) {
        const res = await r.call(key);
        expect(res.status, `${r.name} wrong role`).toBe(403);
        expect(res.body.code, r.name).toBe('ROLE_FORBIDDEN');
      }
      if (r.otherCollector) {
        const res = await r.call(B);
        expect(res.status, `${r.name} another collector`).toBe(404);
        expect(res.body.code, r.name).toBe('EVIDENCE_NOT_FOUND');
      }
      for (const key of r.allowed) expect((await r.call(key)).status, `${r.name} allowed`).toBeLessThan(300);
    }
    // A bad bearer value is 401 as well.
    expect((await t.api(`/v1/evidence/${id}`, { key: 'tfk_not-a-real-key' })).status).toBe(401);
  });

  it('erasure: content, record and salt gone; other proofs still verify; the bundle reports erased; shared bytes stay until the last deposit goes', async () => {
    const shared = bytesOf(50_000, 'shared bytes');
    const x = await fresh(shared, A);
    const y = await fresh(shared, B); // same bytes, another collector: one blob, two pieces of evidence
    expect(y.sha256).toBe(x.sha256);
    const z = await fresh(bytesOf(40_000, 'to be erased'));
    await expectCustody(z.id, court, 'annotated', 201);
    await (await read(z.id, court)).arrayBuffer();

    // Refusals first: reason required; only an admin; unknown id.
    expect((await t.api(`/v1/evidence/${z.id}/content`, { method: 'DELETE', body: {}, key: admin })).status).toBe(422);
    expect((await t.api(`/v1/evidence/ev_${'b'.repeat(32)}/content`, { method: 'DELETE', body: { reason: 'x' }, key: admin })).status).toBe(404);

    const blobZ = t.ledger.blobs.pathFor(z.sha256 as `0x${string}`);
    expect(fs.existsSync(blobZ)).toBe(true);
    const del = await t.api(`/v1/evidence/${z.id}/content`, { method: 'DELETE', body: { reason: 'PIPL art. 47 request', note: 'ticket 17' }, key: admin });
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    expect(del.body).toMatchObject({ evidenceId: z.id, contentErased: true, sharedWith: 0 });
    expect(fs.existsSync(blobZ)).toBe(false);
    const rec = await t.ledger.sequencer.getRecord(z.index);
    expect(rec?.record).toBeNull();
    expect(rec?.salt).toBeNull();
    // Second erasure: already gone.
    const again = await t.api(`/v1/evidence/${z.id}/content`, { method: 'DELETE', body: { reason: 'again' }, key: admin });
    expect(again.status).toBe(410);
    expect(again.body.code).toBe('EVIDENCE_ERASED');

    // History says erased; metadata and digests are no longer shown; content is gone; no read is logged.
    const view = await t.api(`/v1/evidence/${z.id}`, { key: court });
    expect(view.body).toMatchObject({ status: 'erased', erased: true, metadata: null, file: null, collectorSignature: null });
    expect(view.body.custody.at(-1)).toMatchObject({ event: 'erased', reason: 'PIPL art. 47 request', note: 'ticket 17', by: { role: 'admin' } });
    const readErased = await read(z.id, court);
    expect(readErased.status).toBe(410);
    expect((await readErased.json()).code).toBe('EVIDENCE_ERASED');
    expect(await accessedCount(z.id)).toBe(1);
    // After erasure only a court may annotate.
    await expectCustody(z.id, court, 'annotated', 201);
    await expectCustody(z.id, A, 'annotated', 410, 'EVIDENCE_ERASED');
    await expectCustody(z.id, court, 'transferred', 410, 'EVIDENCE_ERASED');

    // The deposit's own bundle reports erased (record and salt null, file null); every proof still verifies.
    await t.waitAnchored();
    const b = await t.api(`/v1/evidence/${z.id}/bundle`, { key: court });
    expect(b.status).toBe(200);
    expect(b.headers.get('x-tianfu-evidence-status')).toBe('erased');
    const bundle = b.body as Bundle;
    expect(bundle.file).toBeNull();
    expect(bundle.items[0]).toMatchObject({ record: null, salt: null, entry: { kind: 'evidence.deposited', subject: z.id } });
    expect(bundle.items.map((i) => i.entry.kind)).toContain('evidence.custody.erased');
    expect(bundle.items.find((i) => i.entry.kind === 'evidence.custody.erased')!.record).toMatchObject({ event: 'erased', reason: 'PIPL art. 47 request' });
    expect(await verifyBundle(t, bundle)).toEqual({ checked: bundle.items.length, erasedItems: 1 });
    // The protocol verifier reports the deposit as erased, not as a failure.
    const report = await verifyWithProtocol(bundle, { chain: chainReaderFromProvider(t.ledger.provider), history: domainHistoryRules });
    expect(report.verdict, JSON.stringify(report.firstFailure)).toBe('valid');
    expect(report.items[0]!.status).toBe('erased');
    expect(report.items.slice(1).every((i) => i.status === 'verified')).toBe(true);
    // Other items' bundles and the whole log still verify.
    expect((await verifyBundle(t, (await t.api(`/v1/evidence/${x.id}/bundle`, { key: court })).body)).erasedItems).toBe(0);

    // Shared bytes: erasing X keeps the blob for Y; erasing Y then removes it.
    const blobX = t.ledger.blobs.pathFor(x.sha256 as `0x${string}`);
    const delX = await t.api(`/v1/evidence/${x.id}/content`, { method: 'DELETE', body: { reason: 'withdrawn by platform' }, key: admin });
    expect(delX.body).toMatchObject({ contentErased: false, sharedWith: 1 });
    expect(fs.existsSync(blobX)).toBe(true);
    expect((await read(x.id, court)).status).toBe(410);
    const yRead = await read(y.id, court);
    expect(sha256Hex(Buffer.from(await yRead.arrayBuffer()))).toBe(y.sha256);
    const delY = await t.api(`/v1/evidence/${y.id}/content`, { method: 'DELETE', body: { reason: 'withdrawn by platform' }, key: admin });
    expect(delY.body).toMatchObject({ contentErased: true, sharedWith: 0 });
    expect(fs.existsSync(blobX)).toBe(false);
    // A new deposit of those bytes stores them again.
    const again2 = await fresh(shared, A);
    expect(fs.existsSync(t.ledger.blobs.pathFor(again2.sha256 as `0x${string}`))).toBe(true);
  });
});
