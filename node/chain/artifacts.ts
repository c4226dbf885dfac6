/**
 * Loads contract ABIs and bytecode from Hardhat's compile output (`artifacts/`, produced by
 * `npm run compile`). Artifacts are read once and cached per process.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { InterfaceAbi } from 'ethers';

/** The parts of a Hardhat artifact (`hh-sol-artifact-1`) the chain client needs. */
export interface ContractArtifact {
  contractName: string;
  sourceName: string;
  abi: InterfaceAbi;
  bytecode: string;
  deployedBytecode: string;
}

/** Contracts this project deploys, by name, with their source path under the Hardhat sources root. */
const KNOWN: Record<string, string> = {
  AnchorRegistry: 'contracts/AnchorRegistry.sol',
  BareAnchor: 'contracts/bench/BareAnchor.sol',
  EAS: '@ethereum-attestation-service/eas-contracts/contracts/EAS.sol',
  SchemaRegistry: '@ethereum-attestation-service/eas-contracts/contracts/SchemaRegistry.sol',
};

/** The repository root (two levels above node/chain). Override with TIANFU_ARTIFACTS_DIR. */
export function artifactsDir(): string {
  return process.env.TIANFU_ARTIFACTS_DIR ?? path.resolve(__dirname, '..', '..', 'artifacts');
}

const cache = new Map<string, ContractArtifact>();

/**
 * Reads the artifact of `contractName` (a name from the table above, or any `sourceName` given
 * explicitly). Throws an Error naming the file and the fix when the contracts are not compiled.
 */
export function loadArtifact(contractName: string, sourceName = KNOWN[contractName]): ContractArtifact {
  if (sourceName === undefined) throw new Error(`unknown contract ${JSON.stringify(contractName)}: pass its source name`);
  const file = path.join(artifactsDir(), sourceName, `${contractName}.json`);
  const hit = cache.get(file);
  if (hit) return hit;
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`contract artifact ${file} is missing; run \`npm run compile\` first`, { cause: err });
  }
  const parsed = JSON.parse(raw) as Partial<ContractArtifact> & { _format?: string };
  if (parsed._format !== 'hh-sol-artifact-1' || !Array.isArray(parsed.abi) || typeof parsed.bytecode !== 'string') {
    throw new Error(`${file} is not a Hardhat artifact (hh-sol-artifact-1)`);
  }
  if (parsed.bytecode === '0x') throw new Error(`${contractName} in ${file} has no bytecode (abstract contract or interface?)`);
  const artifact: ContractArtifact = {
    contractName: String(parsed.contractName ?? contractName),
    sourceName: String(parsed.sourceName ?? sourceName),
    abi: parsed.abi,
    bytecode: parsed.bytecode,
    deployedBytecode: String(parsed.deployedBytecode ?? '0x'),
  };
  cache.set(file, artifact);
  return artifact;
}
