import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { Wallet, getBytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../node/domain/types';
import {
  CUSTODY_RECORD_TYPE,
  DEPOSIT_RECORD_TYPE,
  EVIDENCE_KINDS,
  EvidenceDepositRecordSchema,
  EvidenceMetadataSchema,
  LIMITS,
  buildAccessRecord,
  buildCustodyRecord,
  buildDepositRecord,
  buildErasureRecord,
  claimDigest,
  isEvidenceId,
  newEvidenceId,
  parseCustodyEventInput,
  parseEvidenceMetadata,
  type EvidenceMetadata,
} from '../../node/evidence/model';
import { recoverCollectorAddress, verifyCollectorSignature } from '../../node/evidence/signature';
import { canonicalBytes } from '../../node/protocol/canonical';
import { recordDigest } from '../../node/protocol/record';
import type { Hex } from '../../node/protocol/bytes';

const SHA = ('0x' + '11'.repeat(32)) as Hex;
const SM3 = ('0x' + '22'.repeat(32)) as Hex;
const FILE = { sha256: SHA, sm3: SM3, size: 1234 };
const COLLECTOR = { keyId: 'key-col-1', role: 'collector' as const, name: 'Evidence Platform A' };

function sampleMetadata(over: Partial<EvidenceMetadata> = {}): EvidenceMetadata {
  return {
    title: '商品页面截图 listing page',
    mediaType: 'video/mp4',
    fileName: 'capture-2025-03-01.mp4',
    method: 'screen-recording',
    source: { url: 'https://shop.example.com/item/42?ref=a' },
    capturedAt: '2025-03-01T10:15:00.123+08:00',
    environment: { tool: 'tianfu-capture', toolVersion: '1.4.2', os: 'Debian 12', ip: '203.0.113.7', dns: { 'shop.example.com': ['198.51.100.9'] }, checks: ['clean-profile', 'no-proxy'] },
    ...over,
  };
}

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }
  throw new Error('expected a DomainError');
}

describe('evidence id', () => {
  it('is ev_ + 32 hex from 16 random bytes, and distinct each time', () => {
    const a = newEvidenceId();
    expect(a).toMatch(/^ev_[0-9a-f]{32}$/);
    expect(isEvidenceId(a)).toBe(true);
    expect(newEvidenceId()).not.toBe(a);
    expect(newEvidenceId(new Uint8Array(16).fill(0xab))).toBe('ev_' + 'ab'.repeat(16));
    expect(() => newEvidenceId(new Uint8Array(8))).toThrow(/16 random bytes/);
    for (const bad of ['ev_' + 'AB'.repeat(16), 'ev_' + 'ab'.repeat(15), 'ab'.repeat(16), 42, null]) expect(isEvidenceId(bad)).toBe(false);
  });
});

