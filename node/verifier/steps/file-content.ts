/** file-sha256, file-sm3, file-size: the file the verifier holds is the deposited one (its digests are the caller's, opts.file). */
import { eqHex, type BundleStep } from '../context';
import type { StepName } from '../types';
import { addFileStep, depositFile, fileRelevant } from './file-claim';

export const fileContentStep: BundleStep = {
  name: 'file-sha256',
  run(ctx) {
    const { b, opts } = ctx;
    if (!fileRelevant(b, opts)) return;
    const rec = depositFile(b);
    const given = opts.file;
    // A file given but not tied to the log fails: record and salt null is also what a forger writes to
    // make any file pass, so "erased" with a file given must never read as valid.
    const noRec = rec === null ? 'the deposit record is erased (record and salt null in this bundle): the file given cannot be tied to the log, so it is not shown to be the deposited file' : 'no record in the bundle names file digests';
    if (!given) {
      addFileStep(ctx, 'file-sha256', 'skipped', 'no file given: pass the evidence file (--file) to check its content');
      addFileStep(ctx, 'file-sm3', 'skipped', 'no file given');
      return;
    }
    const cmp = (name: StepName, alg: string, want: unknown, got: string | number | undefined): void => {
      if (got === undefined) return addFileStep(ctx, name, 'skipped', `the ${alg} of the file was not given`);
      if (rec === null || rec === undefined) return addFileStep(ctx, name, 'failed', noRec, { calculated: String(got) });
      if (want === undefined) return addFileStep(ctx, name, 'skipped', `the deposit record has no ${alg}`);
      if (typeof got === 'number' ? want === got : eqHex(String(want), got)) addFileStep(ctx, name, 'ok', `the file's ${alg} equals the deposited file's`, { expected: String(want), calculated: String(got) });
      else addFileStep(ctx, name, 'failed', `the file's ${alg} differs from the deposited file's: not the same file`, { expected: String(want), calculated: String(got) });
    };
    cmp('file-sha256', 'SHA-256', rec?.sha256, given.sha256);
    cmp('file-sm3', 'SM3', rec?.sm3, given.sm3);
    if (given.size !== undefined) cmp('file-size', 'byte length', rec?.size, given.size);
    ctx.file = { ...given, status: ctx.fileStatus };
  },
};
