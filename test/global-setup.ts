import { execFileSync } from 'node:child_process';
import { ensureSystemTools, MissingToolError } from './support/system-tools';

/**
 * Before any test file loads: the system tools the tests run (Chromium, poppler, OpenSSL, a CJK
 * font) are found or installed once (test/support/system-tools.ts), then the contract artifacts and
 * the browser page are built. Hardhat's own CLI insists on ts-node for a TypeScript config; running
 * its compile task under tsx needs none.
 */
export default async function setup(): Promise<void> {
  try {
    await ensureSystemTools();
  } catch (e) {
    if (!(e instanceof MissingToolError)) throw e;
    // Stop at once with the one line: no stack, no test run that would fail for the same reason.
    process.stderr.write(e.message + '\n');
    process.exit(1);
  }
  execFileSync('npx', ['tsx', 'scripts/build.ts'], { stdio: 'inherit' });
}
