import { execFileSync } from 'node:child_process';

/**
 * Builds the contract artifacts and the browser page once before any test file loads them.
 * Hardhat's own CLI insists on ts-node for a TypeScript config; running its compile task under tsx needs none.
 */
export default function setup(): void {
  execFileSync('npx', ['tsx', 'scripts/build.ts'], { stdio: 'inherit' });
}
