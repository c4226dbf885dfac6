/** Shared CLI plumbing: exit codes and the usage error (exit 2). */
export const ExitCode = { Ok: 0, Invalid: 1, Unusable: 2 } as const;

/** Unusable input: malformed file, bad flag value, unreachable chain. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}
