import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
/** Shared CLI plumbing: exit codes and the usage error (exit 2). */
export const ExitCode = { Ok: 0, Invalid: 1, Unusable: 2 } as const;

/** Unusable input: malformed file, bad flag value, unreachable chain. Exit code 2. `code` is stable, for machines. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly code = 'UNUSABLE_INPUT',
  ) {
    super(message);
  }
}

/** What `--json` prints on stdout for exit 2, every command: machine readers never get an empty stream. */
export function unusableJson(code: string, message: string): { verdict: 'unusable'; error: { code: string; message: string } } {
  return { verdict: 'unusable', error: { code, message } };
}

/** True when the command line asks for --json (before a `--` that ends the options). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}

/** An API key from --key, --key-file or env TIANFU_API_KEY, in that order; `what` names it in the error. */
export function apiKeyFrom(flags: { key?: string; keyFile?: string }, what: string): string {
  if (flags.key) return flags.key;
  if (flags.keyFile) {
    try {
      return readFileSync(flags.keyFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`--key-file ${flags.keyFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (process.env.TIANFU_API_KEY) return process.env.TIANFU_API_KEY;
  throw new UsageError(`${what} is needed: --key, --key-file or env TIANFU_API_KEY`);
}

/** A flag's parser for an integer from 1 to `max`: commander reports the refusal with the flag's name (exit 2). */
export function positiveInt(max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`must be an integer from 1 to ${max}`);
    return n;
  };
}
