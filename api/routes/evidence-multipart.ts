/**
 * The multipart reader of POST /v1/evidence: the `metadata` part first, then one `file` part streamed
 * with busboy straight into the deposit (the blob store). The JSON body parser only handles
 * application/json, so it never touches multipart bodies, and no part of the file is buffered whole.
 */
import type { Request, Response } from 'express';
import busboy from 'busboy';
import type { Readable } from 'node:stream';
import { HttpProblem } from '../problem';
import { readJsonPart } from '../body';
import type { DepositResult } from '../../node';

/** The metadata part is small JSON (the environment alone is capped at 16 KiB canonical). */
export const MAX_METADATA_BYTES = 64 * 1024;
/**
 * Buffer of the file part stream: at the default 16 KiB busboy pauses the request after every socket
 * chunk; 1 MiB lets it parse whole socket reads while the store hashes and writes (memory per upload
 * stays a few MiB).
 */
const FILE_HWM = 1024 * 1024;
/** After a refused upload, read (and discard) at most this much more so the client sees the answer, then cut the connection. */
const DRAIN_AFTER_REFUSAL = 8 * 1024 * 1024;

/** Stops reading a refused upload: discard a bounded tail so the client can read the answer, then cut the connection. */
function stopUpload(req: Request, res: Response, bb: NodeJS.WritableStream): void {
  req.unpipe(bb as unknown as NodeJS.WritableStream);
  res.setHeader('Connection', 'close');
  if (req.complete) return;
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_AFTER_REFUSAL) req.socket.destroy();
  });
  req.resume();
}

/**
 * Parses the multipart deposit: the `metadata` part (a field, or a file part with JSON content, so
 * both `-F metadata=...;type=application/json` and `-F metadata=@meta.json` work) must come first,
 * then exactly one `file` part, whose stream goes to `deposit` as it arrives.
 */
