/**
 * Byte ranges (RFC 9110 §14) and the content headers of GET/HEAD /v1/evidence/{id}/content: the
 * range a request asks, decided before anything is read or logged; the strong ETag (the SHA-256);
 * RFC 9530 digests; RFC 6266 Content-Disposition.
 */
import type { Request, Response } from 'express';
import { HttpProblem } from '../problem';
import type { Hex } from '../../node';

/**
 * One byte range of RFC 9110 §14.1.2 (`bytes=a-b`, `bytes=a-`, `bytes=-n`) against a file of `size`
 * bytes: the inclusive offsets, 'unsatisfiable' (§14.1.1: no byte of it is in the file) or null for
 * anything this route ignores and answers with the whole file, as §14.2 allows: another unit, several
 * ranges, a last position below the first, or text that is not a range at all.
 */
export function parseByteRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = /^bytes=(?:(\d+)-(\d*)|-(\d+))$/.exec(header.trim());
  if (!m) return null;
  if (m[3] !== undefined) {
    const n = Number(m[3]);
    if (!Number.isSafeInteger(n)) return null;
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (!Number.isSafeInteger(first) || (last !== Infinity && !Number.isSafeInteger(last))) return null;
  if (last < first) return null; // invalid (§14.1.1), so ignored
  if (first >= size) return 'unsatisfiable';
  return { start: first, end: Math.min(last, size - 1) };
}

/** Strong ETag of a content-addressed file: its SHA-256 in hex. */
export const etagOf = (sha256: Hex): string => `"${sha256.slice(2)}"`;

/** RFC 9530 digest field value: `sha-256=:<base64>:`. */
export function sfDigest(sha256Hex: string): string {
  return `sha-256=:${Buffer.from(sha256Hex.slice(2), 'hex').toString('base64')}:`;
}

/** RFC 6266 Content-Disposition with an ASCII fallback and the RFC 8187 UTF-8 form. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * The range of `req` against a file of `size` bytes whose SHA-256 is `sha256`: null for the whole
 * file (no Range, an If-Range for another version, or a range this route ignores); throws
 * RANGE_NOT_SATISFIABLE (with Content-Range set on `res`) when no byte of it is in the file.
 */
export function rangeResolver(req: Request, res: Response): (size: number, sha256: Hex) => { start: number; end: number } | null {
  return (size, sha256) => {
    const header = req.headers.range;
    if (header === undefined) return null;
    const ifRange = req.headers['if-range'];
    if (ifRange !== undefined && ifRange !== etagOf(sha256)) return null; // another version (or a date): the whole file
    const r = parseByteRange(header, size);
    if (r === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${size}`);
      throw new HttpProblem('RANGE_NOT_SATISFIABLE', `the range ${header} is outside the file's ${size} bytes; nothing was read or logged`);
    }
    return r; // null: another unit, several ranges or an invalid one: the whole file, one read
  };
}
