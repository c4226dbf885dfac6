/** custody-rules: the domain's lifecycle rules (opts.history, e.g. domainHistoryRules) replay the bundle's events cleanly. */
import type { BundleStep } from '../context';

export const custodyRulesStep: BundleStep = {
  name: 'custody-rules',
  run(ctx) {
    const { b, opts, steps } = ctx;
    if (!opts.history) {
      steps.add({ name: 'custody-rules', status: 'skipped', detail: 'no lifecycle rules given to this verifier' });
      return;
    }
    const v = opts.history(b.kind, b.items.map((it) => ({ index: it.index, entry: it.entry, record: it.record })));
    if (v.length === 0) steps.add({ name: 'custody-rules', status: 'ok', detail: `the ${b.items.length} events replay cleanly under the ${b.kind} lifecycle rules` });
    else {
      const f = v[0]!;
      steps.add({ name: 'custody-rules', item: f.index, status: 'failed', detail: `${f.code}: ${f.message} (item ${f.index}${v.length > 1 ? `; ${v.length - 1} more` : ''}) — an event is missing, reordered or not allowed`, calculated: f.code });
    }
  },
};
