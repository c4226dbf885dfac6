/** `tianfu bench [--only a,b]`: runs `npm run bench` (scripts/bench/run.ts) in a child process. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('bench')
    .description('run the benchmarks (figures in docs/BENCH.md; results in bench-out/results.json)')
    .option('--only <names>', 'comma-separated subset, e.g. log-store,gas,node')
    .action(async (flags: { only?: string }) => {
      const root = path.join(__dirname, '../..');
      const tsx = path.join(root, 'node_modules/tsx/dist/cli.mjs');
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [tsx, path.join(root, 'scripts/bench/run.ts')], {
          stdio: 'inherit',
          env: { ...process.env, ...(flags.only ? { BENCH_ONLY: flags.only } : {}) },
        });
        child.on('exit', (c) => resolve(c ?? 1));
      });
      process.exitCode = code;
    });
}
