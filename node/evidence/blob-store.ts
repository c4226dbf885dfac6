/**
 * Content-addressed, durable file store for evidence content (docs/evidence.md).
 *
 * Layout under the store's directory (by convention `<dataDir>/blobs`; `openBlobStore(dataDir)`):
 *   tmp/<random>.part          uploads in flight (removed at open: they belong to a crashed process)
 *   <aa>/<sha256 hex>          one file per distinct content, `aa` = first two hex digits of the SHA-256
 *
 * Ingest streams the upload once: every chunk goes through SHA-256 and SM3 (node:crypto, GB/T 32905)
 * and into the temp file, with stream backpressure, so memory stays bounded whatever the file size.
 * The temp file is fsynced, renamed into place, and the directory fsynced, so that once `ingest`
 * resolves the content survives a power cut (the caller acknowledges the deposit only after that).
 *
 * Deduplication is by SHA-256. An existing blob with that name is not trusted blindly: it is re-hashed,
 * and only if both digests match is the new upload discarded; a damaged blob is replaced by the
 * freshly verified upload (`repaired: true`). This stops a corrupted or planted file from standing in
 * for content whose digests the client just proved.
 *
 * One blob may back several deposits (the same file deposited twice is two pieces of evidence).
 * `erase` removes the bytes regardless; reference counting across deposits is the caller's job
 * (see docs/evidence.md, "Erasure").
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { constants as fsConstants, createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OffloadedSm3, startSm3Worker } from './sm3-offload';
import type { Hex } from '../protocol/bytes';
import { DomainError } from '../domain/types';

export type EvidenceStoreErrorCode =
  | 'EVIDENCE_TOO_LARGE'
  | 'EVIDENCE_DIGEST_MISMATCH'
  | 'EVIDENCE_BAD_DIGEST'
  | 'EVIDENCE_CONTENT_NOT_FOUND'
  | 'EVIDENCE_UPLOAD_FAILED'
  | 'EVIDENCE_BAD_LIMIT';

const SHA256_RE = /^0x[0-9a-f]{64}$/;
/** Write in 1 MiB batches: few syscalls, and still a small, fixed amount of memory per upload. */
const WRITE_HIGH_WATER = 1 << 20;
const READ_HIGH_WATER = 1 << 20;

export interface IngestOptions {
  /** Refuse (and keep nothing) once more than this many bytes arrived. */
  maxBytes: number;
  /** The client's SHA-256 (0x-hex); a mismatch is refused and nothing is kept. */
  expectSha256?: Hex;
  /** The client's SM3 (0x-hex); a mismatch is refused and nothing is kept. */
  expectSm3?: Hex;
}

export interface IngestResult {
  sha256: Hex;
  sm3: Hex;
  size: number;
  /** Absolute path of the stored blob. */
  path: string;
  /** True when identical content was already stored (and re-verified); nothing new was written. */
  deduplicated: boolean;
  /** True when a stored blob of that name failed re-verification and was replaced by this upload. */
  repaired: boolean;
}

export interface BlobStat {
  sha256: Hex;
  size: number;
  path: string;
  mtime: Date;
}

export interface VerifyResult {
  /** True when the stored bytes hash to the blob's name (and to `expectSm3`/`expectSize` when given). */
  ok: boolean;
  expected: { sha256: Hex; sm3?: Hex; size?: number };
  calculated: { sha256: Hex; sm3: Hex; size: number };
}

function digestHex(h: Hash): Hex {
  return `0x${h.digest('hex')}` as Hex;
}

function checkDigest(value: string, field: string): Hex {
  if (!SHA256_RE.test(value)) {
    throw new DomainError('EVIDENCE_BAD_DIGEST', `${field} must be 32 bytes of 0x-prefixed lowercase hex`, { path: [field], got: String(value).slice(0, 80) });
  }
  return value as Hex;
}

/** SHA-256 + SM3 + byte count over whatever passes through; refuses to pass more than `maxBytes`. */
class DigestingLimiter extends Transform {
  readonly sha = createHash('sha256');
  /** SM3 runs on a worker thread, in parallel with parsing, SHA-256 and the write (see sm3-offload.ts). */
  readonly sm3 = new OffloadedSm3();
  size = 0;

  constructor(private readonly maxBytes: number) {
    super({ highWaterMark: WRITE_HIGH_WATER });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      // Refuse as soon as the limit is crossed, not after reading the rest: a 100 GiB upload
      // must not fill the disk before it is rejected.
      cb(new DomainError('EVIDENCE_TOO_LARGE', `evidence file exceeds the limit of ${this.maxBytes} bytes`, { maxBytes: this.maxBytes, receivedAtLeast: this.size }));
      return;
    }
    this.sha.update(chunk);
    this.sm3.update(chunk).then(
      () => cb(null, chunk),
      (err: unknown) => cb(err as Error),
    );
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    // A stream that ended well is destroyed too (autoDestroy): its digest is still to be read.
    if (err) this.sm3.drop();
    cb(err);
  }
}

