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

/** Hardhat compiles each file with its own settings, so every file on an import path to MCOPY is listed. */
const BENCH_CANCUN_SOURCES = [
  'contracts/bench/EasImports.sol',
  '@ethereum-attestation-service/eas-contracts/contracts/SchemaRegistry.sol',
  '@ethereum-attestation-service/eas-contracts/contracts/Semver.sol',
  '@ethereum-attestation-service/eas-contracts/contracts/EAS.sol',
  '@ethereum-attestation-service/eas-contracts/contracts/eip1271/EIP1271Verifier.sol',
  '@openzeppelin/contracts/utils/Strings.sol',
  '@openzeppelin/contracts/utils/Bytes.sol',
  '@openzeppelin/contracts/utils/cryptography/EIP712.sol',
  '@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol',
  '@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol',
];

const config: HardhatUserConfig = {
  solidity: {
    compilers: [{ version: SOLC_VERSION, settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion } }],
    // Benchmark only (scripts/bench/gas.ts): EAS pulls in OpenZeppelin code that uses MCOPY, so it and
    // every file that imports such code need `cancun`. Deployed only on the in-process network.
    overrides: Object.fromEntries(BENCH_CANCUN_SOURCES.map((s) => [s, { version: SOLC_VERSION, settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun' } }])),
  },
  paths: { sources: './contracts', tests: './test/contracts', cache: './cache', artifacts: './artifacts' },
  networks: {
    hardhat: { hardfork: 'cancun', allowUnlimitedContractSize: false },
  },
};

export default config;
