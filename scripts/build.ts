/**
 * Builds what the node serves and loads at run time: the contract artifacts (Hardhat compile, solc
 * from npm) and the browser verification page. `npm start` and the test setup run it; both steps
 * are incremental (Hardhat caches, esbuild is fast).
 */
import { buildPage } from './build-page';

async function main(): Promise<void> {
  const hre = require('hardhat') as { run(task: string, args?: object): Promise<unknown> };
  await hre.run('compile', { quiet: true });
  await buildPage();
}

main().catch((err: unknown) => {
  process.stderr.write(`build failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
