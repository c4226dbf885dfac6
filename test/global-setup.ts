import { execFileSync } from 'node:child_process';

/**
 * Compile the contracts once before any test file loads artifacts. Hardhat's own CLI insists on ts-node
 * for a TypeScript config, which is not installed; running its compile task under tsx needs none.
 */
export default function setup(): void {
  execFileSync('npx', ['tsx', '-e', "require('hardhat').run('compile', { quiet: true })"], { stdio: 'inherit' });
}
