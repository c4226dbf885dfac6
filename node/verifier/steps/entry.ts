/** entry: about this bundle's subject, of this bundle's domain, and the record names the same subject. */
import { firstMismatch, type ItemStep } from '../context';
import type { Bundle } from '../../protocol/formats';

const KIND_PREFIX: Partial<Record<Bundle['kind'], string>> = { invoice: 'invoice.', evidence: 'evidence.' };

export const entryStep: ItemStep = {
  name: 'entry',
  run(ctx) {
    const { b, it } = ctx;
    const prefix = KIND_PREFIX[b.kind];
    const rec = it.record ?? {};
    const bound = typeof rec.evidenceId === 'string' ? ['record.evidenceId', rec.evidenceId] : typeof rec.invoiceKey === 'string' ? ['record.invoiceKey', rec.invoiceKey] : null;
    const m = firstMismatch([
      ['entry.subject (vs bundle.subject)', b.subject, it.entry.subject],
      ...(prefix !== undefined ? ([[`entry.kind in the ${b.kind} domain`, true, it.entry.kind.startsWith(prefix)]] as [string, unknown, unknown][]) : []),
      ...(bound !== null ? ([[`${bound[0]} (vs entry.subject)`, it.entry.subject, bound[1]]] as [string, unknown, unknown][]) : []),
    ]);
    if (m) ctx.fail({ name: 'entry', detail: `${m[0]} differs${m[0].startsWith('entry.kind') ? `: ${it.entry.kind}` : ''}`, expected: m[1], calculated: m[2] });
    else ctx.ok({ name: 'entry', detail: `${it.entry.kind} about ${it.entry.subject} at ${it.entry.at}` });
  },
};
