/**
 * EIP-191 signing on worker threads. The receipt signature (~0.05 ms native, ~0.16 ms WebAssembly)
 * is the sequencer's largest CPU cost; on the request thread it competes with HTTP parsing and
 * validation. A small pool of long-lived workers signs whole groups (one message per group and
 * worker, not per record) while the main thread keeps serving requests. Signatures are RFC 6979
 * deterministic, so a pooled signature is byte for byte the inline one (tested against ethers).
 *
 * Workers are ref'd only while a job is pending, so an idle pool never keeps the process alive. A
 * worker that dies rejects its pending jobs (the caller falls back to signing inline) and is
 * replaced on the next job.
 */
import { Worker } from 'node:worker_threads';
import { fromHex, toHex, type Hex } from '../protocol/bytes';
import { nativeBindingPath, secp256k1 } from './secp256k1';

// Plain JS evaluated in the worker: no TypeScript loader is needed there (tsx, vitest or plain node).
// Module paths are resolved by the parent, so the worker does not depend on the process's cwd.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// The native libsecp256k1 addon where the parent found it, else the WebAssembly build (same bytes).
const native = workerData.native ? require(workerData.native) : null;
const wasm = native ? null : require(workerData.ecc);
const sign = native
  ? (h, d) => { const r = native.ecdsaSign(h, d); return { signature: r.signature, recoveryId: r.recid }; }
  : (h, d) => wasm.signRecoverable(h, d);
const recover = native
  ? (h, rs, v) => { try { return native.ecdsaRecover(rs, v, h, false); } catch { return null; } }
  : (h, rs, v) => { try { return wasm.recover(h, rs, v, false); } catch { return null; } };
