import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore, openBlobStore } from '../../node/evidence/blob-store';
import { DomainError } from '../../node/domain/types';
import type { Hex } from '../../node/protocol/bytes';
import { randomStream } from './fixtures/random-stream';

// sm-crypto: a pure-JS SM3 (GB/T 32905-2016), independent of the OpenSSL inside Node.
const { sm3: jsSm3 } = require('sm-crypto') as { sm3: (input: string | Uint8Array) => string };

const UNLIMITED = Number.MAX_SAFE_INTEGER;

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Buffer equality without vitest's per-element deep diff (which takes seconds on megabytes). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.equals(b);
}

function sha256Hex(b: Uint8Array): Hex {
  return `0x${createHash('sha256').update(b).digest('hex')}` as Hex;
}

async function caught(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }
  throw new Error('expected a DomainError, but the call succeeded');
}

async function storedBlobs(store: BlobStore): Promise<string[]> {
  const shards = (await readdir(store.root)).filter((n) => n !== 'tmp');
  return (await Promise.all(shards.map((s) => readdir(path.join(store.root, s))))).flat();
}

describe('BlobStore', () => {
  let dir: string;
  let store: BlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tianfu-ev-blob-'));
    store = await openBlobStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('computes SM3 equal to GB/T 32905 vectors and to sm-crypto, and SHA-256, for edge sizes', async () => {
    // GB/T 32905-2016 Appendix A examples.
    const abc = await store.ingest(Readable.from([Buffer.from('abc')]), { maxBytes: UNLIMITED });
    expect(abc.sm3).toBe('0x66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    const abcd16 = await store.ingest(Readable.from([Buffer.from('abcd'.repeat(16))]), { maxBytes: UNLIMITED });
    expect(abcd16.sm3).toBe('0xdebe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
    // Sizes around the 64-byte block and its 56-byte padding boundary, plus a multi-chunk file.
    for (const size of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1_500_001]) {
      const bytes = await collect(randomStream(size, `edge ${size}`, 7919));
      const r = await store.ingest(Readable.from([bytes]), { maxBytes: UNLIMITED });
      expect(r.size, `size ${size}`).toBe(size);
      expect(r.sha256, `size ${size}`).toBe(sha256Hex(bytes));
      expect(r.sm3, `size ${size}`).toBe('0x' + jsSm3(bytes));
      expect(sameBytes(await readFile(r.path), bytes)).toBe(true);
    }
  });

  it('hashes identically however the stream is chunked', async () => {
    const bytes = await collect(randomStream(300_000, 'chunks'));
    const oneChunk = await store.ingest(Readable.from([bytes]), { maxBytes: UNLIMITED });
    const tiny: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 997) tiny.push(bytes.subarray(i, i + 997));
    const manyChunks = await store.ingest(Readable.from(tiny), { maxBytes: UNLIMITED });
    expect(manyChunks.sha256).toBe(oneChunk.sha256);
    expect(manyChunks.sm3).toBe(oneChunk.sm3);
    expect(manyChunks.deduplicated).toBe(true);
  });

  it('stores content-addressed, private, and streams it back', async () => {
    const bytes = await collect(randomStream(2_000_000, 'roundtrip'));
    const r = await store.ingest(Readable.from([bytes]), { maxBytes: bytes.length });
    expect(r.path).toBe(path.join(dir, 'blobs', r.sha256.slice(2, 4), r.sha256.slice(2)));
    expect((await stat(r.path)).mode & 0o777).toBe(0o600);
    expect(sameBytes(await collect(await store.open(r.sha256)), bytes)).toBe(true);
    const st = await store.stat(r.sha256);
    expect(st.size).toBe(bytes.length);
    expect(await store.has(r.sha256)).toBe(true);
  });

  it('accepts matching client digests and refuses a mismatch of either, storing nothing', async () => {
    const bytes = await collect(randomStream(100_000, 'client digests'));
    const sha256 = sha256Hex(bytes);
    const sm3 = `0x${jsSm3(bytes)}` as Hex;
    const wrongSha = sha256Hex(Buffer.from('something else'));
    const e1 = await caught(store.ingest(Readable.from([bytes]), { maxBytes: UNLIMITED, expectSha256: wrongSha, expectSm3: sm3 }));
    expect(e1.code).toBe('EVIDENCE_DIGEST_MISMATCH');
    expect(e1.details).toMatchObject({ algorithm: 'sha256', expected: wrongSha, calculated: sha256 });
    const wrongSm3 = `0x${'00'.repeat(32)}` as Hex;
    const e2 = await caught(store.ingest(Readable.from([bytes]), { maxBytes: UNLIMITED, expectSha256: sha256, expectSm3: wrongSm3 }));
    expect(e2.code).toBe('EVIDENCE_DIGEST_MISMATCH');
    expect(e2.details).toMatchObject({ algorithm: 'sm3', expected: wrongSm3, calculated: sm3 });
    expect(await readdir(store.tmpDir)).toEqual([]);
    expect(await storedBlobs(store)).toEqual([]);

    const ok = await store.ingest(Readable.from([bytes]), { maxBytes: UNLIMITED, expectSha256: sha256, expectSm3: sm3 });
    expect(ok).toMatchObject({ sha256, sm3, size: bytes.length, deduplicated: false });
  });

  it('refuses malformed client digests before reading anything', async () => {
    const src = randomStream(1000, 'bad digest');
    const e = await caught(store.ingest(src, { maxBytes: UNLIMITED, expectSha256: ('0x' + 'AB'.repeat(32)) as Hex }));
    expect(e.code).toBe('EVIDENCE_BAD_DIGEST');
    expect(src.produced).toBe(0);
  });

  it('refuses an over-limit upload as soon as the limit is crossed, storing nothing', async () => {
    const limit = 3 * 1024 * 1024;
    const src = randomStream(1024 * 1024 * 1024, 'endless');
    const e = await caught(store.ingest(src, { maxBytes: limit }));
    expect(e.code).toBe('EVIDENCE_TOO_LARGE');
    expect(e.details.maxBytes).toBe(limit);
    // It stopped reading near the limit instead of draining the 1 GiB source.
    expect(src.produced).toBeLessThan(limit + 8 * 1024 * 1024);
    expect(src.destroyed).toBe(true);
    expect(await readdir(store.tmpDir)).toEqual([]);
    expect(await storedBlobs(store)).toEqual([]);

    // Exactly at the limit is accepted.
    const exact = await store.ingest(randomStream(limit, 'exact'), { maxBytes: limit });
    expect(exact.size).toBe(limit);
  });

  it('reports a failing upload stream as EVIDENCE_UPLOAD_FAILED and keeps nothing', async () => {
    // An upload that dies after 512 KiB, as when a client disconnects mid-request.
    let sent = 0;
    const src = new Readable({
      read() {
        if (sent >= 512 * 1024) {
          this.destroy(new Error('client went away'));
          return;
        }
        sent += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 1));
      },
    });
    const e = await caught(store.ingest(src, { maxBytes: UNLIMITED }));
    expect(e.code).toBe('EVIDENCE_UPLOAD_FAILED');
    expect(e.message).toContain('client went away');
    expect(await readdir(store.tmpDir)).toEqual([]);
    expect(await storedBlobs(store)).toEqual([]);
  });

  it('deduplicates identical content after re-verifying the stored copy', async () => {
    const bytes = await collect(randomStream(500_000, 'dedupe'));
    const first = await store.ingest(Readable.from([bytes]), { maxBytes: UNLIMITED });
    const before = await stat(first.path);
    const second = await store.ingest(Readable.from([bytes]), { maxBytes: UNLIMITED });
    expect(second).toMatchObject({ sha256: first.sha256, sm3: first.sm3, size: first.size, path: first.path, deduplicated: true, repaired: false });
    expect((await stat(first.path)).ino).toBe(before.ino); // not rewritten
    expect(await storedBlobs(store)).toHaveLength(1);
    expect(await readdir(store.tmpDir)).toEqual([]);
  });

  it('replaces a damaged stored copy when the same content is ingested again', async () => {
    const bytes = await collect(randomStream(200_000, 'repair'));
    const first = await store.ingest(Readable.from([bytes]), { maxBytes: UNLIMITED });
    await flipByte(first.path, 12_345);
    const again = await store.ingest(Readable.from([bytes]), { maxBytes: UNLIMITED });
    expect(again).toMatchObject({ deduplicated: false, repaired: true, sha256: first.sha256 });
    expect(sameBytes(await readFile(first.path), bytes)).toBe(true);
    expect((await store.verify(first.sha256, { sm3: first.sm3, size: first.size })).ok).toBe(true);
  });

  it('verify() catches one changed byte, with expected and calculated digests', async () => {
    const r = await store.ingest(randomStream(1_000_000, 'tamper'), { maxBytes: UNLIMITED });
    const good = await store.verify(r.sha256, { sm3: r.sm3, size: r.size });
    expect(good.ok).toBe(true);
    expect(good.calculated).toEqual({ sha256: r.sha256, sm3: r.sm3, size: r.size });

    await flipByte(r.path, 777_777);
    const bad = await store.verify(r.sha256, { sm3: r.sm3, size: r.size });
    expect(bad.ok).toBe(false);
    expect(bad.expected.sha256).toBe(r.sha256);
    expect(bad.calculated.sha256).not.toBe(r.sha256);
    expect(bad.calculated.sm3).not.toBe(r.sm3);
    expect(bad.calculated.size).toBe(r.size);
  });

  it('verify() catches a truncated blob and a wrong recorded SM3', async () => {
    const r = await store.ingest(randomStream(10_000, 'truncate'), { maxBytes: UNLIMITED });
    expect((await store.verify(r.sha256, { sm3: sha256Hex(Buffer.from('x')) })).ok).toBe(false);
    const fh = await open(r.path, 'r+');
    await fh.truncate(9_999);
    await fh.close();
    const v = await store.verify(r.sha256, { size: r.size });
    expect(v.ok).toBe(false);
    expect(v.calculated.size).toBe(9_999);
  });

  it('erases content durably; later reads and verification say not found; a second erase is a no-op', async () => {
    const r = await store.ingest(randomStream(50_000, 'erase'), { maxBytes: UNLIMITED });
    expect(await store.erase(r.sha256)).toBe(true);
    await expect(stat(r.path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.has(r.sha256)).toBe(false);
    for (const call of [() => store.open(r.sha256), () => store.stat(r.sha256), () => store.verify(r.sha256)]) {
      const e = await caught(call());
      expect(e.code).toBe('EVIDENCE_CONTENT_NOT_FOUND');
      expect(e.details.sha256).toBe(r.sha256);
    }
    expect(await store.erase(r.sha256)).toBe(false);
  });

  it('a read opened before an erase still returns every byte (the descriptor holds the file)', async () => {
    const bytes = await collect(randomStream(3_000_000, 'open then erase'));
    const r = await store.ingest(Readable.from([bytes]), { maxBytes: UNLIMITED });
    const reading = await store.open(r.sha256, { highWaterMark: 64 * 1024 });
    await store.erase(r.sha256);
    expect(sameBytes(await collect(reading), bytes)).toBe(true);
  });

  it('removes temp files left by a crash when opened, and keeps stored blobs', async () => {
    const r = await store.ingest(randomStream(4096, 'survivor'), { maxBytes: UNLIMITED });
    await writeFile(path.join(store.tmpDir, 'deadbeef.part'), 'half an upload');
    const reopened = await BlobStore.open(path.join(dir, 'blobs'));
    expect(await readdir(reopened.tmpDir)).toEqual([]);
    expect((await reopened.verify(r.sha256)).ok).toBe(true);
  });

  it('refuses malformed digests and limits with stable codes', async () => {
    expect(() => store.pathFor('0x1234' as Hex)).toThrow(expect.objectContaining({ code: 'EVIDENCE_BAD_DIGEST' }));
    expect((await caught(store.open('../../etc/passwd' as Hex))).code).toBe('EVIDENCE_BAD_DIGEST');
    expect((await caught(store.ingest(randomStream(1, 'x'), { maxBytes: -1 }))).code).toBe('EVIDENCE_BAD_LIMIT');
  });
});

async function flipByte(file: string, offset: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] = b[0]! ^ 0x01;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}
