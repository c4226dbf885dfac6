/**
 * custody-order: the domain's first record first and once, items in log order, times non-decreasing,
 * one subject. Runs before the file steps: they read the file's digests from the first item, which
 * this step checks is the deposit.
 */
import type { Bundle } from '../../protocol/formats';
import { INVOICE_KINDS_ISSUED } from '../../invoice/history';
import { DEPOSIT_KIND } from '../../evidence/history';
import type { BundleStep } from '../context';

export const FIRST_KIND: Partial<Record<Bundle['kind'], string>> = { invoice: INVOICE_KINDS_ISSUED, evidence: DEPOSIT_KIND };

export const custodyOrderStep: BundleStep = {
  name: 'custody-order',
  run(ctx) {
    const { b, steps } = ctx;
    const first = FIRST_KIND[b.kind];
    const problems: [string, string, string][] = [];
    if (first !== undefined) {
      if (b.items[0]!.entry.kind !== first) problems.push([`the first item must be the ${first} record`, first, b.items[0]!.entry.kind]);
      b.items.forEach((it, i) => {
        if (i > 0 && it.entry.kind === first) problems.push([`item ${i} is a second ${first}`, 'one', `items[${i}]`]);
      });
    }
    for (let i = 1; i < b.items.length; i++) {
      const prev = b.items[i - 1]!;
      const cur = b.items[i]!;
      if (cur.index <= prev.index) problems.push([`items are not in log order: item ${i} has log index ${cur.index} after ${prev.index}`, `> ${prev.index}`, String(cur.index)]);
      if (cur.entry.at < prev.entry.at) problems.push([`item ${i} was accepted at ${cur.entry.at}, before item ${i - 1} (${prev.entry.at})`, `>= ${prev.entry.at}`, cur.entry.at]);
      if (cur.entry.subject !== prev.entry.subject) problems.push([`item ${i} is about another subject`, prev.entry.subject, cur.entry.subject]);
    }
    const p = problems[0];
    if (p) steps.add({ name: 'custody-order', status: 'failed', detail: p[0], expected: p[1], calculated: p[2] });
    else steps.add({ name: 'custody-order', status: 'ok', detail: `${b.items.length} record${b.items.length === 1 ? '' : 's'} in log order, times non-decreasing${first ? `, starting with ${first}` : ''}` });
  },
};
