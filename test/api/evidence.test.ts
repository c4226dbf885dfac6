/**
 * Evidence deposit through HTTP (issue 5): streamed multipart deposit with digests equal to
 * sha256sum and an independent SM3 (sm-crypto), refusals that keep nothing, collector signatures,
 * privacy of the public log and the chain, bundle verification, and a changed byte caught.
 * Custody, content reads, roles and erasure: evidence-custody.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import { Wallet, getBytes } from 'ethers';
import { claimDigest, signerRegistrationMessage, verifyBundle as verifyWithProtocol, verifyReceiptSigner, type Bundle, type EvidenceMetadata, type Hex } from '../../node';
import { chainReaderFromProvider } from '../../node/chain/chain-reader';
import { domainHistoryRules } from '../../node/verifier';
import { EXACT_LOG_SIZES, startTestLedger, type TestLedger } from '../support/ledger';
import { blobFiles, bytesOf, deposit, metadata, sha256Hex, verifyBundle } from './evidence-support';

const { sm3: jsSm3 } = require('sm-crypto') as { sm3: (input: string | Uint8Array) => string };
const LIMIT = 4 * 1024 * 1024;
// Async: the server runs in this process, so a synchronous child (curl) would block it.
const run = async (cmd: string, args: string[]): Promise<string> => (await promisify(execFile)(cmd, args, { encoding: 'utf8' })).stdout;

describe('evidence deposit (real server, embedded chain)', () => {
  let t: TestLedger;
  let collector: string;
  let court: string;
  let tmp: string;
  beforeAll(async () => {
    t = await startTestLedger({ TIANFU_MAX_EVIDENCE_BYTES: String(LIMIT), ...EXACT_LOG_SIZES });
    collector = await t.createKey('collector');
    court = await t.createKey('court');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-ev-test-'));
  });
  afterAll(async () => {
    await t?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('deposits a streamed file: digests equal sha256sum and sm-crypto SM3, durable blob, signed receipt, Location', async () => {
    const bytes = bytesOf(1_500_000, 'deposit one');
    const file = path.join(tmp, 'page.mhtml');
    fs.writeFileSync(file, bytes);
    const sha256sum = '0x' + execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
    const sm3 = '0x' + jsSm3(new Uint8Array(bytes));
    const meta = metadata();
    const sizeBefore = t.ledger.log.size;
    const r = await deposit(t, collector, meta, bytes);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ sha256: sha256sum, sm3, size: bytes.length, index: sizeBefore });
    expect(r.body.evidenceId).toMatch(/^ev_[0-9a-f]{32}$/);
    expect(r.headers.get('location')).toBe(`/v1/evidence/${r.body.evidenceId}`);
    expect(verifyReceiptSigner(r.body.receipt, t.ledger.operator.address).toLowerCase()).toBe(t.ledger.operator.address.toLowerCase());
    expect(r.body.receipt.index).toBe(r.body.index);
    // The stored blob is exactly those bytes, at its content address, private.
    const blob = t.ledger.blobs.pathFor(sha256sum as `0x${string}`);
    expect(fs.readFileSync(blob).equals(bytes)).toBe(true);
    expect(fs.statSync(blob).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(t.ledger.blobs.tmpDir)).toEqual([]);
    // The record committed metadata + digests + size + collector identity from the key.
    const rec = await t.ledger.sequencer.getRecord(r.body.index);
    expect(rec?.record).toMatchObject({ evidenceId: r.body.evidenceId, metadata: meta, file: { sha256: sha256sum, sm3, size: bytes.length }, collector: { role: 'collector' } });
    const view = await t.api(`/v1/evidence/${r.body.evidenceId}`, { key: court });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ status: 'active', metadata: meta, file: { sha256: sha256sum, sm3, size: bytes.length }, custody: [], deposit: { index: r.body.index } });
  });

  it('the README walk-through works with curl: -F metadata=...;type=application/json -F file=@page.mhtml', async () => {
    const file = path.join(tmp, 'curl-page.mhtml');
    const bytes = bytesOf(70_000, 'curl');
    fs.writeFileSync(file, bytes);
    const meta = metadata({ fileName: 'page.mhtml' });
    const out = await run('curl', ['-sS', '-H', `Authorization: Bearer ${collector}`, '-F', `metadata=${JSON.stringify(meta)};type=application/json`, '-F', `file=@${file}`, `${t.url}/v1/evidence`]);
    const body = JSON.parse(out);
    expect(body.sha256).toBe(sha256Hex(bytes));
    // The metadata may also be sent as a JSON file part (-F metadata=@meta.json).
    const metaFile = path.join(tmp, 'meta.json');
    fs.writeFileSync(metaFile, JSON.stringify(metadata()));
    const out2 = await run('curl', ['-sS', '-H', `Authorization: Bearer ${collector}`, '-F', `metadata=@${metaFile};type=application/json`, '-F', `file=@${file}`, `${t.url}/v1/evidence`]);
    expect(JSON.parse(out2).sha256).toBe(sha256Hex(bytes));
    // And the court reads it back byte for byte with curl.
    const dl = path.join(tmp, 'downloaded');
    await run('curl', ['-sS', '-f', '-H', `Authorization: Bearer ${court}`, '-o', dl, `${t.url}/v1/evidence/${body.evidenceId}/content`]);
    expect(fs.readFileSync(dl).equals(bytes)).toBe(true);
  });

  it('a client digest mismatch (SHA-256 or SM3) is refused and keeps nothing: blob dir and log size unchanged', async () => {
    const bytes = bytesOf(300_000, 'mismatch');
    const good = { sha256: sha256Hex(bytes), sm3: '0x' + jsSm3(new Uint8Array(bytes)) };
    const badByte = Buffer.from(bytes);
    badByte[1234] = badByte[1234]! ^ 1;
    for (const [alg, declared] of [
      ['sha256', { ...good, sha256: sha256Hex(badByte) }],
      ['sm3', { ...good, sm3: '0x' + jsSm3(new Uint8Array(badByte)) }],
    ] as const) {
      const before = blobFiles(t);
      const size = t.ledger.log.size;
      const r = await deposit(t, collector, metadata(declared), bytes);
      expect(r.status, alg).toBe(422);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(r.body).toMatchObject({ code: 'EVIDENCE_DIGEST_MISMATCH', algorithm: alg, expected: declared[alg], calculated: good[alg] });
      expect(r.body.errors[0].path).toEqual(['metadata', alg]);
      expect(blobFiles(t)).toEqual(before);
      expect(t.ledger.log.size).toBe(size);
    }
    // With the right digests it is accepted.
    expect((await deposit(t, collector, metadata(good), bytes)).status).toBe(201);
  });

  it('refuses bad uploads with problem+json and keeps nothing: over the limit, bad metadata, wrong order, no file, not multipart', async () => {
    const cases: { name: string; run: () => Promise<{ status: number; body: { code: string } }>; status: number; code: string }[] = [
      { name: 'over the limit', run: () => deposit(t, collector, metadata(), bytesOf(LIMIT + 1, 'big')), status: 413, code: 'EVIDENCE_TOO_LARGE' },
      { name: 'invalid metadata', run: () => deposit(t, collector, metadata({ method: 'telepathy' }), bytesOf(10, 'x')), status: 422, code: 'EVIDENCE_INVALID_METADATA' },
      { name: 'unknown metadata field', run: () => deposit(t, collector, metadata({ secret: 1 }), bytesOf(10, 'x')), status: 422, code: 'EVIDENCE_INVALID_METADATA' },
      { name: 'metadata not JSON', run: () => deposit(t, collector, null, bytesOf(10, 'x'), { metaAsText: '{nope' }), status: 400, code: 'MALFORMED_JSON' },
      { name: 'capture in the future', run: () => deposit(t, collector, metadata({ capturedAt: new Date(Date.now() + 3_600_000).toISOString() }), bytesOf(10, 'x')), status: 422, code: 'EVIDENCE_CAPTURED_AFTER_DEPOSIT' },
      { name: 'file before metadata', run: () => deposit(t, collector, metadata(), bytesOf(10, 'x'), { fileFirst: true }), status: 400, code: 'EVIDENCE_METADATA_FIRST' },
      {
        name: 'no file part',
        run: async () => {
          const fd = new FormData();
          fd.append('metadata', JSON.stringify(metadata()));
          const res = await fetch(t.url + '/v1/evidence', { method: 'POST', body: fd, headers: { authorization: `Bearer ${collector}` } });
          return { status: res.status, body: await res.json() };
        },
        status: 400,
        code: 'EVIDENCE_FILE_MISSING',
      },
      { name: 'JSON instead of multipart', run: () => t.api('/v1/evidence', { body: metadata(), key: collector }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    ];
    for (const c of cases) {
      const before = blobFiles(t);
      const size = t.ledger.log.size;
      const r = await c.run();
      expect(r.status, c.name).toBe(c.status);
      expect(r.body.code, c.name).toBe(c.code);
      expect(blobFiles(t), c.name).toEqual(before);
      expect(t.ledger.log.size, c.name).toBe(size);
    }
    const invalid = await deposit(t, collector, metadata({ fileName: '../etc/passwd' }), bytesOf(10, 'x'));
    expect(invalid.body.errors[0].path).toEqual(['metadata', 'fileName']);
  });

  it('a part after the file refuses the deposit after the blob was stored, and the fresh blob is removed again', async () => {
    const before = blobFiles(t);
    const size = t.ledger.log.size;
    const boundary = 'tianfu-extra-part';
    const file = bytesOf(200_000, 'extra part');
    const blobPath = t.ledger.blobs.pathFor(sha256Hex(file));
    // The extra part is sent only once the file is durable in the store, so the refusal has to remove a stored blob.
    const r = await new Promise<{ status: number; body: { code: string } }>((resolve, reject) => {
      const req = http.request(t.url + '/v1/evidence', { method: 'POST', headers: { authorization: `Bearer ${collector}`, 'content-type': `multipart/form-data; boundary=${boundary}` } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(metadata())}\r\n`);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n\r\n`);
      req.write(file);
      req.write(`\r\n--${boundary}\r\n`);
      const sendExtra = async (): Promise<void> => {
        const deadline = Date.now() + 10_000;
        while (!fs.existsSync(blobPath) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
        expect(fs.existsSync(blobPath)).toBe(true);
        req.end(`Content-Disposition: form-data; name="file"; filename="y.bin"\r\n\r\nmore\r\n--${boundary}--\r\n`);
      };
      sendExtra().catch(reject);
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('MULTIPART_UNEXPECTED_PART');
    expect(blobFiles(t)).toEqual(before);
    expect(fs.existsSync(blobPath)).toBe(false);
    expect(t.ledger.log.size).toBe(size);
  });

  it('a client that goes away mid-upload leaves nothing behind', async () => {
    const before = blobFiles(t);
    const size = t.ledger.log.size;
    const boundary = 'tianfu-test-boundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(metadata())}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    await new Promise<void>((resolve) => {
      const req = http.request(t.url + '/v1/evidence', { method: 'POST', headers: { authorization: `Bearer ${collector}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' } });
      req.on('error', () => resolve());
      req.write(head);
      req.write(bytesOf(512 * 1024, 'half'), () => setTimeout(() => {
        req.destroy();
        resolve();
      }, 200));
    });
    // The server notices the closed connection and removes the partial upload.
    const deadline = Date.now() + 5000;
    while (fs.readdirSync(t.ledger.blobs.tmpDir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(fs.readdirSync(t.ledger.blobs.tmpDir)).toEqual([]);
    expect(blobFiles(t)).toEqual(before);
    expect(t.ledger.log.size).toBe(size);
  });

  it('collector signatures: registration needs proof of possession; a signed deposit is checked and carried in the record and bundle', async () => {
    const wallet = Wallet.createRandom();
    expect((await t.api('/v1/evidence/signer', { key: collector })).status).toBe(404);
    const keyId = await keyIdOf(collector);
    // Proof signed by another wallet: refused.
    const other = Wallet.createRandom();
    const badProof = await other.signMessage(signerRegistrationMessage(keyId, wallet.address));
    const refused = await t.api('/v1/evidence/signer', { method: 'PUT', body: { address: wallet.address, proof: badProof }, key: collector });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('EVIDENCE_SIGNER_PROOF_INVALID');
    expect((await t.api('/v1/evidence/signer', { method: 'PUT', body: { address: wallet.address, proof: badProof }, key: court })).status).toBe(403);
    // A signed deposit before registration is refused.
    const bytes = bytesOf(50_000, 'signed');
    const digests = { sha256: sha256Hex(bytes), sm3: '0x' + jsSm3(new Uint8Array(bytes)) };
    const claim = metadata(digests) as EvidenceMetadata;
    const signature = await wallet.signMessage(getBytes(claimDigest(claim)));
    const early = await deposit(t, collector, { ...claim, signature }, bytes);
    expect(early.status).toBe(422);
    expect(early.body.code).toBe('EVIDENCE_SIGNER_NOT_REGISTERED');
    // Register with a proper proof.
    const proof = await wallet.signMessage(signerRegistrationMessage(keyId, wallet.address));
    const reg = await t.api('/v1/evidence/signer', { method: 'PUT', body: { address: wallet.address, proof }, key: collector });
    expect(reg.status).toBe(200);
    expect(reg.body).toMatchObject({ keyId, address: wallet.address.toLowerCase() });
    expect((await t.api('/v1/evidence/signer', { key: collector })).body.address).toBe(wallet.address.toLowerCase());
    // Signed by another key: refused, nothing kept.
    const before = blobFiles(t);
    const forged = await deposit(t, collector, { ...claim, signature: await other.signMessage(getBytes(claimDigest(claim))) }, bytes);
    expect(forged.status).toBe(422);
    expect(forged.body).toMatchObject({ code: 'EVIDENCE_SIGNATURE_INVALID', expected: wallet.address.toLowerCase(), calculated: other.address.toLowerCase() });
    expect(blobFiles(t)).toEqual(before);
    // Properly signed: accepted; the record and the bundle carry address, digest and signature.
    const ok = await deposit(t, collector, { ...claim, signature }, bytes);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const view = await t.api(`/v1/evidence/${ok.body.evidenceId}`, { key: court });
    expect(view.body.collectorSignature).toEqual({ address: wallet.address.toLowerCase(), digest: claimDigest(claim), signature });
    const b = await t.api(`/v1/evidence/${ok.body.evidenceId}/bundle`, { key: court });
    expect(b.body.items[0].record.collectorSignature.signature).toBe(signature);
    // Signing without declaring both digests is refused by the schema.
    const { sm3: _drop, ...noSm3 } = claim;
    const partial = await deposit(t, collector, { ...noSm3, signature: await wallet.signMessage(getBytes(claimDigest(noSm3 as EvidenceMetadata))) }, bytes);
    expect(partial.status).toBe(422);
    expect(partial.body.errors[0].path).toEqual(['metadata', 'signature']);
  });

  it('bundle: deposit and custody items verify with the protocol functions against the chain; one changed byte in the stored file is caught', async () => {
    const bytes = bytesOf(200_000, 'tamper');
    const dep = await deposit(t, collector, metadata(), bytes);
    expect(dep.status).toBe(201);
    const id = dep.body.evidenceId as string;
    expect((await t.api(`/v1/evidence/${id}/custody`, { body: { event: 'annotated', reason: 'hash checked by clerk' }, key: court })).status).toBe(201);
    const read = await fetch(`${t.url}/v1/evidence/${id}/content`, { headers: { authorization: `Bearer ${court}` } });
    expect(Buffer.from(await read.arrayBuffer()).equals(bytes)).toBe(true);
    await t.waitAnchored();
    const res = await t.api(`/v1/evidence/${id}/bundle`, { key: court });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-tianfu-evidence-status')).toBe('present');
    const bundle = res.body as Bundle;
    expect(bundle).toMatchObject({ format: 'tianfu.bundle/v1', kind: 'evidence', subject: id, file: { sha256: dep.body.sha256, sm3: dep.body.sm3, size: bytes.length } });
    expect(bundle.items.map((i) => i.entry.kind)).toEqual(['evidence.deposited', 'evidence.custody.annotated', 'evidence.custody.accessed']);
    expect(await verifyBundle(t, bundle)).toEqual({ checked: 3, erasedItems: 0 });
    expect(bundle.items[0]!.record!.file).toEqual(bundle.file);
    // The history view reports the same items as anchored.
    const view = await t.api(`/v1/evidence/${id}`, { key: court });
    expect(view.body.deposit.anchored.treeSize).toBeGreaterThan(dep.body.index);
    expect(view.body.custody.map((c: { event: string; anchored: unknown }) => [c.event, c.anchored !== null])).toEqual([
      ['annotated', true],
      ['accessed', true],
    ]);
    // A byte flipped on disk: the store's verification and a court comparing the download with the bundle both catch it.
    const blob = t.ledger.blobs.pathFor(dep.body.sha256);
    const fd = fs.openSync(blob, 'r+');
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, 99_999);
    one[0] = one[0]! ^ 0x40;
    fs.writeSync(fd, one, 0, 1, 99_999);
    fs.closeSync(fd);
    const v = await t.ledger.blobs.verify(dep.body.sha256, { sm3: dep.body.sm3, size: bytes.length });
    expect(v.ok).toBe(false);
    expect(v.calculated.sha256).not.toBe(dep.body.sha256);
    const tampered = await fetch(`${t.url}/v1/evidence/${id}/content`, { headers: { authorization: `Bearer ${court}` } });
    expect(tampered.headers.get('x-tianfu-sha256')).toBe(bundle.file!.sha256);
    const got = Buffer.from(await tampered.arrayBuffer());
    expect(sha256Hex(got)).not.toBe(bundle.file!.sha256);
    expect('0x' + jsSm3(new Uint8Array(got))).not.toBe(bundle.file!.sm3);
    // The protocol verifier (same code as the CLI and the page), given the digests of the file a court holds:
    // the genuine bytes verify; the bytes served after the tampering fail at file-sha256.
    const chain = chainReaderFromProvider(t.ledger.provider);
    const genuine = await verifyWithProtocol(bundle, { chain, history: domainHistoryRules, file: { sha256: sha256Hex(bytes), sm3: ('0x' + jsSm3(new Uint8Array(bytes))) as Hex, size: bytes.length } });
    expect(genuine.verdict, JSON.stringify(genuine.firstFailure)).toBe('valid');
    const caught = await verifyWithProtocol(bundle, { chain, history: domainHistoryRules, file: { sha256: sha256Hex(got), sm3: ('0x' + jsSm3(new Uint8Array(got))) as Hex, size: got.length } });
    expect(caught.verdict).toBe('invalid');
    expect(caught.firstFailure?.name).toBe('file-sha256');
    // The bundle itself still verifies (now with the second read's accessed event): the record is intact, only the file beside it is not.
    await t.waitAnchored();
    expect(await verifyBundle(t, (await t.api(`/v1/evidence/${id}/bundle`, { key: court })).body)).toEqual({ checked: 4, erasedItems: 0 });
  });

  it('no file content, names or metadata reach the public log entries or the chain', async () => {
    const marker = `ZEBRA-${Date.now()}`;
    const meta = metadata({ title: `Title ${marker}`, fileName: `${marker}.mhtml`, caseRef: `case-${marker}`, source: { url: `https://${marker.toLowerCase()}.example.com/x` }, environment: { note: marker } });
    const bytes = Buffer.from(`file content ${marker} `.repeat(100));
    const dep = await deposit(t, collector, meta, bytes);
    expect(dep.status).toBe(201);
    await t.api(`/v1/evidence/${dep.body.evidenceId}/custody`, { body: { event: 'annotated', reason: `reason ${marker}`, note: `note ${marker}` }, key: court });
    await t.waitAnchored();
    const raw = await fetch(`${t.url}/v1/log/entries?start=0&end=${t.ledger.log.size}`).then((r) => r.text());
    expect(raw).toContain(dep.body.evidenceId); // the entries are there…
    expect(raw.toLowerCase()).not.toContain(marker.toLowerCase()); // …with none of the private data
    expect(raw).not.toContain(dep.body.sha256.slice(2)); // nor the file digest (it would let anyone confirm a candidate file)
    // The anchor transactions carry roots only.
    const cps = (await t.api('/v1/log/checkpoints')).body.checkpoints as { txHash: string }[];
    expect(cps.length).toBeGreaterThan(0);
    const markerHex = Buffer.from(marker).toString('hex');
    for (const cp of cps) {
      const tx = await t.ledger.provider.getTransaction(cp.txHash);
      expect(tx?.data.toLowerCase()).not.toContain(markerHex.toLowerCase());
      expect(tx?.data.toLowerCase()).not.toContain(dep.body.sha256.slice(2));
    }
  });

  async function keyIdOf(key: string): Promise<string> {
    const actor = await t.ledger.keys.authenticate(key);
    if (!actor) throw new Error('unknown key');
    return actor.keyId;
  }
});