export function receiveDeposit(
  req: Request,
  res: Response,
  deposit: (metadata: unknown, file: Readable, bodyComplete: Promise<void>) => Promise<DepositResult>,
): Promise<DepositResult> {
  return new Promise<DepositResult>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, highWaterMark: FILE_HWM, fileHwm: FILE_HWM, limits: { fields: 1, files: 2, fieldSize: MAX_METADATA_BYTES, fieldNameSize: 64, headerPairs: 32 } });
    } catch (err) {
      reject(new HttpProblem('MULTIPART_INVALID', `cannot read the multipart body: ${(err as Error).message}`));
      return;
    }
    let metadata: unknown;
    let haveMetadata = false;
    let fileStream: Readable | null = null;
    let metadataPending: Promise<void> | null = null;
    let depositSettled: Promise<void> = Promise.resolve();
    let settled = false;
    let completeResolve!: () => void;
    let completeReject!: (e: Error) => void;
    const bodyComplete = new Promise<void>((ok, ko) => {
      completeResolve = ok;
      completeReject = ko;
    });
    bodyComplete.catch(() => undefined); // observed by the deposit, or irrelevant once refused

    const fail = (err: unknown): void => {
      completeReject(err instanceof Error ? err : new Error(String(err)));
      if (settled) return;
      settled = true;
      stopUpload(req, res, bb);
      fileStream?.destroy(err instanceof Error ? err : new Error(String(err)));
      // Answer only once a deposit in flight has settled (its temp file or fresh blob removed), so
      // the client never sees a refusal while something of its upload is still on disk.
      void depositSettled.then(() => reject(err));
    };
    // The same strict reader as every JSON body (api/body.ts): duplicate keys, number forms, depth
    // and the text rule, with paths under ['metadata'].
    const parseMetadata = (bytes: Buffer | string): void => {
      try {
        metadata = readJsonPart(bytes, ['metadata']);
        haveMetadata = true;
      } catch (err) {
        fail(err);
      }
    };

    const tooMany = (): void => fail(new HttpProblem('MULTIPART_UNEXPECTED_PART', 'a deposit has exactly two parts: `metadata`, then `file`'));
    bb.on('field', (name, value, info) => {
      if (name !== 'metadata') return fail(new HttpProblem('MULTIPART_UNEXPECTED_PART', `unexpected form field ${JSON.stringify(name)}: send a \`metadata\` part, then a \`file\` part`));
      if (info.valueTruncated) return fail(new HttpProblem('EVIDENCE_METADATA_TOO_LARGE', `the metadata part is larger than ${MAX_METADATA_BYTES} bytes`));
      // busboy has decoded the field (UTF-8 unless the part says otherwise), turning invalid bytes
      // into U+FFFD: refuse that rather than store a replacement the collector never sent.
      if (value.includes('\ufffd')) {
        return fail(new HttpProblem('MALFORMED_JSON', 'the metadata part is not valid UTF-8 (it decodes with U+FFFD REPLACEMENT CHARACTER)', { codePoint: 'U+FFFD', errors: [{ path: ['metadata'], message: 'not valid UTF-8', code: 'MALFORMED_JSON' }] }));
      }
      parseMetadata(value);
    });
    bb.on('file', (name, stream) => {
      // Errors reach the consumer (the blob store) through its own listener; this one only keeps a
      // stream destroyed before anyone read it (a refusal) from becoming an uncaught 'error'.
      stream.on('error', () => undefined);
      if (settled) return void stream.resume();
      if (fileStream !== null) {
        stream.resume();
        return tooMany();
      }
      if (name === 'metadata' && !haveMetadata && metadataPending === null) {
        // `-F metadata=@meta.json`: a small JSON file part. Busboy may announce the next part before
        // this one's 'end' is delivered, so the file part waits for `metadataPending`.
        const chunks: Buffer[] = [];
        let size = 0;
        metadataPending = new Promise<void>((done) => {
          stream.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_METADATA_BYTES) return fail(new HttpProblem('EVIDENCE_METADATA_TOO_LARGE', `the metadata part is larger than ${MAX_METADATA_BYTES} bytes`));
            chunks.push(c);
          });
          stream.on('end', () => {
            if (!settled) parseMetadata(Buffer.concat(chunks));
            done();
          });
          stream.on('error', () => done());
        });
        return;
      }
      if (name !== 'file') {
        stream.resume();
        return fail(new HttpProblem('MULTIPART_UNEXPECTED_PART', `unexpected form part ${JSON.stringify(name)}: send a \`metadata\` part, then a \`file\` part`));
      }
      fileStream = stream;
      if (metadataPending === null) startFile(stream);
      else void metadataPending.then(() => startFile(stream));
    });
    const startFile = (stream: Readable): void => {
      if (settled) return void stream.resume();
      if (!haveMetadata) {
        stream.resume();
        return fail(new HttpProblem('EVIDENCE_METADATA_FIRST', 'the `metadata` part must come before the `file` part, so the deposit can be checked before the file streams in', { errors: [{ path: ['metadata'], message: 'missing before file' }] }));
      }
      const attempt = deposit(metadata, stream, bodyComplete);
      depositSettled = attempt.then(
        () => undefined,
        () => undefined,
      );
      attempt.then(
        (result) => {
          if (settled) return;
          settled = true;
          resolve(result);
        },
        (err: unknown) => fail(err),
      );
    };
    bb.on('filesLimit', tooMany);
    bb.on('fieldsLimit', tooMany);
    bb.on('error', (err: Error) => fail(new HttpProblem('MULTIPART_INVALID', `the multipart body is malformed: ${err.message}`)));
    bb.on('finish', () => {
      if (fileStream === null) return fail(new HttpProblem('EVIDENCE_FILE_MISSING', haveMetadata ? 'no `file` part after the metadata' : 'no `metadata` and `file` parts', { errors: [{ path: ['file'], message: 'missing' }] }));
      completeResolve();
    });
    // A client that goes away mid-upload: busboy never sees the end, so fail the file stream ourselves.
    req.on('close', () => {
      if (!req.complete) {
        const err = new Error('the client closed the connection before the upload was complete');
        fileStream?.destroy(err);
        completeReject(err);
        if (fileStream === null) fail(new HttpProblem('EVIDENCE_UPLOAD_FAILED', err.message));
      }
    });
    req.pipe(bb);
  });
}
