/**
 * operator: who signed the receipts must be the log's operator by the registry's record, not the
 * bundle's (see operatorInOffice for when).
 */
import type { Hex } from '../../protocol/bytes';
import type { Bundle } from '../../protocol/formats';
import { ChainReadError, type ChainReader } from '../../protocol/chain';
import { eqHex, read, type ChainCache, type CheckpointStep, type Group } from '../context';

export const operatorStep: CheckpointStep = {
  name: 'operator',
  async run(ctx) {
    const { b, g, cp, summary } = ctx;
    if (!ctx.chain.operatorOf) return ctx.add('operator', 'skipped', 'this chain reader cannot read operatorOf; the operator is as the bundle states');
    const r = await operatorInOffice(b, g, cp!.blockNumber, ctx.chain, ctx.cache);
    const calculated = b.log.operator.toLowerCase();
    if (r.ok) {
      summary.operator = r.operator;
      ctx.add('operator', 'ok', r.detail, { expected: r.operator, calculated });
    } else {
      ctx.add('operator', 'failed', "the bundle's log operator (who signed the receipts) is not the operator the registry names: not at the anchoring block, not now, not when the entries were accepted", {
        expected: r.expected,
        calculated,
      });
    }
  },
};

/**
 * Whether the bundle's operator (who signed its receipts) was the log's operator by the registry, at
 * one of three times, asked in this order:
 * - the anchoring block of this checkpoint;
 * - now (after a key rotation the node serves every receipt re-signed by the new key, also for
 *   entries anchored under the old one);
 * - when the entries say they were accepted: their `at` is bound into the leaves and bounded above by
 *   the anchoring block's time. This is a receipt the old key signed before a rotation, on entries
 *   the new key anchored (a pending bundle refreshed). Block times are whole seconds, so every block
 *   of that second and the last one before it may be the one whose state held: each is asked, the
 *   latest first, up to OPERATOR_SECOND_BLOCKS of them.
 */
async function operatorInOffice(
  b: Bundle,
  g: Group,
  anchoredAt: bigint,
  chain: ChainReader,
  cache: ChainCache,
): Promise<{ ok: true; operator: Hex; detail: string } | { ok: false; expected: string }> {
  const logId = b.log.logId;
  const registry = g.anchor.registry;
  const operatorAt = (block: bigint): Promise<Hex | null> => read(`operatorOf(${logId})`, () => chain.operatorOf!(registry, logId, block));
  const is = (op: Hex): boolean => eqHex(op, b.log.operator);

  const op = await operatorAt(anchoredAt);
  if (op !== null && is(op)) return { ok: true, operator: op.toLowerCase() as Hex, detail: `the registry names ${op.toLowerCase()} as the log's operator at block ${anchoredAt}` };

  cache.head ??= await read('the block number', () => chain.blockNumber());
  const head = cache.head;
  const now = await operatorAt(head);
  if (now !== null && is(now)) {
    return { ok: true, operator: now.toLowerCase() as Hex, detail: `the registry names ${now.toLowerCase()} as the log's operator now (block ${head}); at the anchoring block ${anchoredAt} it named ${op?.toLowerCase() ?? 'none'} (the key was rotated since)` };
  }

  const latestAt = Math.max(...g.items.map((i) => Date.parse(b.items[i]!.entry.at)));
  const second = BigInt(Math.floor(latestAt / 1000));
  const hiBlock = await blockAtOrBefore(chain, second, anchoredAt);
  const loBlock = (await blockAtOrBefore(chain, second - 1n, anchoredAt)) ?? 0n;
  let k: bigint | null = null;
  let then: Hex | null = null;
  for (let n = hiBlock; n !== null && n >= loBlock && hiBlock! - n < BigInt(OPERATOR_SECOND_BLOCKS); n--) {
    k = n;
    then = await operatorAt(n);
    if (then !== null && is(then)) {
      return {
        ok: true,
        operator: then.toLowerCase() as Hex,
        detail: `the registry named ${then.toLowerCase()} as the log's operator at block ${k}, when the entries were accepted (${new Date(latestAt).toISOString()}, to the block time's second); the key was rotated before the anchoring block ${anchoredAt}`,
      };
    }
  }
  return { ok: false, expected: `${op?.toLowerCase() ?? 'none'} (block ${anchoredAt}) or ${now?.toLowerCase() ?? 'none'} (block ${head}) or ${then?.toLowerCase() ?? 'none'} (block ${k ?? 'none'})` };
}

/** Blocks of one second asked for the operator, at most (a chain mining many blocks a second). */
const OPERATOR_SECOND_BLOCKS = 64;

/** The last block at or below `hi` whose time is ≤ `t` seconds (binary search on block times), or null. */
async function blockAtOrBefore(chain: ChainReader, t: bigint, hi: bigint): Promise<bigint | null> {
  const timeOf = async (n: bigint): Promise<bigint> => {
    const blk = await read(`block ${n}`, () => chain.getBlock(n));
    if (blk === null) throw new ChainReadError(`block ${n} is missing from the chain`);
    return blk.timestamp;
  };
  if ((await timeOf(0n)) > t) return null;
  let lo = 0n;
  let top = hi;
  while (lo < top) {
    const mid = (lo + top + 1n) / 2n;
    if ((await timeOf(mid)) <= t) lo = mid;
    else top = mid - 1n;
  }
  return lo;
}
