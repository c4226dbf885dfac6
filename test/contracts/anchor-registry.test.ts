/**
 * AnchorRegistry on Hardhat's in-process EVM: append-only anchoring with the on-chain RFC 9162
 * §2.1.4.2 consistency check, exact custom errors, roles, pause, events and reads. Every accept or
 * reject is also re-derived off chain (support/oracle.ts) and the two must agree.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Interface, type Log } from 'ethers';
import { consistencyProofLength, rootsFromConsistencyProof, bytesEqual, toHex, EMPTY_ROOT, type Hex } from '../../node/protocol';
import { decodeRegistryRevert, type RegistryClient } from '../../node/chain/registry-client';
import { loadArtifact } from '../../node/chain/artifacts';
import { deployFixture, expectRevert, flipBit, freshLog, hexes, makeTree, prng, type Fixture } from './support/fixtures';
import { expectedAnchorVerdict } from './support/oracle';
import { loadHre } from './support/hre';
import type { ReferenceTree } from '../support/reference-tree';
import { UniformTree } from '../support/uniform-tree';

const ZERO32 = `0x${'00'.repeat(32)}`;
const iface = new Interface(loadArtifact('AnchorRegistry').abi);

let f: Fixture;
beforeAll(async () => {
  f = await deployFixture();
});

async function eventsOf(txHash: string): Promise<Array<{ name: string; args: unknown[] }>> {
  const receipt = await loadHre().ethers.provider.getTransactionReceipt(txHash);
  return (receipt?.logs ?? []).map((l: Log) => {
    const parsed = iface.parseLog({ topics: [...l.topics], data: l.data });
    return { name: parsed!.name, args: [...parsed!.args].map((a) => (typeof a === 'string' ? a.toLowerCase() : a)) };
  });
}

/** Dry-runs `anchor` as the operator (eth_call): resolves to 'ok' or the decoded custom error. */
async function dryAnchor(client: RegistryClient, logId: Hex, size: number, root: Uint8Array, proof: readonly Uint8Array[]) {
  try {
    await client.contract.getFunction('anchor').staticCall(logId, size, toHex(root), hexes(proof));
    return { name: 'ok' };
  } catch (err) {
    const r = decodeRegistryRevert(err);
    if (!r) throw err;
    return { name: r.name, args: r.args.map((a) => (typeof a === 'string' ? a.toLowerCase() : a)) };
  }
}

async function anchorAt(logId: Hex, tree: ReferenceTree, from: number, to: number) {
  return f.asOperator.anchor({ logId, treeSize: to, rootHash: toHex(tree.root(to)), consistencyProof: hexes(from === 0 ? [] : tree.consistencyProof(from, to)) });
}

