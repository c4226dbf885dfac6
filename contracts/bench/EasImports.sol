// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

// Benchmark only: makes Hardhat compile the Ethereum Attestation Service contracts from the npm
// package so scripts/bench/gas.ts can deploy them and measure one `attest` beside our anchor.
import {SchemaRegistry} from "@ethereum-attestation-service/eas-contracts/contracts/SchemaRegistry.sol";
import {EAS} from "@ethereum-attestation-service/eas-contracts/contracts/EAS.sol";
