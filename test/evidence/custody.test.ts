import { Wallet, getBytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import { DomainError, type Actor } from '../../node/domain/types';
import { canRead, canView, evidenceRules, readRefusal, replayEntries, replayRecords, type EvidenceState } from '../../node/evidence/custody';
import {
  CUSTODY_RECORD_TYPE,
  buildAccessRecord,
  buildCustodyRecord,
  buildDepositRecord,
  buildErasureRecord,
  claimDigest,
  custodyKind,
  newEvidenceId,
  parseEvidenceMetadata,
  type ClientCustodyEvent,
  type CustodyEvent,
  type EvidenceMetadata,
} from '../../node/evidence/model';
import type { Hex } from '../../node/protocol/bytes';
import { makeEntry, type LogEntry } from '../../node/protocol/record';

const SHA = ('0x' + '11'.repeat(32)) as Hex;
const SM3 = ('0x' + '22'.repeat(32)) as Hex;
const FILE = { sha256: SHA, sm3: SM3, size: 99 };

const collector: Actor = { keyId: 'key-col-1', role: 'collector', name: 'Platform A' };
const otherCollector: Actor = { keyId: 'key-col-2', role: 'collector' };
const court: Actor = { keyId: 'key-court-1', role: 'court', name: 'Hangzhou Internet Court' };
const admin: Actor = { keyId: 'key-admin', role: 'admin' };
const auditor: Actor = { keyId: 'key-aud', role: 'auditor' };
const issuer: Actor = { keyId: 'key-iss', role: 'issuer', taxIds: ['91330100MA27XXXX0X'] };
const buyer: Actor = { keyId: 'key-buy', role: 'buyer' };

const T0 = Date.parse('2025-03-02T08:00:00.000Z');
let clock = T0;
const tick = (): Date => new Date((clock += 1000));

function metadata(over: Partial<EvidenceMetadata> = {}): EvidenceMetadata {
  return parseEvidenceMetadata({
    title: 'listing page',
    mediaType: 'text/html',
    fileName: 'page.html',
    method: 'web-page',
    source: { url: 'https://shop.example.com/item/42' },
    capturedAt: '2025-03-01T10:15:00+08:00',
    environment: { tool: 'capture', toolVersion: '2.0' },
    ...over,
  });
}

function deposit(id = newEvidenceId(), by: Actor = collector): EvidenceState {
  return evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record: buildDepositRecord({ evidenceId: id, metadata: metadata(), file: FILE, collector: by }), state: undefined, at: tick(), actor: by });
}

function custody(state: EvidenceState, event: ClientCustodyEvent, actor: Actor): EvidenceState {
  const record = buildCustodyRecord(state.evidenceId, { event, reason: `${event} for the test` }, actor);
  return evidenceRules.apply({ kind: custodyKind(event), subject: state.evidenceId, record, state, at: tick(), actor });
}

function access(state: EvidenceState, reader: Actor): EvidenceState {
  return evidenceRules.apply({ kind: custodyKind('accessed'), subject: state.evidenceId, record: buildAccessRecord(state.evidenceId, reader), state, at: tick(), actor: null });
}

function erase(state: EvidenceState, actor: Actor): EvidenceState {
  return evidenceRules.apply({ kind: custodyKind('erased'), subject: state.evidenceId, record: buildErasureRecord(state.evidenceId, 'erasure request', actor), state, at: tick(), actor });
}

function refused(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return (err as DomainError).code;
  }
  throw new Error('expected the transition to be refused');
}

