/**
 * Record digest, commitment, log entry and logId (docs/protocol.md §2–3) against an independent
 * computation with node:crypto (tests may use it; node/protocol may not) and hand-written JCS text.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  COMMITMENT_TAG,
  commitment,
  entryBytes,
  entryLeafHash,
  logIdFor,
  makeEntry,
  parseEntry,
  ProtocolError,
  recordDigest,
  type Hex,
} from '../../node/protocol';

function sha256hex(...parts: (string | Buffer)[]): Hex {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
  return `0x${h.digest('hex')}`;
}
const hexBuf = (h: string): Buffer => Buffer.from(h.slice(2), 'hex');

function thrown(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error('expected a ProtocolError');
}

const record = {
  type: 'invoice',
  number: '24512000000000000001',
  sellerTaxId: '91510100MA6CXXXX0X',
  buyer: { name: '成都某某科技有限公司', taxId: '91510100MA61234567' },
  totalFen: 1130000,
  items: [{ name: '技术服务费', amountFen: 1000000, taxFen: 130000 }],
};
// The JCS text written by hand: keys sorted, no whitespace, non-ASCII as UTF-8.
const recordJcs =
  '{"buyer":{"name":"成都某某科技有限公司","taxId":"91510100MA61234567"},' +
  '"items":[{"amountFen":1000000,"name":"技术服务费","taxFen":130000}],' +
  '"number":"24512000000000000001","sellerTaxId":"91510100MA6CXXXX0X","totalFen":1130000,"type":"invoice"}';
const salt = `0x${'a5'.repeat(32)}` as Hex;

describe('recordDigest', () => {
  it('is SHA-256 of the JCS bytes', () => {
    expect(recordDigest(record)).toBe(sha256hex(recordJcs));
  });
  it('does not depend on member order', () => {
    const reordered = { totalFen: 1130000, items: record.items, type: 'invoice', buyer: { taxId: record.buyer.taxId, name: record.buyer.name }, sellerTaxId: record.sellerTaxId, number: record.number };
    expect(recordDigest(reordered)).toBe(recordDigest(record));
  });
  it('changes with one fen', () => {
    expect(recordDigest({ ...record, totalFen: 1130001 })).not.toBe(recordDigest(record));
  });
  it('refuses a float-rounded amount rather than hashing it', () => {
    expect(thrown(() => recordDigest({ totalFen: 2 ** 53 + 2 })).code).toBe('INVALID_INPUT');
  });
});

describe('commitment', () => {
  it('is SHA-256("tianfu/commitment/v1" || 0x00 || salt || recordDigest)', () => {
    const d = recordDigest(record);
    expect(COMMITMENT_TAG).toBe('tianfu/commitment/v1');
    expect(commitment(salt, d)).toBe(sha256hex('tianfu/commitment/v1', Buffer.from([0]), hexBuf(salt), hexBuf(d)));
  });
  it('a fixed known answer (all-zero salt, digest of {})', () => {
    const zero = `0x${'00'.repeat(32)}` as Hex;
    const d = recordDigest({});
    expect(d).toBe(sha256hex('{}'));
    expect(commitment(zero, d)).toBe(sha256hex(Buffer.concat([Buffer.from('tianfu/commitment/v1'), Buffer.alloc(33), hexBuf(d)])));
  });
  it('differs per salt, so equal records are unlinkable in the log', () => {
    const d = recordDigest(record);
    expect(commitment(salt, d)).not.toBe(commitment(`0x${'a4'.repeat(32)}` as Hex, d));
  });
  it.each([
    ['short salt', `0x${'a5'.repeat(31)}`, `0x${'00'.repeat(32)}`, 'salt'],
    ['uppercase salt', `0x${'A5'.repeat(32)}`, `0x${'00'.repeat(32)}`, 'salt'],
    ['salt without 0x', 'a5'.repeat(32), `0x${'00'.repeat(32)}`, 'salt'],
    ['long digest', salt, `0x${'00'.repeat(33)}`, 'recordDigest'],
  ])('refuses a %s', (_n, s, d, what) => {
    const e = thrown(() => commitment(s as Hex, d as Hex));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain(what);
  });
});

const good = { v: 1, kind: 'invoice.issued', subject: `0x${'11'.repeat(32)}`, commitment: `0x${'22'.repeat(32)}`, at: '2025-01-02T03:04:05.678Z' };

describe('log entry', () => {
  it('entry bytes are the JCS text and the leaf hash is SHA-256(0x00 || bytes)', () => {
    const e = parseEntry(good);
    const jcs = `{"at":"2025-01-02T03:04:05.678Z","commitment":"0x${'22'.repeat(32)}","kind":"invoice.issued","subject":"0x${'11'.repeat(32)}","v":1}`;
    expect(Buffer.from(entryBytes(e)).toString('utf8')).toBe(jcs);
    expect(entryLeafHash(e)).toBe(sha256hex(Buffer.from([0]), jcs));
  });

  it('makeEntry builds the same entry from a Date', () => {
    expect(makeEntry('invoice.issued', good.subject, good.commitment as Hex, new Date(good.at))).toEqual(good);
    expect(thrown(() => makeEntry('invoice.issued', good.subject, good.commitment as Hex, new Date('nope'))).code).toBe('INVALID_INPUT');
  });

  it.each([
    ['version 2', { ...good, v: 2 }],
    ['version "1" as a string', { ...good, v: '1' }],
    ['no version', (({ v: _v, ...rest }) => rest)(good)],
  ])('refuses %s as UNKNOWN_FORMAT', (_n, value) => {
    expect(thrown(() => parseEntry(value)).code).toBe('UNKNOWN_FORMAT');
  });

  const malformed: [string, unknown, string][] = [
    ['an array', [good], 'must be an object'],
    ['null', null, 'must be an object'],
    ['an extra field', { ...good, amountFen: 1 }, 'fields must be exactly'],
    ['personal data riding along', { ...good, buyerName: '张三' }, 'fields must be exactly'],
    ['a missing field', (({ at: _at, ...rest }) => rest)(good), 'fields must be exactly'],
    ['an uppercase kind', { ...good, kind: 'Invoice.Issued' }, 'entry.kind'],
    ['an undotted kind', { ...good, kind: 'invoice' }, 'entry.kind'],
    ['a trailing dot in kind', { ...good, kind: 'invoice.' }, 'entry.kind'],
    ['a numeric kind', { ...good, kind: 5 }, 'entry.kind'],
    ['an empty subject', { ...good, subject: '' }, 'entry.subject'],
    ['a 257-character subject', { ...good, subject: 'x'.repeat(257) }, 'entry.subject'],
    ['an uppercase commitment', { ...good, commitment: `0x${'AB'.repeat(32)}` }, 'entry.commitment'],
    ['a short commitment', { ...good, commitment: `0x${'22'.repeat(31)}` }, 'entry.commitment'],
    ['a commitment without 0x', { ...good, commitment: '22'.repeat(32) }, 'entry.commitment'],
    ['at without milliseconds', { ...good, at: '2025-01-02T03:04:05Z' }, 'entry.at'],
    ['at with an offset', { ...good, at: '2025-01-02T11:04:05.678+08:00' }, 'entry.at'],
    ['at as epoch ms', { ...good, at: 1735787045678 }, 'entry.at'],
    ['at in month 13', { ...good, at: '2025-13-02T03:04:05.678Z' }, 'entry.at'],
    ['at on February 30 (V8 would read March 1)', { ...good, at: '2024-02-30T00:00:00.000Z' }, 'entry.at'],
    ['at on February 29 of a common year', { ...good, at: '2023-02-29T00:00:00.000Z' }, 'entry.at'],
    ['at 24:00 (another spelling of the next midnight)', { ...good, at: '2024-01-01T24:00:00.000Z' }, 'entry.at'],
  ];
  it.each(malformed)('refuses %s as MALFORMED', (_n, value, message) => {
    const e = thrown(() => parseEntry(value));
    expect(e.code).toBe('MALFORMED');
    expect(e.message).toContain(message);
  });

  it('accepts a leap day and a 256-character subject', () => {
    expect(parseEntry({ ...good, at: '2024-02-29T23:59:59.999Z' }).at).toBe('2024-02-29T23:59:59.999Z');
    expect(parseEntry({ ...good, subject: 's'.repeat(256) }).subject).toHaveLength(256);
  });

  it('returns a fresh object carrying only the five fields', () => {
    const input = { ...good };
    const e = parseEntry(input);
    expect(e).not.toBe(input);
    expect(Object.keys(e).sort()).toEqual(['at', 'commitment', 'kind', 'subject', 'v']);
  });
});

describe('logIdFor', () => {
  it('is SHA-256("tianfu/log/v1" || 0x00 || name)', () => {
    expect(logIdFor('tianfu-main')).toBe(sha256hex('tianfu/log/v1', Buffer.from([0]), 'tianfu-main'));
    expect(logIdFor('四川自贸区')).toBe(sha256hex('tianfu/log/v1', Buffer.from([0]), '四川自贸区'));
  });
  it('distinct names give distinct 32-byte ids', () => {
    expect(logIdFor('a')).not.toBe(logIdFor('b'));
    expect(logIdFor('a')).toMatch(/^0x[0-9a-f]{64}$/);
  });
  it('refuses empty and over-long names', () => {
    expect(thrown(() => logIdFor('')).code).toBe('INVALID_INPUT');
    expect(thrown(() => logIdFor('x'.repeat(129))).code).toBe('INVALID_INPUT');
    expect(logIdFor('x'.repeat(128))).toMatch(/^0x[0-9a-f]{64}$/);
  });
});
