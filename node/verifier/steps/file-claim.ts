/** file-claim: the file digests the bundle states are the deposit record's (the ones the log commits to). */
import type { Bundle } from '../../protocol/formats';
import { DEPOSIT_KIND } from '../../evidence/history';
import { firstMismatch, type BundleContext, type BundleStep, type Evidence, type OfflineOptions } from '../context';
import type { StepName, StepStatus } from '../types';

/** Whether the file steps apply: an evidence bundle, a bundle naming a file, or a file given (not for invoices). */
export function fileRelevant(b: Bundle, opts: OfflineOptions): boolean {
  // For an invoice bundle the file given is its XML, checked by the xml-* steps (steps/invoice-xml.ts).
  return b.kind === 'evidence' || (b.file !== undefined && b.file !== null) || (opts.file !== undefined && b.kind !== 'invoice');
}

/**
 * The file's digests the log commits to live in the deposit record (items[0] of an evidence bundle).
 * undefined: no record names a file; null: the deposit record was erased.
 */
export function depositFile(b: Bundle): { sha256?: unknown; sm3?: unknown; size?: unknown } | null | undefined {
  const first = b.items[0];
  if (!first) return undefined;
  if (first.record === null) return first.entry.kind === DEPOSIT_KIND ? null : undefined;
  const f = first.record.file;
  return typeof f === 'object' && f !== null && !Array.isArray(f) ? (f as { sha256?: unknown }) : undefined;
}

/** Adds a file step; its status folds into the report's file status (a skipped file-claim does not). */
export function addFileStep(ctx: BundleContext, name: StepName, st: StepStatus, detail: string, ev: Evidence = {}): void {
  ctx.steps.add({ name, status: st, detail, ...ev });
  if (st === 'failed') ctx.fileStatus = 'failed';
  else if (st === 'skipped' && ctx.fileStatus === 'ok' && name !== 'file-claim') ctx.fileStatus = 'skipped';
}

export const fileClaimStep: BundleStep = {
  name: 'file-claim',
  run(ctx) {
    const { b } = ctx;
    if (!fileRelevant(b, ctx.opts) || !b.file) return;
    const rec = depositFile(b);
    if (rec === null) addFileStep(ctx, 'file-claim', 'skipped', 'the deposit record is erased: the bundle\'s file digests cannot be tied to the log');
    else if (rec === undefined) addFileStep(ctx, 'file-claim', 'failed', 'the bundle names file digests but none of its records does');
    else {
      const m = firstMismatch([
        ['file.sha256', rec.sha256, b.file.sha256],
        ['file.sm3', rec.sm3, b.file.sm3],
        ['file.size', rec.size, b.file.size],
      ]);
      if (m) addFileStep(ctx, 'file-claim', 'failed', `the bundle's ${m[0]} differs from the deposit record's`, { expected: m[1], calculated: m[2] });
      else addFileStep(ctx, 'file-claim', 'ok', 'the bundle\'s file digests are the deposit record\'s');
    }
  },
};