describe('deposit', () => {
  it('creates the state from a collector deposit', () => {
    const s = deposit();
    expect(s).toMatchObject({ collector: { keyId: collector.keyId, role: 'collector' }, file: FILE, sealed: false, withdrawn: false, erased: false });
    expect(Object.values(s.counts).every((n) => n === 0)).toBe(true);
  });

  it('is refused for any other role, for the node, and a second time', () => {
    const id = newEvidenceId();
    const record = buildDepositRecord({ evidenceId: id, metadata: metadata(), file: FILE, collector });
    for (const actor of [court, admin, auditor, issuer, buyer]) {
      expect(refused(() => evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record, state: undefined, at: tick(), actor }))).toBe('EVIDENCE_FORBIDDEN');
    }
    expect(refused(() => evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record, state: undefined, at: tick(), actor: null }))).toBe('EVIDENCE_FORBIDDEN');
    const s = evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record, state: undefined, at: tick(), actor: collector });
    expect(refused(() => evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record, state: s, at: tick(), actor: collector }))).toBe('EVIDENCE_ALREADY_DEPOSITED');
  });

  it('is refused when the record names another key or another subject, or is malformed', () => {
    const id = newEvidenceId();
    const record = buildDepositRecord({ evidenceId: id, metadata: metadata(), file: FILE, collector });
    expect(refused(() => evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record, state: undefined, at: tick(), actor: otherCollector }))).toBe('EVIDENCE_ACTOR_MISMATCH');
    expect(refused(() => evidenceRules.apply({ kind: 'evidence.deposited', subject: newEvidenceId(), record, state: undefined, at: tick(), actor: collector }))).toBe('EVIDENCE_INVALID_RECORD');
    expect(refused(() => evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record: { ...record, extra: true }, state: undefined, at: tick(), actor: collector }))).toBe('EVIDENCE_INVALID_RECORD');
    const lying = { ...record, metadata: { ...record.metadata, sha256: ('0x' + '99'.repeat(32)) as Hex } };
    expect(refused(() => evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record: lying, state: undefined, at: tick(), actor: collector }))).toBe('EVIDENCE_DIGEST_MISMATCH');
  });

  it('refuses a capture time after the deposit time (beyond 5 minutes of skew)', () => {
    const id = newEvidenceId();
    const at = new Date('2025-03-02T08:00:00.000Z');
    const rec = (capturedAt: string) => buildDepositRecord({ evidenceId: id, metadata: metadata({ capturedAt }), file: FILE, collector });
    expect(refused(() => evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record: rec('2025-03-02T16:06:00+08:00'), state: undefined, at, actor: collector }))).toBe('EVIDENCE_CAPTURED_AFTER_DEPOSIT');
    expect(evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record: rec('2025-03-02T16:04:00+08:00'), state: undefined, at, actor: collector }).evidenceId).toBe(id);
  });

  it('re-checks a collector signature carried in the record', async () => {
    const wallet = Wallet.createRandom();
    const claim = metadata({ sha256: SHA, sm3: SM3 });
    const signature = (await wallet.signMessage(getBytes(claimDigest(claim)))) as Hex;
    const id = newEvidenceId();
    const record = buildDepositRecord({ evidenceId: id, metadata: { ...claim, signature }, file: FILE, collector, signerAddress: wallet.address });
    expect(evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record, state: undefined, at: tick(), actor: collector }).evidenceId).toBe(id);
    const forged = { ...record, collectorSignature: { ...record.collectorSignature!, address: Wallet.createRandom().address.toLowerCase() } };
    expect(refused(() => evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record: forged, state: undefined, at: tick(), actor: collector }))).toBe('EVIDENCE_SIGNATURE_INVALID');
    const retitled = { ...record, metadata: { ...record.metadata, title: 'something else' } };
    expect(refused(() => evidenceRules.apply({ kind: 'evidence.deposited', subject: id, record: retitled, state: undefined, at: tick(), actor: collector }))).toBe('EVIDENCE_SIGNATURE_INVALID');
  });
});

