/**
 * RFC 3161 tokens from a real TSA (OpenSSL's `openssl ts -reply`, with a CA and TSA certificate made
 * here), checked by node/protocol/timestamp.ts. Every refusal names its step.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTimestampRequest,
  certificatesFromPem,
  checkpointImprint,
  readToken,
  signedCheckpointBytes,
  tokenFromResponse,
  verifyTimestampToken,
  type Hex,
  type SignedCheckpoint,
} from '../../node/protocol';
import { OPENSSL, makeTestPki, opensslReply, type TestPki } from '../support/openssl-tsa';

const run = promisify(execFile);

const cpOf = (size: number): SignedCheckpoint => ({
  type: 'tianfu.checkpoint/v1',
  logId: ('0x' + 'ab'.repeat(32)) as Hex,
  treeSize: size,
  rootHash: ('0x' + size.toString(16).padStart(2, '0').repeat(32)) as Hex,
  signature: ('0x' + '1c'.repeat(65)) as Hex,
});

describe('RFC 3161 tokens from openssl ts -reply', () => {
  let pki: TestPki;
  let rogue: TestPki;
  let token: Uint8Array;
  const cp = cpOf(7);
  let anchors: Uint8Array[];

  const stamp = async (p: TestPki, c: SignedCheckpoint): Promise<Uint8Array> => tokenFromResponse(await opensslReply(p, buildTimestampRequest(checkpointImprint(c), crypto.getRandomValues(new Uint8Array(16)))));

  beforeAll(async () => {
    pki = await makeTestPki('Court Test');
    rogue = await makeTestPki('Rogue');
    anchors = certificatesFromPem(pki.caPem);
    token = await stamp(pki, cp);
  });
  afterAll(() => {
    for (const p of [pki, rogue]) fs.rmSync(p.dir, { recursive: true, force: true });
  });

  it('OpenSSL reads our request as we meant it (SHA-256 imprint, nonce, certReq)', async () => {
    const q = path.join(pki.dir, 'ours.tsq');
    fs.writeFileSync(q, buildTimestampRequest(checkpointImprint(cp), Uint8Array.from([0x81, 2, 3, 4, 5, 6, 7, 8])));
    const { stdout } = await run(OPENSSL, ['ts', '-query', '-in', q, '-text']);
    expect(stdout).toMatch(/Hash Algorithm: sha256/);
    // openssl prints the imprint as a hex dump: "0000 - 87 7a … 8e d3-a7 a7 …   ascii".
    const dumped = [...stdout.matchAll(/^\s+[0-9a-f]{4} - (.{47})/gm)].map((m) => m[1]!.replace(/[^0-9a-f]/g, '')).join('');
    expect(dumped).toBe(Buffer.from(checkpointImprint(cp)).toString('hex'));
    expect(stdout).toMatch(/Nonce: 0x0?8102030405060708/i);
    expect(stdout).toMatch(/Certificate required: yes/);
  });

  it('a token verifies at every step, and OpenSSL agrees it stamps the signed checkpoint bytes', async () => {
    const r = await verifyTimestampToken(token, { checkpoint: cp, trustAnchors: anchors, notBefore: new Date(Date.now() - 60_000) });
    expect(r.steps.map((s) => [s.name, s.status])).toEqual([
      ['tsa-token', 'ok'], ['tsa-imprint', 'ok'], ['tsa-signature', 'ok'], ['tsa-certificate', 'ok'], ['tsa-ess-cert-id', 'ok'], ['tsa-chain', 'ok'], ['tsa-time', 'ok'],
    ]);
    expect(r.status).toBe('ok');
    expect(r.info!.accuracyMs).toBe(1000);
    expect(r.info!.signer).toContain('Court Test Time-Stamping Unit');
    expect(r.info!.policy).toBe('1.3.6.1.4.1.55555.1.1');
    // The reader we did not write: openssl ts -verify over the same bytes and CA.
    const data = path.join(pki.dir, 'cp.json');
    const tok = path.join(pki.dir, 'tok.der');
    fs.writeFileSync(data, signedCheckpointBytes(cp));
    fs.writeFileSync(tok, token);
    const { stdout } = await run(OPENSSL, ['ts', '-verify', '-token_in', '-in', tok, '-data', data, '-CAfile', pki.caPemFile]);
    expect(stdout).toMatch(/Verification: OK/);
  });

  it('refuses a token for another imprint at tsa-imprint', async () => {
    const r = await verifyTimestampToken(token, { checkpoint: cpOf(8), trustAnchors: anchors });
    expect(r.status).toBe('failed');
    expect(r.steps.find((s) => s.status === 'failed')!.name).toBe('tsa-imprint');
    expect(r.steps.find((s) => s.name === 'tsa-signature')!.status).toBe('skipped');
  });

  it('refuses a token signed by a TSA outside the trust anchors at tsa-chain', async () => {
    const other = await stamp(rogue, cp);
    const r = await verifyTimestampToken(other, { checkpoint: cp, trustAnchors: anchors });
    const f = r.steps.find((s) => s.status === 'failed')!;
    expect(f.name).toBe('tsa-chain');
    expect(f.detail).toContain('Rogue Time-Stamping Unit');
    // Its own root would accept it: the refusal is about trust, not a broken token.
    expect((await verifyTimestampToken(other, { checkpoint: cp, trustAnchors: certificatesFromPem(rogue.caPem) })).status).toBe('ok');
  });

  it('refuses a token whose genTime is before the checkpoint existed at tsa-time', async () => {
    const newestEntry = new Date(Date.parse(readToken(token).info.genTime) + 5_000);
    const r = await verifyTimestampToken(token, { checkpoint: cp, trustAnchors: anchors, notBefore: newestEntry });
    const f = r.steps.find((s) => s.status === 'failed')!;
    expect(f.name).toBe('tsa-time');
    expect(f.detail).toMatch(/before the checkpoint could exist/);
    // Within the accuracy (± 1 s) it is not refused.
    const inside = new Date(Date.parse(readToken(token).info.genTime) + 900);
    expect((await verifyTimestampToken(token, { checkpoint: cp, trustAnchors: anchors, notBefore: inside })).status).toBe('ok');
  });

  it('refuses a truncated token at tsa-token, and a token with a flipped signature byte at tsa-signature', async () => {
    for (const cut of [1, 100, token.length - 200]) {
      const r = await verifyTimestampToken(token.slice(0, token.length - cut), { checkpoint: cp, trustAnchors: anchors });
      expect(r.steps[0]).toMatchObject({ name: 'tsa-token', status: 'failed' });
      expect(r.steps.slice(1).every((s) => s.status === 'skipped')).toBe(true);
    }
    const flipped = Uint8Array.from(token);
    flipped[flipped.length - 5]! ^= 0x01; // inside the ECDSA signature, the last field of the token
    const r = await verifyTimestampToken(flipped, { checkpoint: cp, trustAnchors: anchors });
    expect(r.steps.find((s) => s.status === 'failed')?.name).toBe('tsa-signature');
  });

  it('without trust anchors the chain step is skipped, never passed', async () => {
    const r = await verifyTimestampToken(token, { checkpoint: cp });
    expect(r.steps.find((s) => s.name === 'tsa-chain')!.status).toBe('skipped');
    expect(r.status).toBe('skipped');
  });
});
