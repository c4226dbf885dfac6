/**
 * The sparse Merkle tree against a slow reference rebuilt from scratch (the definition in
 * node/protocol/state-map.ts, recursively over the whole key set), after random operation sequences;
 * proofs of presence and absence for every key verify, and single changes to a proof are refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_SUBTREE,
  MapProofError,
  keyBit,
  mapInternalNode,
  mapKey,
  mapLeafNode,
  mapNodeHash,
  mapRootFromProof,
  toHex,
  utf8,
  sha256,
  canonicalJson,
  leafJcs,
  leafValueHash,
  nextStateLeaf,
  type Hex,
  type MapProof,
  type StateLeaf,
} from '../../node/protocol';
import { MemoryMap, positionOf, type MapUpdate } from '../../node/state/smt';

/** The reference: the root recomputed from the full (key → valueHash) set, no stored nodes. */
function referenceRoot(entries: Map<string, Uint8Array>, keys: Map<string, Uint8Array>): Uint8Array {
  const all = [...entries.keys()].map((k) => ({ key: keys.get(k)!, value: entries.get(k)! }));
  const rec = (depth: number, items: typeof all): Uint8Array => {
    if (items.length === 0) return EMPTY_SUBTREE;
    if (items.length === 1) return mapNodeHash(mapLeafNode(items[0]!.key, items[0]!.value));
    const l = items.filter((i) => keyBit(i.key, depth) === 0);
    const r = items.filter((i) => keyBit(i.key, depth) === 1);
    return mapNodeHash(mapInternalNode(rec(depth + 1, l), rec(depth + 1, r)));
  };
  return rec(0, all);
}

const value = (s: string): Uint8Array => sha256(utf8(s));