describe('custody events: who may add which', () => {
  // [event, actor, expected: null = allowed, else the refusal code] on a fresh deposit.
  const cases: [ClientCustodyEvent, Actor, string | null][] = [
    ['transferred', collector, null],
    ['transferred', court, null],
    ['transferred', otherCollector, 'EVIDENCE_FORBIDDEN'],
    ['transferred', auditor, 'EVIDENCE_FORBIDDEN'],
    ['sealed', court, null],
    ['sealed', collector, 'EVIDENCE_FORBIDDEN'],
    ['sealed', admin, 'EVIDENCE_FORBIDDEN'],
    ['exported', collector, null],
    ['exported', court, null],
    ['exported', otherCollector, 'EVIDENCE_FORBIDDEN'],
    ['exported', issuer, 'EVIDENCE_FORBIDDEN'],
    ['annotated', collector, null],
    ['annotated', court, null],
    ['annotated', auditor, 'EVIDENCE_FORBIDDEN'],
    ['annotated', buyer, 'EVIDENCE_FORBIDDEN'],
    ['withdrawn', collector, null],
    ['withdrawn', court, null],
    ['withdrawn', otherCollector, 'EVIDENCE_FORBIDDEN'],
    ['withdrawn', admin, 'EVIDENCE_FORBIDDEN'],
  ];
  it.each(cases)('%s by %o → %s', (event, actor, expected) => {
    const s = deposit();
    if (expected === null) {
      const next = custody(s, event, actor);
      expect(next.counts[event]).toBe(1);
      expect(next.lastAt > s.lastAt).toBe(true);
    } else {
      expect(refused(() => custody(s, event, actor))).toBe(expected);
    }
  });

  it('refuses a client posting accessed or erased, and the node posting client events', () => {
    const s = deposit();
    const acc = buildAccessRecord(s.evidenceId, court);
    expect(refused(() => evidenceRules.apply({ kind: custodyKind('accessed'), subject: s.evidenceId, record: acc, state: s, at: tick(), actor: court }))).toBe('EVIDENCE_NODE_ONLY_EVENT');
    expect(refused(() => erase(s, collector))).toBe('EVIDENCE_FORBIDDEN');
    expect(refused(() => erase(s, court))).toBe('EVIDENCE_FORBIDDEN');
    const sealedRec = buildCustodyRecord(s.evidenceId, { event: 'sealed', reason: 'x' }, court);
    expect(refused(() => evidenceRules.apply({ kind: custodyKind('sealed'), subject: s.evidenceId, record: sealedRec, state: s, at: tick(), actor: null }))).toBe('EVIDENCE_FORBIDDEN');
  });

  it('refuses a record attributed to another key, a kind/event mismatch, and custody before deposit', () => {
    const s = deposit();
    const rec = buildCustodyRecord(s.evidenceId, { event: 'annotated', reason: 'x' }, court);
    expect(refused(() => evidenceRules.apply({ kind: custodyKind('annotated'), subject: s.evidenceId, record: rec, state: s, at: tick(), actor: collector }))).toBe('EVIDENCE_ACTOR_MISMATCH');
    expect(refused(() => evidenceRules.apply({ kind: custodyKind('sealed'), subject: s.evidenceId, record: rec, state: s, at: tick(), actor: court }))).toBe('EVIDENCE_INVALID_RECORD');
    expect(refused(() => evidenceRules.apply({ kind: custodyKind('annotated'), subject: s.evidenceId, record: rec, state: undefined, at: tick(), actor: court }))).toBe('EVIDENCE_NOT_FOUND');
    expect(refused(() => evidenceRules.apply({ kind: 'evidence.custody', subject: s.evidenceId, record: rec, state: s, at: tick(), actor: court }))).toBe('EVIDENCE_INVALID_RECORD');
    expect(refused(() => evidenceRules.apply({ kind: custodyKind('annotated'), subject: s.evidenceId, record: rec, state: s, at: new Date(T0 - 1), actor: court }))).toBe('EVIDENCE_TIME_REVERSED');
  });
});

describe('sealed', () => {
  it('can only be read by a court; only a court acts on it, but the depositor may annotate', () => {
    let s = custody(deposit(), 'sealed', court);
    expect(s.sealed).toBe(true);
    expect(canRead(s, court)).toBe(true);
    expect(canRead(s, collector)).toBe(false);
    expect(readRefusal(s, collector)?.code).toBe('EVIDENCE_SEALED');
    expect(refused(() => access(s, collector))).toBe('EVIDENCE_SEALED');
    s = access(s, court);
    expect(s.counts.accessed).toBe(1);
    for (const event of ['transferred', 'exported', 'withdrawn'] as const) expect(refused(() => custody(s, event, collector))).toBe('EVIDENCE_SEALED');
    expect(refused(() => custody(s, 'sealed', court))).toBe('EVIDENCE_ALREADY_SEALED');
    s = custody(s, 'annotated', collector);
    s = custody(s, 'exported', court);
    s = custody(s, 'transferred', court);
    expect(s.counts).toMatchObject({ sealed: 1, accessed: 1, annotated: 1, exported: 1, transferred: 1 });
  });
});

describe('reading', () => {
  it('court and the depositing collector may read an open item; nobody else', () => {
    const s = deposit();
    expect(canRead(s, court)).toBe(true);
    expect(canRead(s, collector)).toBe(true);
    for (const r of [otherCollector, auditor, admin, issuer, buyer]) {
      expect(canRead(s, r)).toBe(false);
      expect(refused(() => access(s, r))).toBe('EVIDENCE_FORBIDDEN');
    }
    // A key id alone is not enough: the depositor's key id under another role is not the depositor.
    expect(canRead(s, { keyId: collector.keyId, role: 'auditor' })).toBe(false);
    expect(access(access(s, collector), court).counts.accessed).toBe(2);
  });

  it('metadata is visible to court, auditor, admin and the depositor only', () => {
    const s = deposit();
    for (const v of [court, auditor, admin, collector]) expect(canView(s, v)).toBe(true);
    for (const v of [otherCollector, issuer, buyer]) expect(canView(s, v)).toBe(false);
  });
});

