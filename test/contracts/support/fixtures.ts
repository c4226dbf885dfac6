/** Shared helpers for the contract tests: a deployed registry, trees, exact-revert assertions. */
import { expect } from 'vitest';
import type { HardhatEthersSigner } from '@nomicfoundation/hardhat-ethers/signers';
import { decodeRegistryRevert, deployRegistry, RegistryClient } from '../../../node/chain/registry-client';
import { logIdFor, toHex, utf8, type Hex } from '../../../node/protocol';
import { ReferenceTree } from '../../support/reference-tree';
import { loadHre } from './hre';
export { prng } from '../../support/prng';

export interface Fixture {
  admin: HardhatEthersSigner;
  operator: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
  other: HardhatEthersSigner;
  /** The registry as seen by the admin. */
  registry: RegistryClient;
  asOperator: RegistryClient;
  asStranger: RegistryClient;
}

export async function deployFixture(): Promise<Fixture> {
  const hre = loadHre();
  const [admin, operator, stranger, other] = await hre.ethers.getSigners();
  const { client } = await deployRegistry(admin!);
  return {
    admin: admin!,
    operator: operator!,
    stranger: stranger!,
    other: other!,
    registry: client,
    asOperator: client.withRunner(operator!),
    asStranger: client.withRunner(stranger!),
  };
}

let logCounter = 0;
/** A fresh log operated by `operator`; each test works on its own log. */
export async function freshLog(f: Fixture, label = 'log'): Promise<Hex> {
  const logId = logIdFor(`test/${label}/${++logCounter}/${Math.random()}`);
  await f.registry.createLog(logId, await f.operator.getAddress());
  return logId;
}

/** A reference tree whose leaf i is leafHash(`${tag} entry ${i}`). */
export function makeTree(size: number, tag = 'a'): ReferenceTree {
  const t = new ReferenceTree();
  for (let i = 0; i < size; i++) t.append(utf8(`${tag} entry ${i}`));
  return t;
}

export const hexes = (xs: readonly Uint8Array[]): Hex[] => xs.map(toHex);

/** Runs `fn` and asserts it reverts with exactly the custom error `name(args)`. */
export async function expectRevert(fn: () => Promise<unknown>, name: string, args: readonly unknown[]): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected revert ${name}`).toBeDefined();
  const revert = decodeRegistryRevert(caught);
  expect(revert, `no decodable revert in ${String(caught)}`).toBeDefined();
  const norm = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);
  expect({ name: revert!.name, args: revert!.args.map(norm) }).toEqual({ name, args: args.map(norm) });
}


/** Flips bit `bit` (0..255) of a 32-byte hash. */
export function flipBit(h: Uint8Array, bit: number): Uint8Array {
  const c = h.slice();
  c[bit >> 3] = c[bit >> 3]! ^ (0x80 >> (bit & 7));
  return c;
}
