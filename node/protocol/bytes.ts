/** Byte and hex helpers. Browser-safe: no Buffer, no node: imports. */
import { ProtocolError } from './errors';

export type Hex = `0x${string}`;

const HEX_RE = /^0x(?:[0-9a-f]{2})*$/;

export function isHex(value: unknown, byteLength?: number): value is Hex {
  if (typeof value !== 'string' || !HEX_RE.test(value)) return false;
  return byteLength === undefined || value.length === 2 + 2 * byteLength;
}

// Lookup tables: proofs are converted hash by hash on every verification, and per-byte
// toString/parseInt made the hex conversion cost more than the SHA-256 work it surrounds.
const BYTE_TO_HEX: string[] = Array.from({ length: 256 }, (_, b) => (b < 16 ? '0' : '') + b.toString(16));
const HEX_DIGIT_VALUE: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let i = 0; i < 10; i++) t[48 + i] = i; // '0'..'9'
  for (let i = 0; i < 6; i++) t[97 + i] = 10 + i; // 'a'..'f'
  return t;
})();

/** One byte (0-255) as two lowercase hex digits. */
export function byteHex(b: number): string {
  return BYTE_TO_HEX[b & 0xff]!;
}

export function toHex(bytes: Uint8Array): Hex {
  let out = '0x';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i]!]!;
  return out as Hex;
}

/** Input that is not 0x-prefixed lowercase hex (of the length asked). */
export class HexError extends ProtocolError {
  override readonly name: string = 'HexError';
  declare readonly code: 'INVALID_HEX';
  constructor(message: string) {
    super('INVALID_HEX', message);
  }
}

/** Parses lowercase 0x-hex. Uppercase or odd-length input is refused: hashes have one spelling. */
export function fromHex(hex: string, byteLength?: number): Uint8Array {
  if (!isHex(hex, byteLength)) {
    const want = byteLength === undefined ? '' : ` of ${byteLength} bytes`;
    throw new HexError(`expected 0x-prefixed lowercase hex${want}, got ${JSON.stringify(hex).slice(0, 80)}`);
  }
  const out = new Uint8Array((hex.length - 2) / 2);
  // isHex has already admitted only [0-9a-f] digits, so every table lookup is defined.
  for (let i = 0, j = 2; i < out.length; i++, j += 2) out[i] = HEX_DIGIT_VALUE[hex.charCodeAt(j)]! * 16 + HEX_DIGIT_VALUE[hex.charCodeAt(j + 1)]!;
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = scratchBytes(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const encoder = new TextEncoder();
type NodeBufferClass = { from(text: string, encoding: 'utf8'): Uint8Array; allocUnsafe(size: number): Uint8Array };
// Node's Buffer when present (not in the browser page, whose bundle has no Buffer).
const NodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;

/**
 * `size` bytes that the caller overwrites completely (NOT zeroed under Node) and keeps only briefly:
 * a hash's input, a batch's copy. Under Node a view on Node's shared 8 KiB pool (`Buffer.allocUnsafe`):
 * a typed array of more than 64 bytes otherwise gets an ArrayBuffer of its own, which costs 1.4-4 µs
 * here against ~0.3 (scripts/bench/hash-output.ts). Not for long-lived values: a view keeps its whole
 * pool chunk alive.
 */
export function scratchBytes(size: number): Uint8Array {
  if (NodeBuffer === undefined) return new Uint8Array(size);
  const b = NodeBuffer.allocUnsafe(size);
  return new Uint8Array(b.buffer, b.byteOffset, size);
}

/**
 * UTF-8 of `text` (WHATWG: a lone surrogate becomes U+FFFD, in both paths). Under Node through
 * `Buffer.from`, which copies a short string into Node's shared 8 KiB pool instead of allocating an
 * ArrayBuffer as TextEncoder does: ~0.4 µs against 1.2-5 µs for a 220-character log entry here
 * (scripts/bench/hash-output.ts). The result is a plain Uint8Array view; its `.buffer` may be that
 * shared pool, so whoever transfers or wraps `.buffer` must copy first (none of the node's callers do).
 */
export function utf8(text: string): Uint8Array {
  if (NodeBuffer === undefined) return encoder.encode(text);
  const b = NodeBuffer.from(text, 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
