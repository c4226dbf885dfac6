/**
 * entry (per item, at its checkpoint): the chain bounds the operator's acceptance times from above —
 * an entry cannot have been accepted after the block that anchored it. Block times have whole
 * seconds; `clockSkewMs` allows for the node's clock running ahead of the chain's (the audit's
 * AT_AFTER_ANCHOR applies the same rule). Reports only failures.
 */
import { isoOf, type CheckpointStep } from '../context';
import { DEFAULT_CLOCK_SKEW_MS } from '../types';

export const entryTimeStep: CheckpointStep = {
  name: 'entry',
  quietWhenStopped: true,
  run(ctx) {
    const { b, g, opts, steps } = ctx;
    const cp = ctx.cp!;
    const blk = ctx.blk!;
    const latestMs = Number(blk.timestamp) * 1000 + 999 + (opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS);
    for (const i of g.items) {
      const it = b.items[i]!;
      const atMs = Date.parse(it.entry.at);
      if (atMs > latestMs) {
        steps.add({
          name: 'entry',
          item: i,
          status: 'failed',
          detail: `entry ${it.index} claims it was accepted at ${it.entry.at}, after block ${cp.blockNumber} anchored it at ${isoOf(blk.timestamp)}: the operator's time is forward-dated`,
          expected: `no later than ${new Date(latestMs).toISOString()}`,
          calculated: it.entry.at,
        });
      }
    }
  },
};
