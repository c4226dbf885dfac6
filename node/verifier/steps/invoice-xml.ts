/**
 * xml-sha256, xml-sm3, xml-size: the XML document the verifier holds is the one the invoice record was
 * registered from. An invoice imported from XML commits, in its record's `original`, to the SHA-256, SM3
 * and byte length of the exact bytes received (docs/invoice-xml.md); the log commits to the record, so
 * equal digests tie this document to the log. The caller hashes the document (`opts.file`: `--file
 * invoice.xml`, or the XML the bundle carries); nothing here parses it.
 */
import type { Bundle } from '../../protocol/formats';
import { eqHex, type BundleContext, type BundleStep } from '../context';
import type { StepName } from '../types';

/** The `original` digests of the bundle's invoice record: undefined when it names none, null when erased. */
export function invoiceOriginal(b: Bundle): { sha256?: unknown; sm3?: unknown; size?: unknown } | null | undefined {
  const first = b.items[0];
  if (b.kind !== 'invoice' || !first) return undefined;
  if (first.record === null) return null;
  const o = first.record.original;
  return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as { sha256?: unknown }) : undefined;
}

function add(ctx: BundleContext, name: StepName, status: 'ok' | 'failed' | 'skipped', detail: string, ev: { expected?: string; calculated?: string } = {}): void {
  ctx.steps.add({ name, status, detail, ...ev });
  if (status === 'failed') ctx.fileStatus = 'failed';
  else if (status === 'skipped' && ctx.fileStatus === 'ok') ctx.fileStatus = 'skipped';
}

export const invoiceXmlStep: BundleStep = {
  name: 'xml-sha256',
  run(ctx) {
    const { b, opts } = ctx;
    if (b.kind !== 'invoice') return;
    const rec = invoiceOriginal(b);
    const given = opts.file;
    if (!given) {
      if (rec) add(ctx, 'xml-sha256', 'skipped', 'no XML given: pass the invoice XML (--file invoice.xml), or a bundle that carries it, to check it is the document the record came from');
      return;
    }
    if (rec === null) return add(ctx, 'xml-sha256', 'failed', 'the invoice record is erased: the XML given cannot be tied to the log', { calculated: given.sha256 });
    if (rec === undefined) return add(ctx, 'xml-sha256', 'failed', 'this invoice was not registered from XML: its record names no original document', { calculated: given.sha256 });
    const cmp = (name: StepName, alg: string, want: unknown, got: string | number | undefined): void => {
      if (got === undefined) return add(ctx, name, 'skipped', `the ${alg} of the XML was not given`);
      if (typeof got === 'number' ? want === got : eqHex(String(want), got)) add(ctx, name, 'ok', `the XML's ${alg} equals the one in the invoice record`, { expected: String(want), calculated: String(got) });
      else add(ctx, name, 'failed', `the XML's ${alg} differs from the one in the invoice record: not the document the record came from`, { expected: String(want), calculated: String(got) });
    };
    cmp('xml-sha256', 'SHA-256', rec.sha256, given.sha256);
    cmp('xml-sm3', 'SM3', rec.sm3, given.sm3);
    cmp('xml-size', 'byte length', rec.size, given.size);
    ctx.file = { ...given, status: ctx.fileStatus };
  },
};
