/**
 * The `tianfu` CLI. Each command lives in scripts/cli/<command>.ts and exports `register(program)`.
 * Exit codes (docs/protocol.md §9): 0 valid/ok, 1 invalid (verification failed, violations), 2 unusable input.
 */
import { Command, CommanderError } from 'commander';
import { UsageError, ExitCode, printJson, unusableJson, wantsJson } from './cli/common';

// A reader that stops early (`tianfu verify bundle.json | head -3`) closes the pipe: the rest of the
// output has nowhere to go, but the command still runs to its verdict and exits with its own code
// (0/1/2), instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
    throw err;
  });
}

const program = new Command('tianfu')
  .description('Tianfu Ledger: anchored e-invoice and evidence log — deploy, verify, audit, export, keys, import, capture, bench, chain')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

// Commands register themselves here (one line each).
const commands: Array<(p: Command) => void> = [];
for (const name of ['deploy', 'verify', 'audit', 'export', 'keys', 'import', 'capture', 'bench', 'chain']) {
  try {
    const mod = require(`./cli/${name}`) as { register?: (p: Command) => void };
    if (mod.register) commands.push(mod.register);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !String((err as Error).message).includes(`cli/${name}`)) throw err;
  }
}
for (const register of commands) register(program);

async function main(): Promise<void> {
  const json = wantsJson(process.argv.slice(2));
  const unusable = (code: string, message: string, text: string): void => {
    process.exitCode = ExitCode.Unusable;
    if (text) process.stderr.write(text);
    if (json) printJson(unusableJson(code, message));
  };
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every parse error is unusable input (commander has written it to stderr).
      if (err.exitCode === 0) process.exitCode = 0;
      else unusable('BAD_ARGUMENTS', err.message.replace(/^error: /, ''), '');
      return;
    }
    if (err instanceof UsageError) {
      unusable(err.code, err.message, `tianfu: ${err.message}\n`);
      return;
    }
    unusable('INTERNAL_ERROR', (err as Error).message ?? String(err), `tianfu: ${(err as Error).stack ?? String(err)}\n`);
  }
}

void main();