describe('withdrawn', () => {
  it('allows nothing after it except a court annotation and the admin erasure', () => {
    const s = custody(deposit(), 'withdrawn', collector);
    const events: ClientCustodyEvent[] = ['transferred', 'sealed', 'exported', 'annotated', 'withdrawn'];
    for (const event of events) for (const actor of [collector, court]) {
      if (event === 'annotated' && actor === court) continue;
      expect(refused(() => custody(s, event, actor)), `${event} by ${actor.role}`).toBe('EVIDENCE_WITHDRAWN');
    }
    expect(refused(() => access(s, court))).toBe('EVIDENCE_WITHDRAWN');
    expect(refused(() => access(s, collector))).toBe('EVIDENCE_WITHDRAWN');
    expect(canRead(s, court)).toBe(false);
    const annotated = custody(s, 'annotated', court);
    expect(annotated.counts.annotated).toBe(1);
    const erased = erase(annotated, admin);
    expect(erased.erased).toBe(true);
  });
});

describe('erased', () => {
  it('by an admin only, once; afterwards only a court annotation, and no reads', () => {
    const s = erase(custody(deposit(), 'sealed', court), admin);
    expect(s).toMatchObject({ erased: true, sealed: true });
    expect(refused(() => erase(s, admin))).toBe('EVIDENCE_ERASED');
    expect(refused(() => access(s, court))).toBe('EVIDENCE_ERASED');
    expect(readRefusal(s, court)?.code).toBe('EVIDENCE_ERASED');
    for (const event of ['transferred', 'exported', 'withdrawn', 'sealed'] as const) expect(refused(() => custody(s, event, court))).toBe('EVIDENCE_ERASED');
    expect(refused(() => custody(s, 'annotated', collector))).toBe('EVIDENCE_ERASED');
    expect(custody(s, 'annotated', court).counts.annotated).toBe(1);
  });
});

describe('state is JSON', () => {
  it('round-trips through JSON unchanged (the sequencer may persist it)', () => {
    const s = access(custody(deposit(), 'annotated', court), court);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(s.counts).toEqual({ transferred: 0, sealed: 0, exported: 0, annotated: 1, withdrawn: 0, accessed: 1, erased: 0 });
  });
});

