import { subtask } from 'hardhat/config';
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from 'hardhat/builtin-tasks/task-names';
import type { HardhatUserConfig } from 'hardhat/types';
import path from 'node:path';
import '@nomicfoundation/hardhat-ethers';

/** The compiler comes from the npm `solc` package: this machine (and many CI sandboxes) cannot download solc. */
const SOLC_VERSION: string = require('solc/package.json').version;

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion === SOLC_VERSION) {
    const compilerPath = path.join(path.dirname(require.resolve('solc/package.json')), 'soljson.js');
    return { compilerPath, isSolcJs: true, version: args.solcVersion, longVersion: args.solcVersion };
  }
  return runSuper();
});

/** EVM target: `paris` by default (no PUSH0/MCOPY/transient storage) so the bytecode deploys on consortium chains. */
const evmVersion = process.env.TIANFU_EVM_VERSION ?? 'paris';

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion },
  },
  paths: { sources: './contracts', tests: './test/contracts', cache: './cache', artifacts: './artifacts' },
  networks: {
    hardhat: { hardfork: 'cancun', allowUnlimitedContractSize: false },
  },
};

export default config;