describe('valid extensions', () => {
  it('accepts a chain of sizes through 1, 2, powers of two and their neighbours; every checkpoint stays readable', async () => {
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 300];
    const tree = makeTree(300);
    const logId = await freshLog(f, 'chain');
    const provider = loadHre().ethers.provider;
    let prev = 0;
    const anchored: Array<{ size: number; block: bigint; timestamp: bigint }> = [];
    for (const size of sizes) {
      const proof = prev === 0 ? [] : tree.consistencyProof(prev, size);
      if (prev > 0) {
        // Off-chain re-derivation: the TS verifier reaches both roots from the same proof.
        const r = rootsFromConsistencyProof(prev, size, proof, tree.root(prev));
        expect(toHex(r.root1)).toBe(toHex(tree.root(prev)));
        expect(toHex(r.root2)).toBe(toHex(tree.root(size)));
        expect(proof.length).toBe(consistencyProofLength(prev, size));
      }
      const mined = await f.asOperator.anchor({ logId, treeSize: size, rootHash: toHex(tree.root(size)), consistencyProof: hexes(proof) });
      expect(await eventsOf(mined.txHash)).toEqual([
        { name: 'CheckpointAnchored', args: [logId, BigInt(size), toHex(tree.root(size)), BigInt(prev)] },
      ]);
      const block = await provider.getBlock(Number(mined.blockNumber));
      anchored.push({ size, block: mined.blockNumber, timestamp: BigInt(block!.timestamp) });
      prev = size;
    }
    for (const a of anchored) {
      expect(await f.registry.checkpoint(logId, a.size)).toEqual({ rootHash: toHex(tree.root(a.size)), timestamp: a.timestamp, blockNumber: a.block });
    }
    const last = anchored[anchored.length - 1]!;
    expect(await f.registry.latest(logId)).toEqual({ treeSize: 300n, rootHash: toHex(tree.root(300)), timestamp: last.timestamp, blockNumber: last.block });
    // The event index agrees with what was anchored, in order.
    const events = await f.registry.queryAnchoredEvents(anchored[0]!.block, last.block, logId);
    expect(events.map((e) => [e.treeSize, e.rootHash, e.previousTreeSize])).toEqual(
      sizes.map((s, i) => [BigInt(s), toHex(tree.root(s)), BigInt(i === 0 ? 0 : sizes[i - 1]!)]),
    );
    // Sizes that were never anchored read as unknown, not as zeros.
    expect(await f.registry.checkpoint(logId, 10)).toBeNull();
  });

  it('agrees with the TypeScript verifier on every (m, n) with 1 <= m < n <= 36, valid and one-bit-mutated', async () => {
    const N = 36;
    const tree = makeTree(N, 'pairs');
    const roots = Array.from({ length: N + 1 }, (_, n) => (n === 0 ? EMPTY_ROOT : tree.root(n)));
    const rand = prng(0x5eed01);
    let accepted = 0;
    let rejected = 0;
    for (let m = 1; m < N; m++) {
      const logId = await freshLog(f, `pairs-${m}`);
      await anchorAt(logId, tree, 0, m);
      for (let n = m + 1; n <= N; n++) {
        const proof = tree.consistencyProof(m, n);
        expect(expectedAnchorVerdict(m, n, roots[m]!, roots[n]!, proof)).toEqual({ name: 'ok' });
        expect(await dryAnchor(f.asOperator, logId, n, roots[n]!, proof)).toEqual({ name: 'ok' });
        accepted++;
        if (proof.length === 0) continue;
        // One bit flipped in one element: the contract's error (Inconsistent or RootMismatch, with the
        // calculated root) must be exactly what the TS verifier derives.
        const bad = proof.slice();
        const i = Math.floor(rand() * bad.length);
        bad[i] = flipBit(bad[i]!, Math.floor(rand() * 256));
        const verdict = expectedAnchorVerdict(m, n, roots[m]!, roots[n]!, bad);
        expect(verdict.name).not.toBe('ok');
        expect(await dryAnchor(f.asOperator, logId, n, roots[n]!, bad)).toEqual(verdict);
        rejected++;
      }
    }
    expect(accepted).toBe((N * (N - 1)) / 2);
    expect(rejected).toBeGreaterThan(500);
  });

  it('handles sizes beyond 32 bits up to 2^53 - 1 (all-equal leaves make such trees cheap to hash)', async () => {
    const tree = new UniformTree();
    const rand = prng(0x5eed03);
    const pairs: Array<[number, number]> = [
      [2 ** 32 - 1, 2 ** 32 + 1],
      [2 ** 32, 2 ** 33 + 5],
      [2 ** 40 + 3, 2 ** 45 + 17],
      [3 * 2 ** 47, 2 ** 52 + 1],
      [2 ** 52 + 1, 2 ** 53 - 1],
    ];
    for (const [m, n] of pairs) {
      const logId = await freshLog(f, `huge-${m}`);
      await f.asOperator.anchor({ logId, treeSize: m, rootHash: toHex(tree.root(m)), consistencyProof: [] });
      const proof = tree.consistencyProof(m, n);
      expect(expectedAnchorVerdict(m, n, tree.root(m), tree.root(n), proof)).toEqual({ name: 'ok' });
      expect(await dryAnchor(f.asOperator, logId, n, tree.root(n), proof)).toEqual({ name: 'ok' });
      const bad = proof.slice();
      const i = Math.floor(rand() * bad.length);
      bad[i] = flipBit(bad[i]!, Math.floor(rand() * 256));
      const verdict = expectedAnchorVerdict(m, n, tree.root(m), tree.root(n), bad);
      expect(verdict.name).not.toBe('ok');
      expect(await dryAnchor(f.asOperator, logId, n, tree.root(n), bad)).toEqual(verdict);
      await expectRevert(
        () => f.asOperator.anchor({ logId, treeSize: n, rootHash: toHex(tree.root(n)), consistencyProof: hexes(proof.slice(1)) }),
        'AnchorRegistryBadProofLength',
        [BigInt(proof.length), BigInt(proof.length - 1)],
      );
      await f.asOperator.anchor({ logId, treeSize: n, rootHash: toHex(tree.root(n)), consistencyProof: hexes(proof) });
      expect((await f.registry.checkpoint(logId, n))?.rootHash).toBe(toHex(tree.root(n)));
    }
  });

  it('accepts large random extensions (up to 2^11 leaves) whose proofs come from the reference tree', async () => {
    const tree = makeTree(2400, 'big');
    const rand = prng(0x5eed02);
    const logId = await freshLog(f, 'big');
    let prev = 0;
    for (const size of [1, 700, 1023, 1024, 1025, 1500, 2047, 2048, 2049, 2100]) {
      const proof = prev === 0 ? [] : tree.consistencyProof(prev, size);
      expect(expectedAnchorVerdict(prev, size, prev === 0 ? EMPTY_ROOT : tree.root(prev), tree.root(size), proof)).toEqual({ name: 'ok' });
      await f.asOperator.anchor({ logId, treeSize: size, rootHash: toHex(tree.root(size)), consistencyProof: hexes(proof) });
      prev = size;
    }
    expect((await f.registry.latest(logId)).treeSize).toBe(2100n);
    // Random further extensions, each checked off chain first.
    let size = 2100;
    for (let k = 0; k < 5; k++) {
      const next = size + 1 + Math.floor(rand() * 60);
      if (next > tree.size) break;
      await anchorAt(logId, tree, size, next);
      size = next;
    }
    expect((await f.registry.latest(logId)).rootHash).toBe(toHex(tree.root(size)));
  });
});

