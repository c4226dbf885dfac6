/**
 * Loads Hardhat's runtime environment in-process (real Hardhat network EVM). hardhat.config.ts is
 * TypeScript and Hardhat would want ts-node for it; tsx's require hook (registered once) compiles it.
 */
import type { HardhatRuntimeEnvironment } from 'hardhat/types';

let hre: HardhatRuntimeEnvironment | undefined;

export function loadHre(): HardhatRuntimeEnvironment {
  if (hre === undefined) {
    (require('tsx/cjs/api') as { register: () => unknown }).register();
    hre = require('hardhat') as HardhatRuntimeEnvironment;
  }
  return hre;
}