// secp256k1 n / 2: signatures with a larger s are refused (EIP-2), as by ethers.
const HALF_N = Buffer.from('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0', 'hex');
const { keccak_256 } = require(workerData.sha3);
// Keccak in WebAssembly (~30× the JS one here); until it has compiled the JS one answers (same bytes).
let fastKeccak = null;
require(workerData.hashWasm).createKeccak(256).then((h) => { fastKeccak = h; }, () => {});
const keccak = (b) => {
  if (fastKeccak === null) return keccak_256(b);
  fastKeccak.init();
  fastKeccak.update(b);
  return fastKeccak.digest('binary');
};
const d = workerData.key ? Uint8Array.from(Buffer.from(workerData.key.slice(2), 'hex')) : null;
const enc = new TextEncoder();
// The parent's stop switch: checked between signatures, so the thread never ends inside a native
// call (terminating a thread in the middle of an N-API call aborts the whole process).
// 1: die as a crash would (exit code 1); 2: close (exit code 0).
const stop = new Int32Array(workerData.stop);
const stopNow = () => { const v = Atomics.load(stop, 0); if (v !== 0) process.exit(v === 2 ? 0 : 1); };
parentPort.on('message', (m) => {
  stopNow();
  if (m.stop) return; // a wake-up for the stop switch, which was not (yet) set
  try {
    // m.data: the messages concatenated; m.lengths: their byte lengths, in order.
    const n = m.lengths.length;
    let off = 0;
    // The EIP-191 hash of message i, walking m.data in order; checks the stop switch first.
    const nextHash = (i) => {
      stopNow();
      const len = m.lengths[i];
      const msg = m.data.subarray(off, off + len);
      off += len;
      const prefix = enc.encode('\\x19Ethereum Signed Message:\\n' + len);
      const buf = new Uint8Array(prefix.length + len);
      buf.set(prefix, 0);
      buf.set(msg, prefix.length);
      return keccak(buf);
    };
    if (m.op === 'check') {
      // Receipt checks: 1 where signature i (65 bytes of m.sigs, v 27/28, low s) recovers exactly the
      // public key m.q over message i, else 0 (the caller re-checks those with the protocol's code).
      const ok = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const h = nextHash(i);
        const sig = m.sigs.subarray(65 * i, 65 * i + 65);
        const v = sig[64];
        if ((v !== 27 && v !== 28) || Buffer.compare(Buffer.from(sig.buffer, sig.byteOffset + 32, 32), HALF_N) > 0) continue;
        const q = recover(h, sig.subarray(0, 64), v - 27);
        if (q && q.length === 65 && Buffer.compare(Buffer.from(q), Buffer.from(m.q)) === 0) ok[i] = 1;
      }
      parentPort.postMessage({ id: m.id, sigs: ok }, [ok.buffer]);
      return;
    }
    const out = new Uint8Array(65 * n);
    for (let i = 0; i < n; i++) {
      const { signature, recoveryId } = sign(nextHash(i), d);
      out.set(signature, 65 * i);
      out[65 * i + 64] = 27 + recoveryId;
    }
    parentPort.postMessage({ id: m.id, sigs: out }, [out.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.stack) || err) });
  }
});
`;

/** Worker count from TIANFU_SIGNING_WORKERS (default 1; 0 = sign inline on the calling thread). */
export function signingWorkersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TIANFU_SIGNING_WORKERS;
  if (raw === undefined || raw.trim() === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new RangeError(`TIANFU_SIGNING_WORKERS must be an integer 0..64, got ${JSON.stringify(raw)}`);
  return n;
}

/** What a worker loads: module paths resolved here, so the worker does not depend on the cwd. */
function workerData(key: Hex | null): { key: Hex | null; ecc: string; native: string | null; sha3: string; hashWasm: string } {
  return {
    key,
    ecc: require.resolve('tiny-secp256k1'),
    native: secp256k1.name === 'native' ? nativeBindingPath() : null,
    sha3: require.resolve('@noble/hashes/sha3'),
    hashWasm: require.resolve('hash-wasm'),
  };
}

interface Job {
  resolve: (sigs: Uint8Array) => void;
  reject: (err: Error) => void;
}

class SigningWorker {
  private worker: Worker | null = null;
  /** The running worker's stop switch (shared memory, read between signatures). */
  private stopFlag: Int32Array | null = null;
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;

  constructor(private readonly workerData: { key: Hex | null; ecc: string; native: string | null; sha3: string; hashWasm: string }) {}

  get pending(): number {
    return this.jobs.size;
  }

  /** Spawns the worker ahead of the first job (isolate + WASM start-up costs tens of ms, once). */
  start(): Worker {
    if (this.worker) return this.worker;
    const stop = new SharedArrayBuffer(4);
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...this.workerData, stop } });
    this.stopFlag = new Int32Array(stop);
    w.on('message', (m: { id: number; sigs?: Uint8Array; error?: string }) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      this.jobs.delete(m.id);
      this.refresh();
      if (m.sigs) job.resolve(m.sigs);
      else job.reject(new Error(`signing worker failed: ${m.error}`));
    });
    const die = (err: Error): void => {
      if (this.worker !== w) return;
      this.worker = null;
      const jobs = [...this.jobs.values()];
      this.jobs.clear();
      for (const j of jobs) j.reject(err);
    };
    w.on('error', die);
    w.on('messageerror', die);
    w.on('exit', (code) => die(new Error(`signing worker exited with code ${code}`)));
    // After the listeners (a 'message' listener refs the port again): idle, it never holds the process.
    w.unref();
    this.worker = w;
    return w;
  }

  /** Keeps the event loop alive exactly while a job waits for this worker. */
  private refresh(): void {
    if (!this.worker) return;
    if (this.jobs.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  run(data: Uint8Array, lengths: number[], extra: { op?: 'check'; sigs?: Uint8Array; q?: Uint8Array } = {}): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const id = this.nextId++;
      this.jobs.set(id, { resolve, reject });
      try {
        const transfer = [data.buffer as ArrayBuffer, ...(extra.sigs ? [extra.sigs.buffer as ArrayBuffer] : [])];
        this.start().postMessage({ id, data, lengths, ...extra }, transfer);
      } catch (err) {
        this.jobs.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.refresh();
    });
  }

  /**
   * Stops the worker through its switch (1: as a crash, 2: cleanly) and resolves with its exit code.
   * Never `terminate()`: ending the thread inside the native addon's call aborts the process.
   */
  private halt(how: 1 | 2): Promise<number> | undefined {
    const w = this.worker;
    const flag = this.stopFlag;
    if (!w || !flag) return undefined;
    const exited = new Promise<number>((resolve) => w.once('exit', resolve));
    // Ref'd until it has exited: an idle worker is unref'd, and a caller awaiting `exited` with
    // nothing else pending would otherwise see the process end under it (exit code 0, no output).
    w.ref();
    Atomics.store(flag, 0, how);
    w.postMessage({ stop: true }); // wakes it if idle; a busy one sees the switch before its next signature
    return exited;
  }

  /** For tests: the worker dies as a crash would (exit code 1), between two signatures. */
  crash(): Promise<number> | undefined {
    return this.halt(1);
  }

  async close(): Promise<void> {
    await this.halt(2); // 'exit' rejects whatever is still pending
  }
}

/** Signs EIP-191 messages with one private key on `size` worker threads. */
export class SigningPool {
  private readonly workers: SigningWorker[];
  private closed = false;

  constructor(privateKey: Hex, size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a signing pool needs at least one worker, got ${size}`);
    fromHex(privateKey, 32); // fails here, not in the worker, on a malformed key
    const data = workerData(privateKey);
    this.workers = Array.from({ length: size }, () => new SigningWorker(data));
    for (const w of this.workers) w.start();
  }

  get size(): number {
    return this.workers.length;
  }

  /** Jobs (batch messages) waiting for a worker. */
  get pending(): number {
    return this.workers.reduce((s, w) => s + w.pending, 0);
  }

  /**
   * 65-byte r || s || v signatures (0x-hex) of `messages`, in order. A batch is split evenly over
   * the workers, one message each; rejects if a worker fails (the caller may sign inline instead).
   */
  async signMany(messages: readonly Uint8Array[]): Promise<Hex[]> {
    if (this.closed) throw new Error('signing pool is closed');
    if (messages.length === 0) return [];
    const k = Math.min(this.workers.length, messages.length);
    // Least busy workers first, so concurrent callers spread out.
    const chosen = [...this.workers].sort((a, b) => a.pending - b.pending).slice(0, k);
    const per = Math.ceil(messages.length / k);
    const parts: Promise<Uint8Array>[] = [];
    for (let c = 0; c < k; c++) {
      const slice = messages.slice(c * per, (c + 1) * per);
      if (slice.length === 0) break;
      const lengths = slice.map((m) => m.length);
      const data = new Uint8Array(lengths.reduce((s, l) => s + l, 0));
      let off = 0;
      for (const m of slice) {
        data.set(m, off);
        off += m.length;
      }
      parts.push(chosen[c]!.run(data, lengths));
    }
    const out: Hex[] = [];
    for (const sigs of await Promise.all(parts)) {
      for (let i = 0; i + 65 <= sigs.length; i += 65) out.push(toHex(sigs.subarray(i, i + 65)));
    }
    if (out.length !== messages.length) throw new Error(`signing pool returned ${out.length} signatures for ${messages.length} messages`);
    return out;
  }

  /** For tests: terminates worker `i` as a crash would; its pending jobs reject. */
  crashWorker(i = 0): Promise<number> | undefined {
    return this.workers[i]?.crash();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

/**
 * Receipt checks on worker threads for the auditor: whether each EIP-191 signature recovers exactly
 * one known public key (the operator's). Only a positive answer is final: the caller re-checks every
 * other receipt with the protocol verifier, so acceptance and messages are the protocol's.
 */
export class ReceiptCheckPool {
  private readonly workers: SigningWorker[];
  private next = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a receipt-check pool needs at least one worker, got ${size}`);
    const data = workerData(null);
    this.workers = Array.from({ length: size }, () => new SigningWorker(data));
    for (const w of this.workers) w.start();
  }

  get size(): number {
    return this.workers.length;
  }

  /** For each message: true if `signatures[i]` (65-byte 0x-hex) recovers `publicKey` (65 bytes, 0x04…). */
  async checkMany(publicKey: Uint8Array, messages: readonly Uint8Array[], signatures: readonly Uint8Array[]): Promise<boolean[]> {
    if (messages.length !== signatures.length) throw new RangeError('one signature per message');
    if (messages.length === 0) return [];
    const lengths = messages.map((m) => m.length);
    const data = new Uint8Array(lengths.reduce((a, l) => a + l, 0));
    const sigs = new Uint8Array(65 * signatures.length);
    let off = 0;
    messages.forEach((m, i) => {
      data.set(m, off);
      off += m.length;
      sigs.set(signatures[i]!, 65 * i);
    });
    const w = this.workers[this.next++ % this.workers.length]!;
    const ok = await w.run(data, lengths, { op: 'check', sigs, q: publicKey.slice() });
    return Array.from(ok, (b) => b === 1);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
