/**
 * The wire shapes the API shares between routes — hex types, Receipt, the anchored checkpoint and
 * Anchoring, Bundle — built from node/protocol's constants and registered once in the OpenAPI
 * document (each `.openapi(name)` here is the only schema of that name). Routes import these instead
 * of retyping them; request-only shapes stay with their route.
 */
import { z } from './openapi';
import { BUNDLE_FORMAT, CHECKPOINT_TYPE, CHECKPOINT_V2_TYPE, RECEIPT_TYPE, RECEIPT_V2_TYPE } from '../node/protocol/formats';
import { ENTRY_VERSION } from '../node/protocol/record';
import { SUBJECT_SCHEME } from '../node/protocol/subject';

/** 32 bytes, 0x-prefixed lowercase hex: hashes, log ids, invoice keys, salts. */
export const Hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, 'must be 0x-prefixed lowercase hex of 32 bytes').openapi('Hex32', { example: '0x' + 'ab'.repeat(32) });
/** A 20-byte EVM address, either case (checksummed or not). */
export const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address').openapi('Address', { example: '0x' + '12'.repeat(20) });
/** A 65-byte EIP-191 signature, 0x-hex. */
export const Signature65 = z.string().regex(/^0x[0-9a-f]{130}$/, 'must be a 65-byte signature, 0x-prefixed lowercase hex').openapi('Signature65');
/** A chain integer (block number, timestamp, chain id) as a decimal string. */
export const DecimalString = z.string().regex(/^(0|[1-9][0-9]*)$/).openapi('DecimalString', { example: '42' });

export const ReceiptV1 = z
  .object({ type: z.literal(RECEIPT_TYPE), logId: Hex32, index: z.number().int(), leafHash: Hex32, at: z.string(), signature: Signature65 })
  .openapi('ReceiptV1', { description: `${RECEIPT_TYPE} (records logged before v2): the operator's EIP-191 signature over JCS({logId, index, leafHash, at})` });

/** The signed tree head of one group commit: what a v2 receipt's one signature is over. */
export const GroupCheckpoint = z
  .object({ type: z.literal(CHECKPOINT_V2_TYPE), logId: Hex32, treeSize: z.number().int(), rootHash: Hex32, at: z.string(), signature: Signature65 })
  .openapi('GroupCheckpoint', { description: `${CHECKPOINT_V2_TYPE}: the operator's EIP-191 signature over JCS({type, logId, treeSize, rootHash, at}), the tree right after the group commit that accepted the record` });

const receiptV2Fields = {
  type: z.literal(RECEIPT_V2_TYPE),
  logId: Hex32,
  index: z.number().int(),
  leafHash: Hex32,
  at: z.string(),
  proof: z.array(Hex32).openapi({ description: 'RFC 9162 inclusion proof of leaf `index` in the tree of the checkpoint' }),
};
export const ReceiptV2 = z
  .object({ ...receiptV2Fields, checkpoint: GroupCheckpoint })
  .openapi('ReceiptV2', { description: `${RECEIPT_V2_TYPE}: the group's signed checkpoint and this record's inclusion proof to it (docs/protocol.md §5)` });

export const Receipt = z.union([ReceiptV2, ReceiptV1]).openapi('Receipt', { description: `${RECEIPT_V2_TYPE}, or ${RECEIPT_TYPE} for records logged before v2` });

/**
 * A receipt in a batch answer: v2 with `checkpoint` given as the tree size of one of the answer's
 * `checkpoints` (each group checkpoint is sent once per answer), or a whole v1 receipt.
 */
export const BatchReceipt = z
  .union([z.object({ ...receiptV2Fields, checkpoint: z.number().int().openapi({ description: 'treeSize of the answer\'s checkpoint this receipt is for' }) }), ReceiptV1])
  .openapi('BatchReceipt', { description: `a receipt of a batch answer: put the answer's \`checkpoints\` entry of this tree size in \`checkpoint\` to get the ${RECEIPT_V2_TYPE}` });

/** A checkpoint as the registry anchored it. */
export const AnchoredCheckpoint = z
  .object({ treeSize: z.number().int(), rootHash: Hex32, txHash: Hex32, blockNumber: DecimalString, timestamp: DecimalString })
  .openapi('AnchoredCheckpoint');

/** Whether an entry is anchored yet, and by which checkpoint. */
export const Anchoring = z.object({ state: z.enum(['anchored', 'pending']), checkpoint: AnchoredCheckpoint.nullable() }).openapi('Anchoring');

export const SubjectLink = z.object({ scheme: z.literal(SUBJECT_SCHEME), key: Hex32, salt: Hex32 }).openapi('SubjectLink', {
  description: `pseudonymous subjects (invoices): SHA-256("${SUBJECT_SCHEME}" 0x00 salt key) is the subject; key is the invoice key the record names`,
});

const LogEntry = z.object({ v: z.literal(ENTRY_VERSION), kind: z.string(), subject: z.string(), commitment: Hex32, at: z.string() }).openapi('LogEntry');
const Anchor = z.object({ chainId: DecimalString, registry: Address, logId: Hex32, treeSize: z.number().int(), rootHash: Hex32, txHash: Hex32, blockNumber: DecimalString, timestamp: DecimalString }).openapi('Anchor');

export const Bundle = z
  .looseObject({
    format: z.literal(BUNDLE_FORMAT),
    kind: z.enum(['invoice', 'evidence', 'record']),
    subject: z.string(),
    subjectLink: SubjectLink.optional(),
    log: z.object({ logId: Hex32, operator: Address, chainId: DecimalString, registry: Address }),
    items: z.array(
      z.object({
        record: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'null when erased (crypto-shredding)' }),
        salt: Hex32.nullable(),
        entry: LogEntry,
        index: z.number().int(),
        receipt: Receipt,
        inclusion: z.object({ leafIndex: z.number().int(), treeSize: z.number().int(), rootHash: Hex32, proof: z.array(Hex32) }).nullable(),
        anchor: Anchor.nullable(),
        receiptConsistency: z
          .object({ from: z.number().int(), to: z.number().int(), proof: z.array(Hex32) })
          .optional()
          .openapi({ description: "RFC 9162 consistency proof between the v2 receipt's signed tree and the anchored tree (smaller to larger); absent when their sizes are equal" }),
      }),
    ),
    file: z.object({ sha256: Hex32, sm3: Hex32, size: z.number().int() }).nullable().optional(),
    checkpoint: z.object({ type: z.literal(CHECKPOINT_TYPE), logId: Hex32, treeSize: z.number().int(), rootHash: Hex32, signature: Signature65 }).optional(),
    createdAt: z.string(),
  })
  .openapi('Bundle', { description: `${BUNDLE_FORMAT}: every record about one subject with its proof, receipt and anchor (verify with tianfu verify, POST /v1/verify or the page)` });
