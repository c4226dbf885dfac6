/**
 * SM3 on a worker thread. OpenSSL's SM3 runs at ~300 MiB/s here against ~1.3 GiB/s for SHA-256, so
 * on the request thread it bounds an evidence deposit (busboy parsing, SHA-256 and the file write
 * share that thread). One long-lived worker serves every ingest; each ingest is a session.
 *
 * The bytes reach the worker through a ring: a SharedArrayBuffer of RING_BYTES that the session
 * copies each chunk into; the message only says where (offset, length). A structured-clone copy per
 * chunk would leave the worker's isolate with one dead ArrayBuffer per chunk until its next GC (a
 * 2 GiB upload is ~32,000 of them), and that garbage showed as RSS. The ring is also the bound on
 * unhashed bytes: a session waits until the worker has acknowledged enough to make room, so memory
 * stays fixed however fast the upload is. Rings are kept for reuse (at most MAX_SPARE_RINGS idle).
 */
import { Worker } from 'node:worker_threads';

/** Bytes a session may have queued but not yet hashed (the ring's size). */
export const RING_BYTES = 4 * 1024 * 1024;
/** Largest piece copied at once: a chunk larger than this is queued in pieces. */
const PIECE = RING_BYTES / 4;
const MAX_SPARE_RINGS = 4;

// Plain JS evaluated in the worker: no TypeScript loader is needed there (tsx, vitest or plain node).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const sessions = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'ring') {
    sessions.set(m.id, { h: createHash('sm3'), ring: Buffer.from(m.ring) });
  } else if (m.op === 'update') {
    const s = sessions.get(m.id);
    if (!s) return;
    s.h.update(s.ring.subarray(m.off, m.off + m.len));
    parentPort.postMessage({ id: m.id, ack: m.len });
  } else if (m.op === 'end') {
    const s = sessions.get(m.id);
    sessions.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: (s ? s.h : createHash('sm3')).digest('hex') });
  } else if (m.op === 'drop') {
    sessions.delete(m.id);
  }
});
`;

interface Session {
  inflight: number;
  waiters: (() => void)[];
  done?: (digest: string) => void;
  fail: (err: Error) => void;
}

let worker: Worker | null = null;
let nextId = 1;
const sessions = new Map<number, Session>();
const spareRings: SharedArrayBuffer[] = [];

/** The worker keeps the event loop alive exactly while some ingest is waiting for it. */
function refreshRef(): void {
  if (!worker) return;
  if (sessions.size > 0) worker.ref();
  else worker.unref();
}

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.on('message', (m: { id: number; ack?: number; digest?: string }) => {
    const s = sessions.get(m.id);
    if (!s) return;
    if (m.ack !== undefined) {
      s.inflight -= m.ack;
      for (const wake of s.waiters.splice(0)) wake();
    } else if (m.digest !== undefined) {
      sessions.delete(m.id);
      refreshRef();
      s.done?.(m.digest);
    }
  });
  const die = (err: Error): void => {
    worker = null;
    for (const [id, s] of sessions) {
      sessions.delete(id);
      s.fail(err);
    }
  };
  w.on('error', die);
  w.on('exit', (code) => die(new Error(`SM3 worker exited with code ${code}`)));
  // After the listeners: adding a 'message' listener refs the worker's port again. Idle, the worker
  // never keeps the process alive; refreshRef() holds it while sessions run.
  w.unref();
  worker = w;
  return w;
}

/** Starts the worker ahead of the first deposit (its isolate costs ~10–20 MiB once, not per upload). */
export function startSm3Worker(): void {
  getWorker();
}

/** An SM3 computation fed chunk by chunk; `update` resolves once the chunk is in the ring. */
export class OffloadedSm3 {
  private readonly id = nextId++;
  private readonly session: Session;
  private failed: Error | null = null;
  private ring: Buffer | null = null;
  private sab: SharedArrayBuffer | null = null;
  private pos = 0;
  private released = false;

  constructor() {
    this.session = {
      inflight: 0,
      waiters: [],
      fail: (err) => {
        this.failed = err;
        for (const wake of this.session.waiters.splice(0)) wake();
      },
    };
    sessions.set(this.id, this.session);
  }

  /** The session's ring, taken from the spares or made, and announced to the worker once. */
  private ringBuffer(): Buffer {
    if (this.ring) return this.ring;
    this.sab = spareRings.pop() ?? new SharedArrayBuffer(RING_BYTES);
    this.ring = Buffer.from(this.sab);
    getWorker().postMessage({ op: 'ring', id: this.id, ring: this.sab });
    return this.ring;
  }

  /** Copies `chunk` into the ring (waiting for room as needed) and asks the worker to hash it. */
  async update(chunk: Uint8Array): Promise<void> {
    if (this.failed) throw this.failed;
    const ring = this.ringBuffer();
    for (let at = 0; at < chunk.byteLength; ) {
      // One contiguous piece: never across the ring's end, never more than PIECE.
      const len = Math.min(chunk.byteLength - at, PIECE, RING_BYTES - this.pos);
      while (this.session.inflight + len > RING_BYTES) {
        await new Promise<void>((r) => this.session.waiters.push(r));
        if (this.failed) throw this.failed;
      }
      ring.set(chunk.subarray(at, at + len), this.pos);
      this.session.inflight += len;
      getWorker().postMessage({ op: 'update', id: this.id, off: this.pos, len });
      this.pos = (this.pos + len) % RING_BYTES;
      at += len;
    }
    refreshRef();
  }

  /** The digest (hex, no prefix) once every queued chunk is hashed. */
  digest(): Promise<string> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<string>((resolve, reject) => {
      this.session.done = (d) => {
        this.release();
        resolve(d);
      };
      this.session.fail = (e) => {
        this.release();
        reject(e);
      };
      getWorker().postMessage({ op: 'end', id: this.id });
      refreshRef();
    });
  }

  /** Abandons the computation (the ingest was refused). */
  drop(): void {
    if (sessions.delete(this.id) && worker) worker.postMessage({ op: 'drop', id: this.id });
    // The worker may still be reading the ring for messages already posted: never reuse this one.
    this.released = true;
    this.ring = null;
    this.sab = null;
    refreshRef();
  }

  /** The digest came back, so the worker is done with the ring: keep it for the next session. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    if (this.sab && spareRings.length < MAX_SPARE_RINGS) spareRings.push(this.sab);
    this.ring = null;
    this.sab = null;
  }
}
