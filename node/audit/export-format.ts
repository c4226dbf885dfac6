/**
 * The export directory (`tianfu export`, `tianfu audit --from-export`), format `tianfu.export/v1`:
 *
 *   manifest.json     {format, logId, chainId, registry, operator, treeSize, rootHash, exportedAt, records}
 *                     written last (atomically): its presence means the export reached treeSize.
 *   entries.jsonl     one {index, entry, leafHash} per line, index 0.. in log order
 *   receipts.jsonl    one signed receipt per line, same order
 *   records.jsonl     (with --records) one {index, kind, subject, record, salt, recordDigest} per line
 *   checkpoints.json  the node's list of anchored checkpoints (GET /v1/log/checkpoints)
 *
 * JSON Lines so that an interrupted export resumes by appending after the last complete line.
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Hex } from '../protocol/bytes';

export const EXPORT_FORMAT = 'tianfu.export/v1' as const;
export const FILES = {
  manifest: 'manifest.json',
  entries: 'entries.jsonl',
  receipts: 'receipts.jsonl',
  records: 'records.jsonl',
  checkpoints: 'checkpoints.json',
} as const;

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  logId: Hex;
  chainId: string;
  registry: Hex;
  operator: Hex;
  treeSize: number;
  rootHash: Hex;
  exportedAt: string;
  records: boolean;
}

export class ExportFormatError extends Error {
  override readonly name = 'ExportFormatError';
}

/**
 * Reads a file line by line with synchronous reads (one buffer, no per-line promises): the audit
 * replays millions of lines and the reader must not be the bottleneck.
 */
export class LineReader {
  private fd: number;
  private readonly buf: Buffer;
  // Keeps a multi-byte UTF-8 character that straddles two chunks whole.
  private readonly decoder = new StringDecoder('utf8');
  private carry = '';
  private lines: string[] = [];
  private pos = 0;
  private eof = false;
  lineNo = 0;

  constructor(readonly file: string, chunkBytes = 1 << 20) {
    this.fd = fs.openSync(file, 'r');
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** The next line without its newline, or null at the end. A last line with no newline is returned as well. */
  next(): string | null {
    while (this.pos >= this.lines.length) {
      if (this.eof) return null;
      const n = fs.readSync(this.fd, this.buf, 0, this.buf.length, null);
      if (n === 0) {
        this.eof = true;
        const tail = this.carry + this.decoder.end();
        this.lines = tail.length > 0 ? [tail] : [];
        this.pos = 0;
        this.carry = '';
        continue;
      }
      const text = this.carry + this.decoder.write(this.buf.subarray(0, n));
      const parts = text.split('\n');
      this.carry = parts.pop()!;
      this.lines = parts;
      this.pos = 0;
    }
    this.lineNo++;
    return this.lines[this.pos++]!;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * For resuming: the byte length of the complete, parseable lines of a JSONL file and the last
 * line's value. A torn last line (no newline, or not JSON) is cut off.
 */
export function completeLines(file: string): { bytes: number; count: number; last: unknown } {
  if (!fs.existsSync(file)) return { bytes: 0, count: 0, last: undefined };
  const data = fs.readFileSync(file);
  let end = data.lastIndexOf(0x0a) + 1; // after the last newline
  let count = 0;
  let last: unknown;
  // Count newlines; the last complete line must parse, else step back one line (torn write + newline).
  for (let i = 0; i < end; i++) if (data[i] === 0x0a) count++;
  while (end > 0) {
    const prevNl = data.lastIndexOf(0x0a, end - 2);
    const line = data.toString('utf8', prevNl + 1, end - 1);
    try {
      last = JSON.parse(line);
      break;
    } catch {
      end = prevNl + 1;
      count--;
    }
  }
  return { bytes: end, count, last };
}