describe('rejections carry the exact custom error', () => {
  let tree: ReferenceTree;
  beforeAll(() => {
    tree = makeTree(40, 'rej');
  });

  it('refuses equal, smaller and zero sizes as stale, and a first checkpoint of size 0', async () => {
    const logId = await freshLog(f, 'stale');
    await expectRevert(() => f.asOperator.anchor({ logId, treeSize: 0, rootHash: toHex(EMPTY_ROOT), consistencyProof: [] }), 'AnchorRegistryStaleSize', [0n, 0n]);
    await anchorAt(logId, tree, 0, 10);
    for (const size of [10, 9, 1, 0]) {
      await expectRevert(
        () => f.asOperator.anchor({ logId, treeSize: size, rootHash: toHex(tree.root(size)), consistencyProof: [] }),
        'AnchorRegistryStaleSize',
        [10n, BigInt(size)],
      );
    }
    // A replay of the very same checkpoint is stale too: a checkpoint is anchored once.
    await expectRevert(() => anchorAt(logId, tree, 0, 10), 'AnchorRegistryStaleSize', [10n, 10n]);
    expect((await f.registry.latest(logId)).treeSize).toBe(10n);
  });

  it('refuses a first checkpoint that carries a proof', async () => {
    const logId = await freshLog(f, 'first');
    await expectRevert(
      () => f.asOperator.anchor({ logId, treeSize: 4, rootHash: toHex(tree.root(4)), consistencyProof: [toHex(tree.root(2))] }),
      'AnchorRegistryBadProofLength',
      [0n, 1n],
    );
  });

  it('refuses truncated, extended, empty and wrong-size proofs with the expected and given lengths', async () => {
    const cases: Array<[number, number]> = [[6, 13], [8, 13], [1, 2], [1, 3], [7, 8], [3, 32], [31, 33]];
    for (const [m, n] of cases) {
      const logId = await freshLog(f, `len-${m}-${n}`);
      await anchorAt(logId, tree, 0, m);
      const proof = tree.consistencyProof(m, n);
      const want = BigInt(consistencyProofLength(m, n));
      const root = toHex(tree.root(n));
      const attempt = (p: Uint8Array[]) => () => f.asOperator.anchor({ logId, treeSize: n, rootHash: root, consistencyProof: hexes(p) });
      await expectRevert(attempt(proof.slice(0, -1)), 'AnchorRegistryBadProofLength', [want, want - 1n]);
      await expectRevert(attempt([...proof, proof[0]!]), 'AnchorRegistryBadProofLength', [want, want + 1n]);
      await expectRevert(attempt([]), 'AnchorRegistryBadProofLength', [want, 0n]);
      // A proof planned for another old size (the classic off-by-one) is refused, never accepted.
      const otherSize = m + 1 < n ? m + 1 : m - 1;
      if (otherSize === 0) continue;
      const other = tree.consistencyProof(otherSize, n);
      const verdict = expectedAnchorVerdict(m, n, tree.root(m), tree.root(n), other);
      expect(verdict.name).not.toBe('ok');
      expect(await dryAnchor(f.asOperator, logId, n, tree.root(n), other)).toEqual(verdict);
      expect((await f.registry.latest(logId)).treeSize).toBe(BigInt(m));
    }
  });

  it('refuses a fork: another history at the anchored size (not a power of two) is Inconsistent', async () => {
    const forked = makeTree(40, 'fork');
    const logId = await freshLog(f, 'fork6');
    await anchorAt(logId, tree, 0, 6);
    const proof = forked.consistencyProof(6, 11);
    const calc = rootsFromConsistencyProof(6, 11, proof, tree.root(6)).root1;
    expect(toHex(calc)).toBe(toHex(forked.root(6))); // the proof leads to the fork's old root
    await expectRevert(
      () => f.asOperator.anchor({ logId, treeSize: 11, rootHash: toHex(forked.root(11)), consistencyProof: hexes(proof) }),
      'AnchorRegistryInconsistent',
      [toHex(tree.root(6)), toHex(calc)],
    );
  });

  it('refuses a fork after a power-of-two size: the anchored root is the seed, so the new root mismatches', async () => {
    const forked = makeTree(40, 'fork');
    const logId = await freshLog(f, 'fork8');
    await anchorAt(logId, tree, 0, 8);
    const proof = forked.consistencyProof(8, 12);
    const calc = rootsFromConsistencyProof(8, 12, proof, tree.root(8)).root2;
    expect(bytesEqual(calc, forked.root(12))).toBe(false);
    await expectRevert(
      () => f.asOperator.anchor({ logId, treeSize: 12, rootHash: toHex(forked.root(12)), consistencyProof: hexes(proof) }),
      'AnchorRegistryRootMismatch',
      [toHex(forked.root(12)), toHex(calc)],
    );
  });

  it('refuses a history rewritten after a shared prefix, and a valid proof paired with a wrong new root', async () => {
    // Same first 5 entries, different 6th and 7th: a rewrite of anchored leaves.
    const rewritten = makeTree(0);
    for (let i = 0; i < 20; i++) rewritten.appendLeafHash(i < 5 ? tree.leaves[i]! : makeTree(i + 1, 'rw').leaves[i]!);
    const logId = await freshLog(f, 'rewrite');
    await anchorAt(logId, tree, 0, 7);
    const proof = rewritten.consistencyProof(7, 20);
    const v = expectedAnchorVerdict(7, 20, tree.root(7), rewritten.root(20), proof);
    expect(v.name).toBe('AnchorRegistryInconsistent');
    await expectRevert(
      () => f.asOperator.anchor({ logId, treeSize: 20, rootHash: toHex(rewritten.root(20)), consistencyProof: hexes(proof) }),
      v.name,
      (v as { args: unknown[] }).args,
    );
    // The honest proof with a root that is not the tree's (a truncated or padded log's root).
    const honest = tree.consistencyProof(7, 20);
    const calc = rootsFromConsistencyProof(7, 20, honest, tree.root(7)).root2;
    for (const wrong of [tree.root(19), tree.root(21), flipBit(tree.root(20), 255), new Uint8Array(32)]) {
      await expectRevert(
        () => f.asOperator.anchor({ logId, treeSize: 20, rootHash: toHex(wrong), consistencyProof: hexes(honest) }),
        'AnchorRegistryRootMismatch',
        [toHex(wrong), toHex(calc)],
      );
    }
    // Swapped elements, zeroed elements, the old root smuggled in as an element: all refused, as derived off chain.
    const mutants = [
      [...honest].reverse(),
      honest.map((h, i) => (i === 0 ? new Uint8Array(32) : h)),
      honest.map((h, i) => (i === honest.length - 1 ? tree.root(7) : h)),
    ];
    for (const bad of mutants) {
      const verdict = expectedAnchorVerdict(7, 20, tree.root(7), tree.root(20), bad);
      expect(verdict.name).not.toBe('ok');
      expect(await dryAnchor(f.asOperator, logId, 20, tree.root(20), bad)).toEqual(verdict);
    }
    await anchorAt(logId, tree, 7, 20); // and the honest extension still goes through
  });

  it('refuses malformed calldata (a proof array cut short) without touching state', async () => {
    const logId = await freshLog(f, 'malformed');
    await anchorAt(logId, tree, 0, 5);
    const proof = tree.consistencyProof(5, 9);
    const data = iface.encodeFunctionData('anchor', [logId, 9, toHex(tree.root(9)), hexes(proof)]);
    const cut = data.slice(0, data.length - 64 * 2); // drop the last two words of the array
    let caught: unknown;
    try {
      await f.operator.call({ to: f.registry.address, data: cut });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(decodeRegistryRevert(caught)).toBeUndefined(); // ABI decoding fails before any check runs: no custom error
    await expect(f.operator.sendTransaction({ to: f.registry.address, data: cut, gasLimit: 200_000 })).rejects.toThrow();
    expect((await f.registry.latest(logId)).treeSize).toBe(5n);
  });
});

describe('roles and pause', () => {
  it('lets only the operator anchor, and only the admin create logs and change operators', async () => {
    const tree = makeTree(8, 'roles');
    const logId = await freshLog(f, 'roles');
    const strangerAddr = (await f.stranger.getAddress()).toLowerCase();
    const adminRole = ZERO32;
    await expectRevert(() => f.asStranger.anchor({ logId, treeSize: 1, rootHash: toHex(tree.root(1)), consistencyProof: [] }), 'AnchorRegistryNotOperator', [logId, strangerAddr]);
    // The admin is not the operator either: admin power does not include rewriting checkpoints.
    await expectRevert(
      () => f.registry.anchor({ logId, treeSize: 1, rootHash: toHex(tree.root(1)), consistencyProof: [] }),
      'AnchorRegistryNotOperator',
      [logId, (await f.admin.getAddress()).toLowerCase()],
    );
    await expectRevert(() => f.asStranger.createLog(`0x${'ab'.repeat(32)}`, strangerAddr), 'AccessControlUnauthorizedAccount', [strangerAddr, adminRole]);
    await expectRevert(() => f.asStranger.setOperator(logId, strangerAddr), 'AccessControlUnauthorizedAccount', [strangerAddr, adminRole]);
    await expectRevert(() => f.asOperator.setOperator(logId, strangerAddr), 'AccessControlUnauthorizedAccount', [(await f.operator.getAddress()).toLowerCase(), adminRole]);

    const unknown = `0x${'cd'.repeat(32)}` as Hex;
    await expectRevert(() => f.asOperator.anchor({ logId: unknown, treeSize: 1, rootHash: toHex(tree.root(1)), consistencyProof: [] }), 'AnchorRegistryUnknownLog', [unknown]);
    await expectRevert(() => f.registry.createLog(logId, strangerAddr), 'AnchorRegistryLogExists', [logId]);
    await expectRevert(() => f.registry.createLog(`0x${'ef'.repeat(32)}`, '0x0000000000000000000000000000000000000000'), 'AnchorRegistryZeroOperator', []);
    await expectRevert(() => f.registry.setOperator(unknown, strangerAddr), 'AnchorRegistryUnknownLog', [unknown]);
    await expectRevert(() => f.registry.setOperator(logId, '0x0000000000000000000000000000000000000000'), 'AnchorRegistryZeroOperator', []);

    await anchorAt(logId, tree, 0, 3);
    const operatorAddr = (await f.operator.getAddress()).toLowerCase();
    const otherAddr = (await f.other.getAddress()).toLowerCase();
    const changed = await f.registry.setOperator(logId, otherAddr);
    expect(await eventsOf(changed.txHash)).toEqual([{ name: 'OperatorChanged', args: [logId, operatorAddr, otherAddr] }]);
    expect(await f.registry.operatorOf(logId)).toBe(otherAddr);
    // The old operator is out; the new one continues from the anchored checkpoint.
    await expectRevert(() => anchorAt(logId, tree, 3, 8), 'AnchorRegistryNotOperator', [logId, operatorAddr]);
    await f.registry.withRunner(f.other).anchor({ logId, treeSize: 8, rootHash: toHex(tree.root(8)), consistencyProof: hexes(tree.consistencyProof(3, 8)) });
    expect((await f.registry.latest(logId)).treeSize).toBe(8n);
  });

  it('emits LogCreated with the log id and operator', async () => {
    const logId = `0x${'12'.repeat(32)}` as Hex;
    const op = (await f.operator.getAddress()).toLowerCase();
    const created = await f.registry.createLog(logId, op);
    expect(await eventsOf(created.txHash)).toEqual([{ name: 'LogCreated', args: [logId, op] }]);
    expect(await f.registry.operatorOf(logId)).toBe(op);
  });

  it('pauses anchoring (admin only), keeps reads available, and resumes', async () => {
    const tree = makeTree(8, 'pause');
    const logId = await freshLog(f, 'pause');
    await anchorAt(logId, tree, 0, 2);
    const strangerAddr = (await f.stranger.getAddress()).toLowerCase();
    await expectRevert(() => f.asStranger.pause(), 'AccessControlUnauthorizedAccount', [strangerAddr, ZERO32]);
    await expectRevert(() => f.asOperator.pause(), 'AccessControlUnauthorizedAccount', [(await f.operator.getAddress()).toLowerCase(), ZERO32]);
    const paused = await f.registry.pause();
    expect(await eventsOf(paused.txHash)).toEqual([{ name: 'Paused', args: [(await f.admin.getAddress()).toLowerCase()] }]);
    expect(await f.registry.paused()).toBe(true);
    try {
      await expectRevert(() => anchorAt(logId, tree, 2, 5), 'EnforcedPause', []);
      expect(await f.registry.checkpoint(logId, 2)).not.toBeNull();
      expect((await f.registry.latest(logId)).treeSize).toBe(2n);
      await expectRevert(() => f.asStranger.unpause(), 'AccessControlUnauthorizedAccount', [strangerAddr, ZERO32]);
    } finally {
      await f.registry.unpause();
    }
    expect(await f.registry.paused()).toBe(false);
    await anchorAt(logId, tree, 2, 5);
    expect((await f.registry.latest(logId)).treeSize).toBe(5n);
  });
});

describe('reads', () => {
  it('tells unknown logs and unknown checkpoints apart from anchored values', async () => {
    const unknown = `0x${'99'.repeat(32)}` as Hex;
    await expectRevert(() => f.registry.latest(unknown), 'AnchorRegistryUnknownLog', [unknown]);
    await expectRevert(() => f.registry.operatorOf(unknown), 'AnchorRegistryUnknownLog', [unknown]);
    await expectRevert(() => f.registry.contract.getFunction('checkpoint').staticCall(unknown, 1), 'AnchorRegistryUnknownCheckpoint', [unknown, 1n]);
    expect(await f.registry.checkpoint(unknown, 1)).toBeNull();

    const logId = await freshLog(f, 'reads');
    expect(await f.registry.latest(logId)).toEqual({ treeSize: 0n, rootHash: ZERO32, timestamp: 0n, blockNumber: 0n });
    await expectRevert(() => f.registry.contract.getFunction('checkpoint').staticCall(logId, 0), 'AnchorRegistryUnknownCheckpoint', [logId, 0n]);
    expect(await f.registry.isAdmin(await f.admin.getAddress())).toBe(true);
    expect(await f.registry.isAdmin(await f.operator.getAddress())).toBe(false);
  });
});
