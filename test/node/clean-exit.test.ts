import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import path from 'node:path';

describe('shutdown', () => {
  it('a stopped node leaves no handle behind: the process exits by itself (no worker or port keeps it alive)', async () => {
    const tsx = path.join(__dirname, '../../node_modules/tsx/dist/cli.mjs');
    const r = await new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) => {
      const child = execFile(process.execPath, [tsx, path.join(__dirname, 'fixtures/start-stop.ts')], { timeout: 45_000, killSignal: 'SIGKILL' }, (_e, out, err) => {
        resolve({ code: child.exitCode, signal: child.signalCode, out, err });
      });
    });
    expect(r.out, r.err).toContain('closed');
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.code).toBe(0);
  });
});