describe('sparse Merkle tree (state map)', () => {
  it('gives the reference root after random sequences of grouped updates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }),
        async (groups) => {
          const m = new MemoryMap();
          const current = new Map<string, Uint8Array>();
          const keys = new Map<string, Uint8Array>();
          for (const g of groups) {
            const ups: MapUpdate[] = [];
            for (const [s, v] of g) {
              const subject = `subject-${s}`;
              const key = mapKey(subject);
              keys.set(subject, key);
              const vh = value(`${subject}/${v}/${current.size}`);
              current.set(subject, vh);
              ups.push({ key, valueHash: vh });
            }
            const root = m.update(ups);
            expect(root).toBe(toHex(referenceRoot(current, keys)));
          }
          // Every present key proves presence with its value; absent keys prove absence.
          for (const [subject, vh] of current) {
            const key = keys.get(subject)!;
            const p = await m.proof(key);
            expect(p.terminal).toEqual({ type: 'leaf', key: toHex(key), valueHash: toHex(vh) });
            expect(toHex(mapRootFromProof(key, p))).toBe(m.root);
          }
          for (let s = 61; s < 66; s++) {
            const key = mapKey(`subject-${s}`);
            const p = await m.proof(key);
            expect(p.terminal.type === 'empty' || p.terminal.key !== toHex(key)).toBe(true);
            expect(toHex(mapRootFromProof(key, p))).toBe(m.root);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is independent of the order and grouping of updates', () => {
    const subjects = Array.from({ length: 200 }, (_, i) => `s${i}`);
    const a = new MemoryMap();
    a.update(subjects.map((s) => ({ key: mapKey(s), valueHash: value(s) })));
    const b = new MemoryMap();
    for (const s of [...subjects].reverse()) b.update([{ key: mapKey(s), valueHash: value(s) }]);
    expect(a.root).toBe(b.root);
  });

  it('has proofs of O(log n) siblings and refuses any single changed sibling', async () => {
    const m = new MemoryMap();
    const n = 4096;
    m.update(Array.from({ length: n }, (_, i) => ({ key: mapKey(`k${i}`), valueHash: value(`v${i}`) })));
    let max = 0;
    for (let i = 0; i < 64; i++) max = Math.max(max, (await m.proof(mapKey(`k${i}`))).siblings.length);
    expect(max).toBeLessThanOrEqual(2 * Math.log2(n));
    const key = mapKey('k7');
    const p = await m.proof(key);
    for (let j = 0; j < p.siblings.length; j++) {
      const bad: MapProof = { ...p, siblings: p.siblings.map((s, k) => (k === j ? (toHex(sha256(utf8(s))) as typeof s) : s)) };
      expect(toHex(mapRootFromProof(key, bad))).not.toBe(m.root);
    }
    // A truncated proof cannot end in our leaf at the wrong depth and still give the root.
    const truncated: MapProof = { ...p, siblings: p.siblings.slice(1) };
    expect(toHex(mapRootFromProof(key, truncated))).not.toBe(m.root);
    // A terminal leaf that is not on the key's path is refused outright.
    const other = await m.proof(mapKey('k8'));
    const wrong: MapProof = { siblings: p.siblings, terminal: other.terminal };
    if (other.terminal.type === 'leaf') expect(() => mapRootFromProof(key, wrong)).toThrow(MapProofError);
  });
});

describe('node positions and leaf hashing (formats on disk and in proofs)', () => {
  it('names positions as before: 3 hex digits of depth, then the key bits above the node, the rest zeroed', () => {
    const key = new Uint8Array(32).fill(0xff);
    key[0] = 0xab;
    key[1] = 0xcd;
    expect(positionOf(key, 0)).toBe('000');
    expect(positionOf(key, 1)).toBe('00180');
    expect(positionOf(key, 8)).toBe('008ab');
    expect(positionOf(key, 12)).toBe('00cabc0');
    expect(positionOf(key, 15)).toBe('00fabcc');
    expect(positionOf(key, 16)).toBe('010abcd');
    expect(positionOf(key, 256)).toBe('100abcd' + 'ff'.repeat(30));
  });

  const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHex(b));
  const leafArb = fc.record({
    type: fc.constantFrom('tianfu.state-leaf/v1', 'other'),
    subject: fc.oneof(hex64, fc.string(), fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\u007f', '\u2028', '\ud800', '张', 'a'), maxLength: 8 })),
    domain: fc.constantFrom('invoice', 'evidence'),
    entries: fc.oneof(fc.nat(), fc.integer({ min: -5, max: 5 })),
    lastIndex: fc.nat(),
    lastKind: fc.oneof(fc.constantFrom('invoice.issued', 'evidence.custody.sealed'), fc.string()),
    lastAt: fc.constantFrom('2026-12-03T10:00:00.000Z', 'a"quote', 'back\\slash', 'tab\there', '票据'),
    history: hex64,
    invoiceStatus: fc.record({ status: fc.constantFrom('issued', 'fully-reversed'), reimbursement: fc.constantFrom('init', 'locked'), use: fc.constantFrom('none', 'booked'), openRedForms: fc.nat(3) }),
    evidenceStatus: fc.record({ sealed: fc.boolean(), withdrawn: fc.boolean(), erased: fc.boolean(), custodyEvents: fc.nat(9) }),
    extra: fc.option(fc.string(), { nil: undefined }),
  });

  it('writes the same JCS bytes as the general canonical JSON for any leaf (the direct writer or the fallback)', () => {
    fc.assert(
      fc.property(leafArb, (r) => {
        const leaf: Record<string, unknown> = {
          type: r.type,
          subject: r.subject,
          domain: r.domain,
          status: r.domain === 'invoice' ? r.invoiceStatus : r.evidenceStatus,
          entries: r.entries,
          lastIndex: r.lastIndex,
          lastKind: r.lastKind,
          lastAt: r.lastAt,
          history: r.history,
        };
        if (r.extra !== undefined) leaf.extra = r.extra;
        let expected: string | Error;
        try {
          expected = canonicalJson(leaf);
        } catch (e) {
          expected = e as Error;
        }
        if (expected instanceof Error) expect(() => leafJcs(leaf as unknown as StateLeaf)).toThrow(expected.message);
        else {
          expect(leafJcs(leaf as unknown as StateLeaf)).toBe(expected);
          expect(toHex(leafValueHash(leaf as unknown as StateLeaf))).toBe(toHex(sha256(utf8(expected))));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('hashes the leaves the node makes by the direct writer, and the same as before', () => {
    const issued = nextStateLeaf(undefined, { kind: 'invoice.issued', subject: '0x' + 'ab'.repeat(32), at: '2026-12-03T10:00:00.000Z' }, 7, ('0x' + '11'.repeat(32)) as Hex);
    const locked = nextStateLeaf(issued, { kind: 'invoice.reimbursement-locked', subject: issued.subject, at: '2026-12-03T10:00:01.000Z' }, 9, ('0x' + '22'.repeat(32)) as Hex);
    for (const l of [issued, locked]) expect(leafJcs(l)).toBe(canonicalJson(l));
    expect(leafJcs(locked)).toContain('"reimbursement":"locked"');
    // A lone surrogate still has no canonical form.
    expect(() => leafJcs({ ...locked, lastAt: '\uD800' })).toThrow(/lone UTF-16 surrogate/);
  });
});
