/**
 * The node writes its own log entries directly (makeEntry without re-reading the object, entryBytes
 * without the general JCS serializer when every string is plain ASCII). These hold both paths to the
 * general ones: the same entry, the same error, the same canonical bytes, for any input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, entryBytes, makeEntry, parseEntry, toHex, type Hex, type LogEntry } from '../../node/protocol';

const outcome = (f: () => unknown): { ok: unknown } | { err: string } => {
  try {
    return { ok: f() };
  } catch (e) {
    return { err: `${(e as Error).name}: ${(e as Error).message}` };
  }
};

const weird = fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udc00', '张', 'a', '.', '-', 'Z'), maxLength: 10 });
const kind = fc.oneof(fc.constantFrom('invoice.issued', 'evidence.custody.sealed', 'state.root', 'Invoice.issued', 'invoice', 'a.b-c.d9'), weird);
const subject = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex), fc.constantFrom('', 'x'.repeat(256), 'x'.repeat(257), 'state@12'), weird, fc.string({ unit: 'binary', maxLength: 30 }));
const commitment = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex), fc.constantFrom('0x' + 'AB'.repeat(32), '0x12', ''), weird);
const at = fc.oneof(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), fc.date(), fc.constant(new Date(Number.NaN)));

describe('entries written by the node', () => {
  it('makeEntry gives what parseEntry of the same object gives, or the same error', () => {
    fc.assert(
      fc.property(kind, subject, commitment, at, (k, s, c, d) => {
        const direct = outcome(() => makeEntry(k, s, c as Hex, d));
        const general = outcome(() => {
          if (Number.isNaN(d.getTime())) return makeEntry(k, s, c as Hex, d); // the Date check comes first on both
          return parseEntry({ v: 1, kind: k, subject: s, commitment: c, at: d.toISOString() });
        });
        expect(direct).toEqual(general);
      }),
      { numRuns: 3000 },
    );
  });

  it('entryBytes gives the general JCS bytes for any entry-shaped value, or the same error', () => {
    const entry = fc.record({ v: fc.constantFrom(1, 2, '1'), kind, subject, commitment, at: fc.oneof(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), weird) });
    fc.assert(
      fc.property(entry, fc.option(fc.string(), { nil: undefined }), (e, extra) => {
        const value = (extra === undefined ? e : { ...e, extra }) as unknown as LogEntry;
        const direct = outcome(() => toHex(entryBytes(value)));
        const general = outcome(() => toHex(canonicalBytes(value)));
        expect(direct).toEqual(general);
      }),
      { numRuns: 3000 },
    );
  });

  it('writes the bytes a fixed entry has always had', () => {
    const e = makeEntry('invoice.issued', '0x' + 'ab'.repeat(32), ('0x' + 'cd'.repeat(32)) as Hex, new Date('2026-12-03T10:00:00.123Z'));
    expect(Buffer.from(entryBytes(e)).toString('utf8')).toBe(`{"at":"2026-12-03T10:00:00.123Z","commitment":"0x${'cd'.repeat(32)}","kind":"invoice.issued","subject":"0x${'ab'.repeat(32)}","v":1}`);
    expect(() => makeEntry('invoice.issued', 'x', ('0x' + 'cd'.repeat(32)) as Hex, new Date('+010000-01-01T00:00:00Z'))).toThrow(/must be an existing instant/);
  });
});
