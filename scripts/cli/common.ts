import { readFileSync } from 'node:fs';
/** Shared CLI plumbing: exit codes and the usage error (exit 2). */
export const ExitCode = { Ok: 0, Invalid: 1, Unusable: 2 } as const;

/** Unusable input: malformed file, bad flag value, unreachable chain. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
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
