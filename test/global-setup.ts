import { execFileSync } from 'node:child_process';

/** Compile the contracts once before any test file loads artifacts. */
export default function setup(): void {
  execFileSync('npx', ['hardhat', 'compile', '--quiet'], { stdio: 'inherit' });
}
