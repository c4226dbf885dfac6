/**
 * The invoice registry key (docs/protocol.md §3.1): content-independent, like
 * India's IRN, so "one key, one issue, forever" holds and "same key, different content" is detectable.
 */
import { sha256, toHex, utf8, type Hex } from '../protocol';

export const INVOICE_KEY_TAG = 'CN-EINV|v1|';

/** SHA256("CN-EINV|v1|" + sellerTaxId + "|" + invoiceKind + "|" + invoiceNumber), lowercase 0x-hex. */
export function invoiceKey(sellerTaxId: string, invoiceKind: string, invoiceNumber: string): Hex {
  // '|' never occurs in the parts (checked formats), so the concatenation is unambiguous.
  for (const part of [sellerTaxId, invoiceKind, invoiceNumber]) {
    if (part.length === 0 || part.includes('|')) throw new TypeError(`invoice key part ${JSON.stringify(part)} must be non-empty and contain no '|'`);
  }
  return toHex(sha256(utf8(`${INVOICE_KEY_TAG}${sellerTaxId}|${invoiceKind}|${invoiceNumber}`)));
}
