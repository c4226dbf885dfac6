/**
 * The operator's disclosures (TIANFU_OPERATOR_PROFILE; format in node/protocol/operator-profile.ts):
 * the declaration file is read and checked strictly when the node starts (a malformed one stops it,
 * naming the field), the technical profile is generated from the running configuration, and the
 * whole document is signed by the operator key. GET /v1/operator serves it; bundles carry it.
 */
import fs from 'node:fs';
import { z } from 'zod';
import type { Wallet } from 'ethers';
import { OPERATOR_PROFILE_TYPE, operatorProfileDigest, operatorProfileMessage, type BundleOperatorProfile, type Hex, type OperatorDeclaration, type SignedOperatorProfile, type TechnicalProfile } from './protocol';
import { usccProblem } from './invoice/tax-id';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

export const OperatorDeclarationSchema = z.strictObject({
  operatorName: text(256),
  uscc: z.string().superRefine((v, ctx) => {
    const p = usccProblem(v);
    if (p) ctx.addIssue({ code: 'custom', message: `is not a valid 统一社会信用代码 (GB 32100-2015): ${p.replace('_', ' ')}` });
  }),
  cacFilingNumber: text(128),
  mlpsLevel: z.number().int().min(1).max(5),
  mlpsReference: text(256).optional(),
  nodes: z
    .array(z.strictObject({ name: text(128), operator: text(256), role: text(64), location: text(256).optional() }))
    .min(1, 'must list at least one node'),
  keyCustody: text(1000),
  clockSource: text(500),
  transportSecurity: text(500).optional(),
  interestStatement: text(2000).optional(),
  accreditations: z.array(text(500)).max(32).optional(),
});

export class OperatorProfileError extends Error {
  override readonly name = 'OperatorProfileError';
}

/** Reads and checks the declaration file; the error names the variable, the file and the field. */
export function readOperatorDeclaration(file: string): OperatorDeclaration {
  const where = `TIANFU_OPERATOR_PROFILE ${file}`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new OperatorProfileError(`${where}: cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new OperatorProfileError(`${where}: not JSON: ${(err as Error).message}`);
  }
  const r = OperatorDeclarationSchema.safeParse(json);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(document)'}: ${i.message}`);
    throw new OperatorProfileError(`${where}: ${lines.join('; ')}`);
  }
  return r.data as OperatorDeclaration;
}

export interface TechnicalInputs {
  version: string;
  chainId: bigint;
  registry: Hex;
  embedded: boolean;
  confirmations: number;
  checkpointIntervalMs: number;
  mmdMs: number;
  tsaUrls: readonly string[];
  stateMap: boolean;
}

/** The technical profile, from the running configuration only. */
export function technicalProfile(t: TechnicalInputs): TechnicalProfile {
  return {
    software: { name: 'tianfu-ledger', version: t.version, runtime: `Node.js ${process.version}` },
    algorithms: {
      'record canonicalisation': 'RFC 8785 JCS',
      'record and entry hash': 'SHA-256',
      'log tree': 'RFC 9162 Merkle tree (SHA-256, 0x00 leaf / 0x01 node prefixes)',
      'file digests': 'SHA-256 and SM3 (GB/T 32905-2016)',
      'operator signatures': 'ECDSA secp256k1, EIP-191 personal messages, RFC 6979 deterministic nonces',
      'time stamps': 'RFC 3161, SHA-256 message imprint of the signed checkpoint',
    },
    chain: { chainId: t.chainId.toString(), registry: t.registry.toLowerCase() as Hex, embedded: t.embedded, confirmations: t.confirmations },
    anchoring: { checkpointIntervalMs: t.checkpointIntervalMs, mmdMs: t.mmdMs },
    timestamping: { tsaUrls: [...t.tsaUrls] },
    stateMap: t.stateMap,
  };
}

/** Signs declaration and technical profile with the operator key; returns what bundles carry. */
export async function signOperatorProfile(wallet: Pick<Wallet, 'address' | 'signMessage'>, logId: Hex, declared: OperatorDeclaration | null, technical: TechnicalProfile, at = new Date()): Promise<BundleOperatorProfile> {
  const unsigned = { type: OPERATOR_PROFILE_TYPE, logId, operator: wallet.address.toLowerCase() as Hex, declared, technical, signedAt: at.toISOString() };
  const signature = (await wallet.signMessage(operatorProfileMessage(unsigned))) as Hex;
  const profile: SignedOperatorProfile = { ...unsigned, signature };
  return { digest: operatorProfileDigest(profile), profile };
}
