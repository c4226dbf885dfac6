/**
 * Log store benchmark: append rate (1000 entries per synced batch) while building a log of 10^6
 * entries, and at 10^3, 10^5 and 10^6 entries: inclusion and consistency proof generation
 * (including the store's self-check), verification, stored-node reads per proof, and the plain
 * RFC 6962 hashing baseline (the same number of nodeHash calls the verifier makes), so the cost of
 * verification over bare hashing can be stated. Also RSS and the database's size on disk.
 *
 * Standalone: `npx tsx scripts/bench/log-store.ts [maxEntries]` (default 1000000).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decomposeInclusion,
  entryBytes,
  fromHex,
  leafHash,
  makeEntry,
  nodeHash,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type Hex,
} from '../../node/protocol';
import { openDatabase } from '../../node/store/db';
import { LogStore } from '../../node/store/log-store';
import { prng } from '../../test/support/prng';

export interface BenchLogStoreOptions {
  /** Checkpoints at which proofs are measured; the log is built up to the largest. */
  sizes?: number[];
  batchSize?: number;
  /** Proofs generated (and verified) per kind per checkpoint. */
  proofs?: number;
  sync?: boolean;
  /** Where to put the database (a fresh temp dir by default; removed afterwards unless keep). */
  dir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

type Result = Record<string, number | string>;

function now(): number {
  return performance.now();
}


function label(n: number): string {
  const e = Math.log10(n);
  return Number.isInteger(e) ? `1e${e}` : String(n);
}

function dirSize(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const st = statSync(join(dir, name));
    total += st.isDirectory() ? dirSize(join(dir, name)) : st.size;
  }
  return total;
}

function popcount(v: number): number {
  let c = 0;
  for (; v > 0; v = Math.floor(v / 2)) c += v % 2;
  return c;
}

function trailingZeros(v: number): number {
  let n = 0;
  for (; v % 2 === 0; v /= 2) n++;
  return n;
}

/** nodeHash calls RFC 9162 §2.1.4.2 verification makes (both roots). */
function consistencyHashCount(m: number, n: number, proofLen: number): number {
  if (m === 0 || m === n) return 0;
  const shift = trailingZeros(m);
  const inner = decomposeInclusion(m - 1, n).inner - shift;
  const rest = m === 2 ** shift ? proofLen : proofLen - 1;
  const mask = Math.floor((m - 1) / 2 ** shift) % 2 ** inner;
  return popcount(mask) + (rest - inner) + rest;
}

const round = (x: number, digits = 0): number => Number(x.toFixed(digits));