describe('EvidenceMetadata schema', () => {
  it('accepts a full sample and returns it unchanged (no transforms: the claim digest must not move)', () => {
    const m = sampleMetadata({ caseRef: '(2025)浙0192民初123号', sha256: SHA, sm3: SM3, source: { description: 'WeChat chat on the collector phone\nexported with the app' } });
    const parsed = parseEvidenceMetadata(JSON.parse(JSON.stringify(m)));
    expect(parsed).toEqual(m);
    expect(canonicalBytes(parsed)).toEqual(canonicalBytes(m));
  });

  it.each([
    ['an unknown field', { extra: 1 }, ''],
    ['a missing title', { title: undefined }, 'title'],
    ['a blank title', { title: '   ' }, 'title'],
    ['a title with a control character', { title: 'a\u0007b' }, 'title'],
    ['an unknown method', { method: 'photo' }, 'method'],
    ['a media type with parameters', { mediaType: 'text/html; charset=utf-8' }, 'mediaType'],
    ['a media type without subtype', { mediaType: 'video' }, 'mediaType'],
    ['a file name with a directory', { fileName: '../etc/passwd' }, 'fileName'],
    ['a file name with a backslash', { fileName: 'a\\b.mp4' }, 'fileName'],
    ['a non-http source URL', { source: { url: 'ftp://example.com/x' } }, 'source'],
    ['a source with both url and description', { source: { url: 'https://a.example', description: 'x' } }, 'source'],
    ['an empty source', { source: {} }, 'source'],
    ['a capture time without offset', { capturedAt: '2025-03-01T10:15:00' }, 'capturedAt'],
    ['a capture date only', { capturedAt: '2025-03-01' }, 'capturedAt'],
    ['an upper-case sha256', { sha256: '0x' + 'AB'.repeat(32) }, 'sha256'],
    ['a short sm3', { sm3: '0x' + 'ab'.repeat(31) }, 'sm3'],
    ['a signature without digests', { signature: '0x' + '1b'.repeat(65) }, 'signature'],
    ['an environment that is not an object', { environment: 'linux' }, 'environment'],
    ['an over-long case reference', { caseRef: 'x'.repeat(LIMITS.caseRef + 1) }, 'caseRef'],
  ])('refuses %s', (_name, over, pathStart) => {
    const e = refusal(() => parseEvidenceMetadata({ ...sampleMetadata(), ...over }));
    expect(e.code).toBe('EVIDENCE_INVALID_METADATA');
    if (pathStart) expect(e.details.path?.[0]).toBe(pathStart);
    expect(e.message).toMatch(/^invalid evidence metadata/);
  });

  it('bounds the environment in size and depth and keeps it plain JSON', () => {
    const big = { blob: 'x'.repeat(LIMITS.environmentBytes) };
    expect(refusal(() => parseEvidenceMetadata(sampleMetadata({ environment: big }))).message).toMatch(/bytes as canonical JSON/);
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < LIMITS.environmentDepth + 1; i++) deep = { d: deep };
    expect(refusal(() => parseEvidenceMetadata(sampleMetadata({ environment: deep }))).message).toMatch(/levels deep/);
    expect(refusal(() => parseEvidenceMetadata(sampleMetadata({ environment: { n: Number.NaN } }))).details.path).toEqual(['environment', 'n']);
    expect(refusal(() => parseEvidenceMetadata(sampleMetadata({ environment: { when: new Date() } as never }))).details.path).toEqual(['environment', 'when']);
    // Just under the limit is fine.
    const ok = { blob: 'x'.repeat(LIMITS.environmentBytes - 20) };
    expect(parseEvidenceMetadata(sampleMetadata({ environment: ok })).environment).toEqual(ok);
  });

  it('renders as OpenAPI components with names', () => {
    const registry = new OpenAPIRegistry();
    registry.register('EvidenceMetadata', EvidenceMetadataSchema);
    registry.register('EvidenceDepositRecord', EvidenceDepositRecordSchema);
    const doc = new OpenApiGeneratorV31(registry.definitions).generateComponents();
    const schemas = doc.components!.schemas!;
    for (const name of ['EvidenceMetadata', 'EvidenceSource', 'EvidenceEnvironment', 'Sha256', 'Sm3', 'EvidenceDepositRecord', 'EvidenceClaim', 'ActorRef']) expect(schemas).toHaveProperty(name);
    expect(schemas.EvidenceMetadata).toMatchObject({ additionalProperties: false, required: expect.arrayContaining(['title', 'mediaType', 'fileName', 'method', 'source', 'capturedAt', 'environment']) });
  });
});

