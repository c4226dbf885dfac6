/** Helpers shared by the evidence route tests: metadata, multipart deposits, bundle checks, blob dir listing. */
import fs from 'node:fs';
import path from 'node:path';
import { createCipheriv, createHash } from 'node:crypto';
import {
  commitment,
  entryLeafHash,
  fromHex,
  recordDigest,
  verifyInclusion,
  verifyReceiptSigner,
  type Bundle,
  type Hex,
} from '../../node';
import type { ApiResult, TestLedger } from '../support/ledger';

let seq = 0;

export function metadata(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  seq++;
  return {
    title: `Listing page of shop ${seq} (captured for case review)`,
    mediaType: 'multipart/related',
    fileName: `listing-${seq}.mhtml`,
    method: 'web-page',
    source: { url: `https://shop.example.com/item/${seq}` },
    capturedAt: new Date(Date.now() - 60_000).toISOString(),
    environment: { tool: 'tianfu-capture', toolVersion: '1.4.2', os: 'Debian 12', publicIp: '203.0.113.7', checks: ['clean-profile'] },
    caseRef: `(2025)浙0192民初${seq}号`,
    ...overrides,
  };
}

/** Deterministic pseudo-random bytes (AES-256-CTR keystream under SHA256(seed)). */
export function bytesOf(size: number, seed: string): Buffer {
  const c = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  return c.update(Buffer.alloc(size));
}

/** POST /v1/evidence as multipart/form-data: the metadata part first, then the file. */
export async function deposit(t: TestLedger, key: string | undefined, meta: unknown, file: Uint8Array, opts: { fileFirst?: boolean; metaAsText?: string } = {}): Promise<ApiResult> {
  const fd = new FormData();
  const metaText = opts.metaAsText ?? JSON.stringify(meta);
  const blob = new Blob([new Uint8Array(file)], { type: 'application/octet-stream' });
  if (opts.fileFirst) fd.append('file', blob, 'page.mhtml');
  fd.append('metadata', metaText);
  if (!opts.fileFirst) fd.append('file', blob, 'page.mhtml');
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(t.url + '/v1/evidence', { method: 'POST', body: fd, headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

/** Every file under <dataDir>/blobs (relative paths), to show that a refusal kept nothing. */
export function blobFiles(t: TestLedger): string[] {
  const root = t.ledger.blobs.root;
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

/**
 * Checks a bundle with the protocol functions (docs/protocol.md §9): for each item with a record,
 * digest → commitment = the entry's; leaf hash = the receipt's; receipt signed by the operator;
 * inclusion proof to the anchor's root; the anchor's root equal to the registry's checkpoint on chain.
 * Items whose record was erased are checked from the entry on (they still prove their place in the log).
 */
export async function verifyBundle(t: TestLedger, bundle: Bundle): Promise<{ checked: number; erasedItems: number }> {
  let erasedItems = 0;
  for (const item of bundle.items) {
    const leaf = entryLeafHash(item.entry);
    if (leaf !== item.receipt.leafHash) throw new Error(`item ${item.index}: leaf ${leaf} is not the receipt's ${item.receipt.leafHash}`);
    verifyReceiptSigner(item.receipt, bundle.log.operator);
    if (item.record === null || item.salt === null) erasedItems++;
    else {
      const c = commitment(item.salt, recordDigest(item.record));
      if (c !== item.entry.commitment) throw new Error(`item ${item.index}: commitment ${c} is not the entry's ${item.entry.commitment}`);
    }
    if (!item.inclusion || !item.anchor) throw new Error(`item ${item.index} is pending`);
    verifyInclusion(item.index, item.inclusion.treeSize, fromHex(leaf), item.inclusion.proof.map((h) => fromHex(h)), fromHex(item.anchor.rootHash));
    const onChain = await t.ledger.registry.checkpoint(t.ledger.logId, item.anchor.treeSize);
    if (onChain?.rootHash !== item.anchor.rootHash) throw new Error(`item ${item.index}: chain root ${onChain?.rootHash} is not the anchor's ${item.anchor.rootHash}`);
  }
  return { checked: bundle.items.length, erasedItems };
}

export function sha256Hex(b: Uint8Array): Hex {
  return ('0x' + createHash('sha256').update(b).digest('hex')) as Hex;
}