export async function benchLogStore(opts: BenchLogStoreOptions = {}): Promise<Result> {
  const sizes = [...(opts.sizes ?? [1_000, 100_000, 1_000_000])].sort((a, b) => a - b);
  const batchSize = opts.batchSize ?? 1000;
  const proofs = opts.proofs ?? 2000;
  const sync = opts.sync ?? true;
  const log = opts.log ?? (() => undefined);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tianfu-bench-log-'));
  const out: Result = { batch_size: batchSize, sync: String(sync), proofs_per_kind: proofs };

  // ---- plain hashing baselines ----
  {
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    const N = 200_000;
    let h: Uint8Array = a;
    let t = now();
    for (let i = 0; i < N; i++) h = nodeHash(h, b);
    out.plain_nodehash_per_s = round(N / ((now() - t) / 1000));
    const e = entryBytes(makeEntry('invoice.issued', 'subject-0', toHex(h), new Date(0)));
    t = now();
    for (let i = 0; i < N; i++) leafHash(e);
    out.plain_leafhash_per_s = round(N / ((now() - t) / 1000));
    out.entry_bytes = e.length;
    // For scale only: Node's native SHA-256 (OpenSSL) on the same 65-byte node input.
    const buf = new Uint8Array(65);
    t = now();
    for (let i = 0; i < N; i++) createHash('sha256').update(buf).digest();
    out.native_sha256_65b_per_s = round(N / ((now() - t) / 1000));
    log(`baseline: nodeHash ${out.plain_nodehash_per_s}/s, leafHash ${out.plain_leafhash_per_s}/s, node:crypto ${out.native_sha256_65b_per_s}/s`);
  }

  const db = await openDatabase(dir);
  try {
    const store = await LogStore.open(db);
    const rand = prng(2026);
    const commitment = toHex(new Uint8Array(32).fill(0xab));
    const t0 = Date.UTC(2026, 0, 1);
    let buildMs = 0;
    let lastSize = 0;
    let lastMs = 0;

    for (const target of sizes) {
      // ---- append up to target ----
      while (store.size < target) {
        const k = Math.min(batchSize, target - store.size);
        const batch: Uint8Array[] = new Array(k);
        for (let j = 0; j < k; j++) {
          const i = store.size + j;
          batch[j] = entryBytes(makeEntry('invoice.issued', `sub-${i}`, commitment, new Date(t0 + i)));
        }
        const start = now(); // entry construction (JCS) is the sequencer's cost, not the store's
        await store.append(batch, [], { sync });
        buildMs += now() - start;
      }
      const L = label(target);
      out[`append_entries_per_s_cumulative_${L}`] = round(target / (buildMs / 1000));
      out[`append_entries_per_s_window_${L}`] = round((target - lastSize) / ((buildMs - lastMs) / 1000));
      lastSize = target;
      lastMs = buildMs;
      log(`built ${target} entries: ${out[`append_entries_per_s_cumulative_${L}`]} entries/s cumulative`);

      const n = store.size;
      const count = Math.min(proofs, Math.max(1, n));

      // ---- inclusion proofs: random leaves at random past sizes in [n/2, n] (anchored checkpoints lag) ----
      const incl: { i: number; size: number; leaf: Uint8Array; root: Uint8Array; proof: Hex[] }[] = [];
      store.resetStats();
      let t = now();
      for (let q = 0; q < count; q++) {
        const size = Math.max(1, n - Math.floor(rand() * (n / 2)));
        const i = Math.floor(rand() * size);
        const p = await store.inclusionProof(i, size);
        incl.push({ i, size, leaf: new Uint8Array(0), root: fromHex(p.rootHash, 32), proof: p.proof });
      }
      const inclGenMs = now() - t;
      out[`inclusion_gen_per_s_${L}`] = round(count / (inclGenMs / 1000));
      out[`inclusion_node_reads_per_proof_${L}`] = round(store.stats.nodeReads / count, 2);
      out[`inclusion_proof_len_avg_${L}`] = round(incl.reduce((s, x) => s + x.proof.length, 0) / count, 2);
      for (const x of incl) x.leaf = fromHex(await store.leafHash(x.i), 32);

      // ---- consistency proofs: random m to the current size ----
      const cons: { m: number; n: number; r1: Uint8Array; r2: Uint8Array; proof: Hex[] }[] = [];
      const ms: number[] = [];
      for (let q = 0; q < count; q++) ms.push(1 + Math.floor(rand() * Math.max(1, n - 1)));
      store.resetStats();
      t = now();
      const proofsC: Hex[][] = [];
      for (const m of ms) proofsC.push(await store.consistencyProof(m, n));
      const consGenMs = now() - t;
      const consReads = store.stats.nodeReads;
      const r2 = fromHex(store.rootHash, 32);
      for (let q = 0; q < count; q++) cons.push({ m: ms[q]!, n, r1: fromHex(await store.root(ms[q]!), 32), r2, proof: proofsC[q]! });
      out[`consistency_gen_per_s_${L}`] = round(count / (consGenMs / 1000));
      out[`consistency_node_reads_per_proof_${L}`] = round(consReads / count, 2);
      out[`consistency_proof_len_avg_${L}`] = round(cons.reduce((s, x) => s + x.proof.length, 0) / count, 2);

      // ---- verification vs plain hashing ----
      // The machine may be shared: run each variant in interleaved rounds and keep each one's
      // fastest round, so a burst of outside load does not land on one side of the ratio only.
      const inclBytes = incl.map((x) => x.proof.map((h) => fromHex(h, 32)));
      const consBytes = cons.map((x) => x.proof.map((h) => fromHex(h, 32)));
      const consCounts = cons.map((x) => consistencyHashCount(x.m, x.n, x.proof.length));
      const inclHashes = incl.reduce((s, x) => s + x.proof.length, 0);
      const consHashes = consCounts.reduce((s, c) => s + c, 0);
      const variants: Record<string, () => void> = {
        verIncl: () => incl.forEach((x, q) => verifyInclusion(x.i, x.size, x.leaf, inclBytes[q]!, x.root)),
        verInclHex: () => incl.forEach((x) => verifyInclusion(x.i, x.size, x.leaf, x.proof.map((h) => fromHex(h, 32)), x.root)),
        plainIncl: () => {
          for (let q = 0; q < incl.length; q++) {
            let h = incl[q]!.leaf;
            for (const p of inclBytes[q]!) h = nodeHash(h, p);
          }
        },
        verCons: () => cons.forEach((x, q) => verifyConsistency(x.m, x.n, consBytes[q]!, x.r1, x.r2)),
        verConsHex: () => cons.forEach((x) => verifyConsistency(x.m, x.n, x.proof.map((h) => fromHex(h, 32)), x.r1, x.r2)),
        plainCons: () => {
          for (let q = 0; q < cons.length; q++) {
            const ps = consBytes[q]!;
            let h = cons[q]!.r1;
            for (let k = 0; k < consCounts[q]!; k++) h = nodeHash(h, ps[k % ps.length]!);
          }
        },
      };
      const best: Record<string, number> = {};
      for (let round = 0; round < 7; round++) {
        for (const [name, fn] of Object.entries(variants)) {
          const s = now();
          fn();
          const ms = now() - s;
          if (round > 0) best[name] = Math.min(best[name] ?? Infinity, ms); // round 0 warms up
        }
      }
      const verInclMs = best.verIncl!;
      const verInclHexMs = best.verInclHex!;
      const plainInclMs = best.plainIncl!;
      const verConsMs = best.verCons!;
      const verConsHexMs = best.verConsHex!;
      const plainConsMs = best.plainCons!;
      out[`inclusion_verify_per_s_${L}`] = round(count / (verInclMs / 1000));
      out[`inclusion_verify_from_hex_per_s_${L}`] = round(count / (verInclHexMs / 1000));
      out[`inclusion_plain_hash_per_s_equiv_${L}`] = round(count / (plainInclMs / 1000));
      out[`inclusion_verify_vs_plain_hashing_${L}`] = round(verInclMs / plainInclMs, 3);
      out[`inclusion_verify_from_hex_vs_plain_hashing_${L}`] = round(verInclHexMs / plainInclMs, 3);
      out[`inclusion_self_check_share_of_gen_${L}`] = round(verInclMs / inclGenMs, 3);
      out[`consistency_verify_per_s_${L}`] = round(count / (verConsMs / 1000));
      out[`consistency_verify_from_hex_per_s_${L}`] = round(count / (verConsHexMs / 1000));
      out[`consistency_verify_vs_plain_hashing_${L}`] = round(verConsMs / plainConsMs, 3);
      out[`consistency_verify_from_hex_vs_plain_hashing_${L}`] = round(verConsHexMs / plainConsMs, 3);
      out[`consistency_self_check_share_of_gen_${L}`] = round(verConsMs / consGenMs, 3);
      out[`verify_hashes_per_inclusion_proof_${L}`] = round(inclHashes / count, 2);
      out[`verify_hashes_per_consistency_proof_${L}`] = round(consHashes / count, 2);
      log(
        `@${L}: inclusion gen ${out[`inclusion_gen_per_s_${L}`]}/s (${out[`inclusion_node_reads_per_proof_${L}`]} reads), verify ${out[`inclusion_verify_per_s_${L}`]}/s ` +
          `(${out[`inclusion_verify_vs_plain_hashing_${L}`]}× plain hashing); consistency gen ${out[`consistency_gen_per_s_${L}`]}/s ` +
          `(${out[`consistency_node_reads_per_proof_${L}`]} reads), verify ${out[`consistency_verify_per_s_${L}`]}/s (${out[`consistency_verify_vs_plain_hashing_${L}`]}×)`,
      );
    }

    out.rss_mb = round(process.memoryUsage().rss / 2 ** 20, 1);
    out.max_rss_mb = round(process.resourceUsage().maxRSS / 1024, 1);
    const size = store.size;
    await db.close();
    out.disk_mb = round(dirSize(dir) / 2 ** 20, 1);
    out.disk_bytes_per_entry = round(dirSize(dir) / size, 1);

    // Reopen: the frontier comes back from popcount(size) stored nodes.
    const t = now();
    const db2 = await openDatabase(dir);
    const again = await LogStore.open(db2);
    out.reopen_ms = round(now() - t, 1);
    out.reopen_node_reads = again.stats.nodeReads;
    if (again.rootHash !== store.rootHash) throw new Error(`reopened root ${again.rootHash} differs from ${store.rootHash}`);
    await db2.close();
  } finally {
    if (db.status === 'open') await db.close();
    if (!opts.keep && opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (require.main === module) {
  const max = process.argv[2] === undefined ? 1_000_000 : Number(process.argv[2]);
  const sizes = [1_000, 100_000, 1_000_000].filter((s) => s < max).concat([max]);
  benchLogStore({ sizes: [...new Set(sizes)], log: (l) => process.stderr.write(l + '\n') })
    .then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'))
    .catch((err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    });
}
