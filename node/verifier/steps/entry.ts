/**
 * entry: about this bundle's subject, of this bundle's domain, and the record names the same subject.
 * A pseudonymous subject (an invoice's, node/protocol/subject.ts) is opened by the bundle's
 * `subjectLink`: the link must hash to the subject and the records must name the link's key. Without
 * a link (evidence ids; invoices logged before pseudonyms) the records name the entry's subject itself.
 */
import { firstMismatch, type ItemStep } from '../context';
import type { Bundle } from '../../protocol/formats';
import { subjectPseudonym } from '../../protocol/subject';

const KIND_PREFIX: Partial<Record<Bundle['kind'], string>> = { invoice: 'invoice.', evidence: 'evidence.' };

type Check = [string, unknown, unknown];

export const entryStep: ItemStep = {
  name: 'entry',
  run(ctx) {
    const { b, it } = ctx;
    const prefix = KIND_PREFIX[b.kind];
    const rec = it.record ?? {};
    const bound = typeof rec.evidenceId === 'string' ? ['record.evidenceId', rec.evidenceId] : typeof rec.invoiceKey === 'string' ? ['record.invoiceKey', rec.invoiceKey] : null;
    const link = b.subjectLink;
    const subjectChecks: Check[] = [];
    if (link !== undefined) {
      subjectChecks.push(['bundle.subject (vs SHA-256("tianfu/subject/v1" 0x00 subjectLink.salt subjectLink.key))', b.subject, subjectPseudonym(link.salt, link.key)]);
      if (bound !== null) subjectChecks.push([`${bound[0]} (vs subjectLink.key)`, link.key, bound[1]]);
    } else if (bound !== null) subjectChecks.push([`${bound[0]} (vs entry.subject)`, it.entry.subject, bound[1]]);
    const m = firstMismatch([
      ['entry.subject (vs bundle.subject)', b.subject, it.entry.subject],
      ...(prefix !== undefined ? ([[`entry.kind in the ${b.kind} domain`, true, it.entry.kind.startsWith(prefix)]] as Check[]) : []),
      ...subjectChecks,
    ]);
    if (m) ctx.fail({ name: 'entry', detail: `${m[0]} differs${m[0].startsWith('entry.kind') ? `: ${it.entry.kind}` : ''}`, expected: m[1], calculated: m[2] });
    else ctx.ok({ name: 'entry', detail: `${it.entry.kind} about ${link !== undefined ? `${link.key} (pseudonym ${it.entry.subject})` : it.entry.subject} at ${it.entry.at}` });
  },
};
