/** Audit building blocks: incremental tree vs the reference tree, fast receipt check vs the protocol verifier, JSONL reading. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import { secp256k1 } from '@noble/curves/secp256k1';
import { CHECKPOINT_TYPE, RECEIPT_TYPE, checkpointMessage, receiptMessage, sha256, toHex, utf8, verifyConsistency, verifyReceiptSigner, type Hex, type Receipt, type ReceiptV1 } from '../../node/protocol';
import { Auditor, TreeReplay, ReceiptVerifier, LineReader, completeLines } from '../../node/audit';
import { ReferenceTree } from '../support/reference-tree';

const leaf = (i: number): Uint8Array => sha256(utf8(`leaf ${i}`));

describe('TreeReplay (compact range)', () => {
  it('gives the reference root at every size 0..80 and O(log n) frontier', () => {
    const ref = new ReferenceTree();
    const t = new TreeReplay();
    expect(toHex(t.root())).toBe(toHex(ref.root(0)));
    for (let i = 0; i < 80; i++) {
      ref.appendLeafHash(leaf(i));
      t.append(leaf(i));
      expect(toHex(t.root()), `size ${i + 1}`).toBe(toHex(ref.root(i + 1)));
    }
  });

  it('builds, from the replay alone, the RFC 9162 consistency proof the reference builds, for every pair up to 40', () => {
    const n = 40;
    const ref = new ReferenceTree();
    for (let i = 0; i < n; i++) ref.appendLeafHash(leaf(i));
    for (let m = 1; m <= n; m++) {
      for (let k = m; k <= n; k++) {
        const t = new TreeReplay();
        t.wantConsistency(m, k);
        let rootM: Uint8Array | null = null;
        for (let i = 0; i < k; i++) {
          t.append(leaf(i));
          if (t.size === m) rootM = t.root();
        }
        const proof = t.consistencyProof(m, k);
        expect(proof.map(toHex), `${m}→${k}`).toEqual(ref.consistencyProof(m, k).map(toHex));
        verifyConsistency(m, k, proof, rootM!, t.root());
      }
    }
  });

  it('refuses to build a proof whose subtrees were not asked for in time', () => {
    const t = new TreeReplay();
    for (let i = 0; i < 10; i++) t.append(leaf(i));
    expect(() => t.consistencyProof(3, 10)).toThrow(/was not captured/);
  });
});

describe('ReceiptVerifier: precomputed-key path agrees with the protocol verifier', () => {
  const operator = Wallet.createRandom();
  const other = Wallet.createRandom();
  const logId = toHex(sha256(utf8('log'))) as Hex;
  const sign = (w: { signMessageSync(m: Uint8Array): string }, index: number): ReceiptV1 => {
    const p = { logId, index, leafHash: toHex(leaf(index)) as Hex, at: '2025-03-01T00:00:00.000Z' };
    return { type: RECEIPT_TYPE, ...p, signature: w.signMessageSync(receiptMessage(p)) as Hex };
  };
  const protocolSays = (r: Receipt): boolean => {
    try {
      verifyReceiptSigner(r, operator.address);
      return true;
    } catch {
      return false;
    }
  };

  it('accepts the operator’s receipts on the fast path and refuses every altered one like the protocol verifier', () => {
    const v = new ReceiptVerifier(operator.address.toLowerCase() as Hex);
    for (let i = 0; i < 20; i++) v.verify(sign(operator, i));
    expect(v.fast).toBe(20);
    const good = sign(operator, 99);
    const sig = good.signature;
    const s = BigInt('0x' + sig.slice(66, 130));
    const highS = (secp256k1.CURVE.n - s).toString(16).padStart(64, '0');
    const flippedV = sig.slice(130) === '1b' ? '1c' : '1b';
    const cases: ReceiptV1[] = [
      sign(other, 5),
      { ...good, index: 100 },
      { ...good, leafHash: toHex(leaf(1)) as Hex },
      { ...good, at: '2025-03-01T00:00:00.001Z' },
      { ...good, signature: (sig.slice(0, 130) + flippedV) as Hex },
      { ...good, signature: (sig.slice(0, 66) + highS + flippedV) as Hex },
      { ...good, signature: (sig.slice(0, 10) + (sig[10] === 'a' ? 'b' : 'a') + sig.slice(11)) as Hex },
    ];
    for (const r of cases) {
      const expected = protocolSays(r);
      let fastSays = true;
      try {
        v.verify(r);
      } catch {
        fastSays = false;
      }
      expect(fastSays, JSON.stringify(r)).toBe(expected);
    }
    expect(protocolSays(cases[0]!)).toBe(false);
    expect(protocolSays(cases[1]!)).toBe(false);
  });
});

describe('JSONL reading', () => {
  it('LineReader keeps multi-byte characters split across chunks whole', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-lines-'));
    const file = path.join(dir, 'x.jsonl');
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ index: i, name: '示例购买方有限公司'.repeat(i % 7) }));
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const r = new LineReader(file, 7); // 7-byte chunks split the 3-byte characters
    const got: string[] = [];
    for (let l = r.next(); l !== null; l = r.next()) got.push(l);
    r.close();
    expect(got).toEqual(lines);
    fs.rmSync(dir, { recursive: true });
  });

  it('completeLines cuts a torn last line and one that is not JSON', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-lines-'));
    const file = path.join(dir, 'x.jsonl');
    const ok = '{"index":0}\n{"index":1}\n';
    fs.writeFileSync(file, ok + '{"index":2,"ent');
    expect(completeLines(file)).toEqual({ bytes: Buffer.byteLength(ok), count: 2, last: { index: 1 } });
    fs.writeFileSync(file, ok + '{"index":2,"ent\n');
    expect(completeLines(file)).toEqual({ bytes: Buffer.byteLength(ok), count: 2, last: { index: 1 } });
    expect(completeLines(path.join(dir, 'absent.jsonl'))).toEqual({ bytes: 0, count: 0, last: undefined });
    fs.rmSync(dir, { recursive: true });
  });
});

describe('Auditor: the node’s signed checkpoints against the registry’s operator history', () => {
  const a = Wallet.createRandom();
  const b = Wallet.createRandom();
  const logId = toHex(sha256(utf8('rotating log'))) as Hex;
  const root = (n: number) => toHex(sha256(utf8(`root ${n}`))) as Hex;
  const signed = (w: { signMessageSync(m: Uint8Array): string }, treeSize: number) => ({
    treeSize,
    rootHash: root(treeSize),
    signature: w.signMessageSync(checkpointMessage({ type: CHECKPOINT_TYPE, logId, treeSize, rootHash: root(treeSize) })) as Hex,
  });
  // A created the log at block 1 and anchored size 3 at block 5; the admin named B at block 7 (and
  // again in block 9, before B's anchor of size 6 in that block, event 1 of it).
  const checkpoints = [
    { treeSize: 3, rootHash: root(3), timestamp: 1, blockNumber: '5', txHash: root(30), previousTreeSize: 0, logIndex: 0 },
    { treeSize: 6, rootHash: root(6), timestamp: 2, blockNumber: '9', txHash: root(60), previousTreeSize: 3, logIndex: 1 },
  ];
  const operators = [
    { operator: a.address.toLowerCase() as Hex, blockNumber: 1, logIndex: 0 },
    { operator: b.address.toLowerCase() as Hex, blockNumber: 7, logIndex: 0 },
  ];
  const signatureFlags = (nodeCheckpoints: ReturnType<typeof signed>[], history: typeof operators | undefined) =>
    new Auditor({ logId, operator: b.address.toLowerCase() as Hex, operators: history, chainId: '1', registry: root(1), checkpoints, mmdMs: 60_000, now: 0, nodeCheckpoints, receipts: false, records: false })
      .finish()
      .violations.filter((v) => v.code === 'NODE_CHECKPOINT_SIGNATURE')
      .map((v) => v.treeSize);

  it('wants each checkpoint signed by the operator in office when it was anchored, or the one in office now', () => {
    const stranger = Wallet.createRandom();
    expect(signatureFlags([signed(a, 3), signed(b, 6)], operators)).toEqual([]);
    // B (in office now) signing A's checkpoint: a node restarted with the rotated key adopting it.
    expect(signatureFlags([signed(b, 3), signed(b, 6)], operators)).toEqual([]);
    // A signing B's checkpoint (A is neither), and a stranger: flagged.
    expect(signatureFlags([signed(a, 3), signed(a, 6)], operators)).toEqual([6]);
    expect(signatureFlags([signed(stranger, 3), signed(stranger, 6)], operators)).toEqual([3, 6]);
  });

  it('history read from after the log was created: the first rotation says who ran it before', () => {
    // As readChainCheckpoints builds it from an OperatorChanged(previous A → B) without the LogCreated.
    const partial = [{ operator: a.address.toLowerCase() as Hex, blockNumber: -1, logIndex: -1 }, operators[1]!];
    expect(signatureFlags([signed(a, 3), signed(b, 6)], partial)).toEqual([]);
  });

  it('orders a rotation and an anchor in the same block by their position in it', () => {
    const sameBlock = [operators[0]!, { ...operators[1]!, blockNumber: 9, logIndex: 2 }];
    // The rotation came after the anchor (log index 2 > 1): size 6 was still A's.
    expect(signatureFlags([signed(a, 3), signed(a, 6)], sameBlock)).toEqual([]);
    const stranger = Wallet.createRandom();
    expect(signatureFlags([signed(a, 3), signed(stranger, 6)], sameBlock)).toEqual([6]);
    // Had the rotation come first (log index 0 < 1), A's signature on size 6 would be refused.
    expect(signatureFlags([signed(a, 3), signed(a, 6)], [operators[0]!, { ...operators[1]!, blockNumber: 9, logIndex: 0 }])).toEqual([6]);
  });

  it('without the history, uses the operator named now', () => {
    expect(signatureFlags([signed(a, 3), signed(b, 6)], undefined)).toEqual([3]);
  });
});
