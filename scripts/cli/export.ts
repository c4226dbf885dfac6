/**
 * `tianfu export --api URL --out DIR [--records] [--key K]`: copies the log (entries, receipts,
 * checkpoints and, with --records and an auditor or court key, records and salts) into DIR for
 * `tianfu audit --from-export DIR`. Resumable: run it again after an interruption.
 */
import type { Command } from 'commander';
import fs from 'node:fs';
import { SourceError, exportLog, partialDirOf, type ResumeInfo } from '../../node/audit';
import { UsageError, printJson } from './common';
import { progressBar } from './progress';

interface ExportFlags {
  api: string;
  out: string;
  records?: boolean;
  key?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export the log (and with --records the records) for an offline audit; resumable')
    .requiredOption('--api <url>', 'the node to export from')
    .requiredOption('--out <dir>', 'export directory (created; resumed when it holds a partial export)')
    .option('--records', 'also export records and salts (needs an auditor or court key)')
    .option('--key <key>', 'API key (default: env TIANFU_API_KEY)')
    .option('--json', 'machine-readable result on stdout')
    .action(async (flags: ExportFlags) => {
      const key = flags.key ?? process.env.TIANFU_API_KEY;
      const progress = progressBar('export', !flags.json);
      try {
        const onResume = (i: ResumeInfo): void => {
          // On stderr, before the work: a re-run says plainly what it continues.
          const had = `${i.entries} entries, ${i.receipts} receipts${i.records === null ? '' : `, ${i.records} records`}`;
          process.stderr.write(i.mode === 'unfinished' ? `resuming the unfinished export in ${i.dir} (it holds ${had}; a torn last line is cut)\n` : `updating the finished export ${i.dir} (${had}) to the node's current size\n`);
        };
        const r = await exportLog({ api: flags.api, out: flags.out, records: flags.records, key, onProgress: (d, t) => progress.update(d, t), onResume });
        progress.stop();
        if (flags.json) printJson(r);
        else {
          const from = r.resumed ? `resumed from ${r.resumedFrom}` : 'from the start';
          process.stdout.write(`exported ${r.manifest?.treeSize ?? '?'} entries to ${flags.out} (${from}; wrote ${r.written.entries} entries, ${r.written.receipts} receipts, ${r.written.records} records); root ${r.manifest?.rootHash ?? '?'}\n`);
        }
      } catch (err) {
        progress.stop();
        const partial = partialDirOf(flags.out);
        const kept = fs.existsSync(partial) ? ` (what was fetched is kept in ${partial}; run the same command again to resume)` : '';
        if (err instanceof SourceError) throw new UsageError(err.message + kept, 'EXPORT_FAILED');
        throw err;
      }
    });
}
