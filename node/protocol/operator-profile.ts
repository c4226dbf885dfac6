/**
 * The operator's disclosures (checklist items 10–12, SPC Online Litigation Rules art. 17): what the
 * log operator declares about itself (name, USCC, CAC filing, 等保 level, who runs which node, key
 * custody, clock source) and the technical profile the node generates from its running configuration
 * (algorithms, software versions, confirmations, MMD), in ONE document the operator key signs:
 *
 *   { type: "tianfu.operator-profile/v1", logId, operator, declared, technical, signedAt, signature }
 *
 * `signature` is EIP-191 by the log operator over JCS of the document without `signature`; the
 * profile's digest is SHA-256(JCS(document)), signature included. GET /v1/operator serves it and a
 * bundle carries `operatorProfile: {digest, profile}`, so a report shows what the operator declared
 * and that the log's own operator signed exactly that. Pure; shapes only (the node validates the
 * declaration strictly at start, node/operator-profile.ts).
 */
import { canonicalBytes } from './canonical';
import { sha256 } from './hash';
import { toHex, type Hex } from './bytes';

export const OPERATOR_PROFILE_TYPE = 'tianfu.operator-profile/v1' as const;

/** One node of the deployment and who runs it (art. 17(2): interest relationships). */
export interface OperatorNode {
  name: string;
  /** Who runs it (an organisation's name). */
  operator: string;
  /** What it does: sequencer, rpc, chain-validator, witness, tsa, backup… */
  role: string;
  location?: string;
}

/** What the operator declares (TIANFU_OPERATOR_PROFILE); the node checks its shape at start. */
export interface OperatorDeclaration {
  operatorName: string;
  /** 统一社会信用代码 (GB 32100-2015), check character verified. */
  uscc: string;
  /** 区块链信息服务备案编号 issued by the CAC. */
  cacFilingNumber: string;
  /** 网络安全等级保护 level (GB/T 22239-2019), 1–5. */
  mlpsLevel: number;
  /** The 等保 assessment report or certificate number, if any. */
  mlpsReference?: string;
  nodes: OperatorNode[];
  /** How the operator key is held (HSM model, KMS, who holds access). */
  keyCustody: string;
  /** Where the node's clock comes from (e.g. NTP from 国家授时中心). */
  clockSource: string;
  /** Transport security in front of the node (TLS / 国密 TLS termination). */
  transportSecurity?: string;
  /** The operator's relationship to parties, or that it has none. */
  interestStatement?: string;
  /** Test reports, accreditations, standards it conforms to (SF/T 0076-2020, GB/T 43580-2023…). */
  accreditations?: string[];
}

/** Generated from the running configuration, never typed by hand. */
export interface TechnicalProfile {
  software: { name: string; version: string; runtime: string };
  algorithms: Record<string, string>;
  chain: { chainId: string; registry: Hex; embedded: boolean; confirmations: number };
  anchoring: { checkpointIntervalMs: number; mmdMs: number };
  timestamping: { tsaUrls: string[] };
  stateMap: boolean;
}

export interface SignedOperatorProfile {
  type: typeof OPERATOR_PROFILE_TYPE;
  logId: Hex;
  /** The log operator's address: who signed. */
  operator: Hex;
  /** Null when the node runs without TIANFU_OPERATOR_PROFILE. */
  declared: OperatorDeclaration | null;
  technical: TechnicalProfile;
  signedAt: string;
  signature: Hex;
}

/** What a bundle carries. */
export interface BundleOperatorProfile {
  digest: Hex;
  profile: SignedOperatorProfile;
}

/** The bytes the operator signs: JCS of the document without its signature. */
export function operatorProfileMessage(p: Omit<SignedOperatorProfile, 'signature'> & { signature?: unknown }): Uint8Array {
  const { signature: _signature, ...unsigned } = p;
  return canonicalBytes(unsigned);
}

/** SHA-256(JCS(the signed document)): what a bundle names the profile by. */
export function operatorProfileDigest(p: unknown): Hex {
  return toHex(sha256(canonicalBytes(p)));
}