describe('replayEntries (public log only)', () => {
  const c = ('0x' + '00'.repeat(32)) as Hex;
  let t = Date.parse('2025-03-02T00:00:00.000Z');
  const e = (kind: string, subject: string, at?: number): LogEntry => makeEntry(kind, subject, c, new Date(at ?? (t += 1000)));
  const k = (ev: CustodyEvent): string => custodyKind(ev);

  it('finds nothing wrong in a lawful history, and ignores other domains', () => {
    const a = newEvidenceId();
    const b = newEvidenceId();
    const entries = [
      e('evidence.deposited', a),
      e('invoice.issued', '0x' + 'ab'.repeat(32)),
      e(k('accessed'), a),
      e('evidence.deposited', b),
      e(k('sealed'), a),
      e(k('accessed'), a),
      e(k('withdrawn'), b),
      e(k('annotated'), b),
      e(k('erased'), b),
      e(k('annotated'), b),
    ];
    expect(replayEntries(entries)).toEqual([]);
  });

  it('reports each violation with its index, subject and code', () => {
    const a = newEvidenceId();
    const b = newEvidenceId();
    const c2 = newEvidenceId();
    const entries = [
      e(k('annotated'), a), // 0 custody before deposit
      e('evidence.deposited', a), // 1
      e('evidence.deposited', a), // 2 duplicate
      e(k('sealed'), a), // 3
      e(k('sealed'), a), // 4 duplicate seal
      e(k('withdrawn'), a), // 5
      e(k('accessed'), a), // 6 after withdrawn
      e(k('annotated'), a), // 7 fine
      e(k('erased'), a), // 8 fine (erasure after withdrawal)
      e(k('exported'), a), // 9 after erased
      e('evidence.deposited', b), // 10
      e(k('annotated'), b, Date.parse('2025-01-01T00:00:00.000Z')), // 11 time reversed
      e('evidence.shredded', b), // 12 unknown kind
      e('evidence.deposited', 'not-an-id'), // 13 bad subject
      e('evidence.deposited', c2), // 14
      e(k('erased'), c2), // 15
      e(k('erased'), c2), // 16 after erased
    ];
    const v = replayEntries(entries.map((entry, i) => ({ index: 100 + i, entry })));
    expect(v.map((x) => [x.index - 100, x.code])).toEqual([
      [0, 'CUSTODY_BEFORE_DEPOSIT'],
      [2, 'DUPLICATE_DEPOSIT'],
      [4, 'DUPLICATE_SEAL'],
      [6, 'EVENT_AFTER_WITHDRAWN'],
      [9, 'EVENT_AFTER_ERASED'],
      [11, 'TIME_REVERSED'],
      [12, 'UNKNOWN_KIND'],
      [13, 'BAD_SUBJECT'],
      [16, 'EVENT_AFTER_ERASED'],
    ]);
    expect(v[0]).toMatchObject({ subject: a, kind: k('annotated') });
    expect(v.every((x) => x.message.length > 0)).toBe(true);
  });

  it('agrees with the record-level rules on what a refused history looks like', () => {
    // Every event the rules refuse after withdrawal shows up in the entry replay too.
    const id = newEvidenceId();
    for (const ev of ['transferred', 'sealed', 'exported', 'withdrawn', 'accessed'] as const) {
      const v = replayEntries([e('evidence.deposited', id), e(k('withdrawn'), id), e(k(ev), id)]);
      expect(v.map((x) => x.code), ev).toEqual(['EVENT_AFTER_WITHDRAWN']);
    }
  });
});

it('custody record type constant is what the builders write', () => {
  expect(buildAccessRecord(newEvidenceId(), court).type).toBe(CUSTODY_RECORD_TYPE);
});

describe('replayRecords (auditor with an export)', () => {
  const commit = ('0x' + '00'.repeat(32)) as Hex;
  let t = Date.parse('2025-03-03T00:00:00.000Z');
  const item = (index: number, kind: string, subject: string, record: Record<string, unknown> | null) => ({ index, entry: makeEntry(kind, subject, commit, new Date((t += 1000))), record });

  it('accepts a lawful history and reports a sealed read by the collector and a forged actor', () => {
    const a = newEvidenceId();
    const dep = buildDepositRecord({ evidenceId: a, metadata: metadata(), file: FILE, collector });
    const items = [
      item(0, 'evidence.deposited', a, dep),
      item(1, custodyKind('accessed'), a, buildAccessRecord(a, collector)),
      item(2, custodyKind('sealed'), a, buildCustodyRecord(a, { event: 'sealed', reason: 'order' }, court)),
      item(3, custodyKind('accessed'), a, buildAccessRecord(a, collector)), // a collector read a sealed item
      item(4, custodyKind('accessed'), a, buildAccessRecord(a, court)),
      item(5, custodyKind('withdrawn'), a, buildCustodyRecord(a, { event: 'withdrawn', reason: 'x' }, otherCollector)),
    ];
    const r = replayRecords(items);
    expect(r.violations.map((v) => [v.index, v.code])).toEqual([
      [3, 'EVIDENCE_SEALED'],
      [5, 'EVIDENCE_FORBIDDEN'],
    ]);
    expect(r.unchecked).toEqual([]);
  });

  it('skips subjects whose deposit record was erased, and follows shredded custody records by kind', () => {
    const a = newEvidenceId();
    const b = newEvidenceId();
    const depB = buildDepositRecord({ evidenceId: b, metadata: metadata(), file: FILE, collector });
    const r = replayRecords([
      item(0, 'evidence.deposited', a, null),
      item(1, custodyKind('accessed'), a, buildAccessRecord(a, otherCollector)),
      item(2, 'evidence.deposited', b, depB),
      item(3, custodyKind('withdrawn'), b, null),
      item(4, custodyKind('exported'), b, buildCustodyRecord(b, { event: 'exported', reason: 'x' }, court)),
    ]);
    expect(r.unchecked).toEqual([a]);
    expect(r.violations.map((v) => [v.index, v.code])).toEqual([[4, 'EVIDENCE_WITHDRAWN']]);
  });
});