/** Writes every byte, looping on short writes (write(2) may write less than asked). */
async function writeAll(fh: fsp.FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/** Writes every byte of `bufs` in order with writev(2), resuming after a short write. */
async function writevAll(fh: fsp.FileHandle, bufs: Buffer[]): Promise<void> {
  let rest = bufs;
  while (rest.length > 0) {
    let { bytesWritten } = await fh.writev(rest);
    // Drop what was written: whole buffers, then the written head of the next one.
    let i = 0;
    while (i < rest.length && bytesWritten >= rest[i]!.length) bytesWritten -= rest[i++]!.length;
    rest = rest.slice(i);
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
  }
}

/**
 * Writable over an open file handle: batched writes (the stream's writev hands over everything
 * buffered up to the high-water mark) and an fsync before 'finish', so that a resolved pipeline means
 * the bytes are on disk. The caller keeps ownership of the handle.
 */
class SyncedFileSink extends Writable {
  constructor(private readonly fh: fsp.FileHandle) {
    super({ highWaterMark: WRITE_HIGH_WATER });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    writeAll(this.fh, chunk).then(() => cb(), cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    // writev(2) over the chunks as they are: no 1 MiB concatenated copy per batch (garbage that sat in RSS until a GC).
    writevAll(this.fh, chunks.map((c) => c.chunk)).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.fh.sync().then(() => cb(), cb);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  // A rename or unlink is durable only once the directory entry itself is on disk (POSIX fsync(2)).
  const fh = await fsp.open(dir, fsConstants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Hashes a file with SHA-256 and SM3 in one streaming pass. */
export async function hashFile(file: string): Promise<{ sha256: Hex; sm3: Hex; size: number }> {
  const sha = createHash('sha256');
  const sm3 = createHash('sm3');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: READ_HIGH_WATER })) {
    const b = chunk as Buffer;
    size += b.length;
    sha.update(b);
    sm3.update(b);
  }
  return { sha256: digestHex(sha), sm3: digestHex(sm3), size };
}

export class BlobStore {
  /** Where uploads in flight live; empty whenever no ingest is running. */
  readonly tmpDir: string;

  private constructor(readonly root: string) {
    this.tmpDir = path.join(root, 'tmp');
  }

  /**
   * Opens (creating if needed) the store under `<dataDir>/blobs` and removes temp files left by a
   * crash: an upload that never reached its rename was never acknowledged, so nothing is lost.
   * One process owns a data directory at a time (the node's lock), so no live upload is removed.
   */
  static async open(root: string): Promise<BlobStore> {
    const store = new BlobStore(path.resolve(root));
    await fsp.mkdir(store.tmpDir, { recursive: true });
    for (const name of await fsp.readdir(store.tmpDir)) {
      await fsp.rm(path.join(store.tmpDir, name), { force: true, recursive: true });
    }
    startSm3Worker();
    return store;
  }

  /** Absolute path of the blob for a SHA-256 (whether or not it exists). */
  pathFor(sha256: Hex): string {
    const hex = checkDigest(sha256, 'sha256').slice(2);
    return path.join(this.root, hex.slice(0, 2), hex);
  }

  /**
   * Streams `source` into the store. Resolves once the content is durable. Refuses, keeping nothing,
   * when the upload exceeds `maxBytes` (EVIDENCE_TOO_LARGE) or does not match the client's digests
   * (EVIDENCE_DIGEST_MISMATCH, with `algorithm`, `expected` and `calculated`). A failing source
   * stream is reported as EVIDENCE_UPLOAD_FAILED; disk errors are rethrown as they are (a 5xx).
   */
  async ingest(source: Readable, opts: IngestOptions): Promise<IngestResult> {
    if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 0) {
      throw new DomainError('EVIDENCE_BAD_LIMIT', `maxBytes must be a non-negative safe integer, got ${opts.maxBytes}`);
    }
    const expectSha256 = opts.expectSha256 === undefined ? undefined : checkDigest(opts.expectSha256, 'sha256');
    const expectSm3 = opts.expectSm3 === undefined ? undefined : checkDigest(opts.expectSm3, 'sm3');

    const tmp = path.join(this.tmpDir, `${randomBytes(16).toString('hex')}.part`);
    const limiter = new DigestingLimiter(opts.maxBytes);
    let sourceError: unknown;
    const onSourceError = (err: unknown): void => {
      sourceError ??= err;
    };
    source.once('error', onSourceError);
    let kept = false;
    try {
      // 'wx': never follow or overwrite anything already at that name; 0600: evidence is private.
      const fh = await fsp.open(tmp, 'wx', 0o600);
      try {
        await pipeline(source, limiter, new SyncedFileSink(fh));
      } finally {
        await fh.close();
      }

      const sha256 = digestHex(limiter.sha);
      const sm3 = `0x${await limiter.sm3.digest()}` as Hex;
      const size = limiter.size;
      if (expectSha256 !== undefined && expectSha256 !== sha256) {
        throw new DomainError('EVIDENCE_DIGEST_MISMATCH', `the file's SHA-256 is not the one the client declared (expected ${expectSha256}, calculated ${sha256})`, { path: ['sha256'], algorithm: 'sha256', expected: expectSha256, calculated: sha256 });
      }
      if (expectSm3 !== undefined && expectSm3 !== sm3) {
        throw new DomainError('EVIDENCE_DIGEST_MISMATCH', `the file's SM3 is not the one the client declared (expected ${expectSm3}, calculated ${sm3})`, { path: ['sm3'], algorithm: 'sm3', expected: expectSm3, calculated: sm3 });
      }

      const dest = this.pathFor(sha256);
      const shard = path.dirname(dest);
      if (await exists(dest)) {
        const current = await hashFile(dest);
        if (current.sha256 === sha256 && current.sm3 === sm3 && current.size === size) {
          return { sha256, sm3, size, path: dest, deduplicated: true, repaired: false };
        }
        // The stored blob no longer matches its own name: replace it with the bytes just verified.
        await fsp.rename(tmp, dest);
        kept = true;
        await fsyncDir(shard);
        return { sha256, sm3, size, path: dest, deduplicated: false, repaired: true };
      }
      let newShard = false;
      try {
        await fsp.mkdir(shard);
        newShard = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (newShard) await fsyncDir(this.root);
      await fsp.rename(tmp, dest);
      kept = true;
      await fsyncDir(shard);
      return { sha256, sm3, size, path: dest, deduplicated: false, repaired: false };
    } catch (err) {
      if (err instanceof DomainError) throw err;
      if (sourceError !== undefined) {
        const why = sourceError instanceof Error ? sourceError.message : String(sourceError);
        throw new DomainError('EVIDENCE_UPLOAD_FAILED', `the upload stream failed before the file was complete: ${why}`, { receivedBytes: limiter.size, cause: why });
      }
      throw err;
    } finally {
      source.off('error', onSourceError);
      if (!kept) await fsp.rm(tmp, { force: true });
    }
  }

  /** Size and path of a stored blob; EVIDENCE_CONTENT_NOT_FOUND when absent (never stored, or erased). */
  async stat(sha256: Hex): Promise<BlobStat> {
    const p = this.pathFor(sha256);
    try {
      const st = await fsp.stat(p);
      return { sha256, size: st.size, path: p, mtime: st.mtime };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(sha256);
      throw err;
    }
  }

  async has(sha256: Hex): Promise<boolean> {
    return exists(this.pathFor(sha256));
  }

  /**
   * Opens a stored blob for reading. Async so that "not found" is known before the caller commits
   * to a response (and before it logs an `accessed` event); the file descriptor is open when this
   * resolves, so a concurrent erase cannot cut the read short.
   */
  async open(sha256: Hex, opts: { highWaterMark?: number; start?: number; end?: number } = {}): Promise<Readable> {
    const p = this.pathFor(sha256);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(p, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(sha256);
      throw err;
    }
    // start/end: an inclusive byte range (HTTP Range), as fs streams take it.
    return fh.createReadStream({ highWaterMark: opts.highWaterMark ?? READ_HIGH_WATER, ...(opts.start !== undefined ? { start: opts.start } : {}), ...(opts.end !== undefined ? { end: opts.end } : {}) });
  }

  /**
   * Re-hashes a stored blob and compares with its name (and the SM3 and size recorded at deposit,
   * when given). Returns the comparison; throws only when the blob is absent.
   */
  async verify(sha256: Hex, expect: { sm3?: Hex; size?: number } = {}): Promise<VerifyResult> {
    const p = this.pathFor(sha256);
    if (!(await exists(p))) throw notFound(sha256);
    const calculated = await hashFile(p);
    const ok =
      calculated.sha256 === sha256 &&
      (expect.sm3 === undefined || calculated.sm3 === expect.sm3) &&
      (expect.size === undefined || calculated.size === expect.size);
    const expected: VerifyResult['expected'] = { sha256 };
    if (expect.sm3 !== undefined) expected.sm3 = expect.sm3;
    if (expect.size !== undefined) expected.size = expect.size;
    return { ok, expected, calculated };
  }

  /**
   * Erasure (the content half of crypto-shredding; the caller shreds the salt): unlinks the blob and
   * fsyncs its directory so the erasure itself is durable. Returns false when it was already absent,
   * so a retried erase is harmless.
   */
  async erase(sha256: Hex): Promise<boolean> {
    const p = this.pathFor(sha256);
    try {
      await fsp.unlink(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    await fsyncDir(path.dirname(p));
    return true;
  }
}

function notFound(sha256: Hex): DomainError {
  return new DomainError('EVIDENCE_CONTENT_NOT_FOUND', `no stored evidence content with SHA-256 ${sha256}`, { sha256 });
}

/** The store at its conventional place, `<dataDir>/blobs`. */
export function openBlobStore(dataDir: string): Promise<BlobStore> {
  return BlobStore.open(path.join(dataDir, 'blobs'));
}