describe('deposit record', () => {
  it('holds metadata, calculated digests, collector and evidence id', () => {
    const evidenceId = newEvidenceId();
    const m = sampleMetadata({ caseRef: 'C-1' });
    const r = buildDepositRecord({ evidenceId, metadata: m, file: FILE, collector: COLLECTOR });
    expect(r).toEqual({ type: DEPOSIT_RECORD_TYPE, evidenceId, metadata: m, file: FILE, collector: COLLECTOR });
    expect(recordDigest(r)).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('refuses declared digests that differ from the file, and a bad id', () => {
    const e = refusal(() => buildDepositRecord({ evidenceId: newEvidenceId(), metadata: sampleMetadata({ sm3: ('0x' + '33'.repeat(32)) as Hex }), file: FILE, collector: COLLECTOR }));
    expect(e.code).toBe('EVIDENCE_DIGEST_MISMATCH');
    expect(e.details).toMatchObject({ algorithm: 'sm3', expected: '0x' + '33'.repeat(32), calculated: SM3 });
    expect(refusal(() => buildDepositRecord({ evidenceId: 'ev_1', metadata: sampleMetadata(), file: FILE, collector: COLLECTOR })).code).toBe('EVIDENCE_INVALID_ID');
  });

  it('carries a verified collector signature over the claim digest', async () => {
    const wallet = Wallet.createRandom();
    const claim = sampleMetadata({ sha256: SHA, sm3: SM3 });
    const digest = claimDigest(claim);
    // The claim digest is the record digest (docs/protocol.md §2) of the metadata without its signature.
    expect(digest).toBe(recordDigest(claim));
    const signature = (await wallet.signMessage(getBytes(digest))) as Hex;
    const metadata = parseEvidenceMetadata({ ...claim, signature });
    expect(claimDigest(metadata)).toBe(digest);
    const address = verifyCollectorSignature(digest, signature, wallet.address);
    expect(address).toBe(wallet.address.toLowerCase());
    const r = buildDepositRecord({ evidenceId: newEvidenceId(), metadata, file: FILE, collector: COLLECTOR, signerAddress: address });
    expect(r.collectorSignature).toEqual({ address, digest, signature });
    expect(r.metadata).not.toHaveProperty('signature');
    expect(refusal(() => buildDepositRecord({ evidenceId: newEvidenceId(), metadata, file: FILE, collector: COLLECTOR })).code).toBe('EVIDENCE_SIGNATURE_UNVERIFIED');
    expect(refusal(() => buildDepositRecord({ evidenceId: newEvidenceId(), metadata: claim, file: FILE, collector: COLLECTOR, signerAddress: address })).code).toBe('EVIDENCE_SIGNATURE_UNVERIFIED');
  });

  it('refuses a signature by another key, over another digest, or malformed', async () => {
    const wallet = Wallet.createRandom();
    const other = Wallet.createRandom();
    const digest = claimDigest(sampleMetadata({ sha256: SHA, sm3: SM3 }));
    const sig = (await other.signMessage(getBytes(digest))) as Hex;
    const e = refusal(() => verifyCollectorSignature(digest, sig, wallet.address));
    expect(e.code).toBe('EVIDENCE_SIGNATURE_INVALID');
    expect(e.details).toMatchObject({ expected: wallet.address.toLowerCase(), calculated: other.address.toLowerCase() });
    const otherDigest = claimDigest(sampleMetadata({ sha256: SHA, sm3: SM3, title: 'changed' }));
    const sigOverDigest = (await wallet.signMessage(getBytes(digest))) as Hex;
    expect(refusal(() => verifyCollectorSignature(otherDigest, sigOverDigest, wallet.address)).code).toBe('EVIDENCE_SIGNATURE_INVALID');
    expect(refusal(() => recoverCollectorAddress(digest, ('0x' + '00'.repeat(65)) as Hex)).code).toBe('EVIDENCE_SIGNATURE_INVALID');
    expect(refusal(() => verifyCollectorSignature(digest, sig, 'not-an-address')).code).toBe('EVIDENCE_SIGNATURE_INVALID');
  });
});

describe('custody records', () => {
  const id = newEvidenceId();
  it('builds client events with the acting key, node accessed events and admin erasures', () => {
    const court = { keyId: 'key-court', role: 'court' as const };
    expect(buildCustodyRecord(id, { event: 'sealed', reason: 'court order 12', note: 'line 1\nline 2' }, court)).toEqual({ type: CUSTODY_RECORD_TYPE, evidenceId: id, event: 'sealed', reason: 'court order 12', note: 'line 1\nline 2', by: court });
    expect(buildAccessRecord(id, court)).toMatchObject({ event: 'accessed', by: court });
    expect(buildErasureRecord(id, 'PIPL art. 47 request', { keyId: 'key-admin', role: 'admin' })).toMatchObject({ event: 'erased', by: { role: 'admin' } });
  });

  it.each([
    ['a node-only event', { event: 'accessed', reason: 'x' }],
    ['erased by a client', { event: 'erased', reason: 'x' }],
    ['an unknown event', { event: 'burned', reason: 'x' }],
    ['a missing reason', { event: 'sealed' }],
    ['an extra field', { event: 'sealed', reason: 'x', actor: 'me' }],
    ['an over-long note', { event: 'annotated', reason: 'x', note: 'n'.repeat(LIMITS.note + 1) }],
  ])('refuses %s as client input', (_n, body) => {
    expect(refusal(() => parseCustodyEventInput(body)).code).toBe('EVIDENCE_INVALID_CUSTODY_EVENT');
  });

  it('has one entry kind per event', () => {
    expect(EVIDENCE_KINDS).toEqual(['evidence.deposited', 'evidence.custody.transferred', 'evidence.custody.sealed', 'evidence.custody.exported', 'evidence.custody.annotated', 'evidence.custody.withdrawn', 'evidence.custody.accessed', 'evidence.custody.erased']);
  });
});
