/**
 * checkpoint-signature and tsa-* (node/protocol/timestamp-evidence.ts): the signed checkpoint the
 * bundle carries is the anchored one, signed by the log operator, and every RFC 3161 token over it
 * verifies (imprint, CMS signature, TSA certificate, ESSCertIDv2, chain to --tsa-ca, genTime). Sets
 * the report's `time`: the window the chain gives beside the one each TSA gives, and whether they agree.
 * Asynchronous (WebCrypto), so the offline verifier leaves it out. The CMS code (pkijs) comes through
 * tsa-loader.ts, which the browser page loads only for a bundle that carries tokens.
 */
import { noTokenEvidence } from '../../protocol/checkpoint-evidence';
import { read, type BundleStep } from '../context';
import { loadCheckTimeEvidence } from './tsa-loader';
import type { TimeSummary } from '../types';

export const timeEvidenceStep: BundleStep = {
  name: 'tsa-token',
  asynchronous: true,
  async run(ctx) {
    const { b, opts, steps } = ctx;
    const now = (opts.now ?? (() => new Date()))();
    // Who was the log's operator when the checkpoint was anchored (a rotated key signed it then).
    const anchoredCp = b.checkpoint ? ctx.checkpoints.find((c) => c.treeSize === b.checkpoint!.treeSize && c.status !== 'failed' && c.blockHash !== null) : undefined;
    const anchoredBy = anchoredCp && ctx.chain?.operatorOf ? await read(`operatorOf(${b.log.logId})`, () => ctx.chain!.operatorOf!(anchoredCp.registry, b.log.logId, BigInt(anchoredCp.blockNumber))) : null;
    const ev = (b.timestamps ?? []).length === 0
      ? noTokenEvidence(b, opts.recoverSigner, anchoredBy)
      : await (await loadCheckTimeEvidence())(b, {
        anchoredBy,
        ...(opts.tsaTrustAnchors !== undefined ? { tsaTrustAnchors: opts.tsaTrustAnchors } : {}),
        now,
        ...(opts.recoverSigner ? { recover: opts.recoverSigner } : {}),
      });
    for (const s of ev.steps) steps.add({ name: s.name, status: s.status, detail: s.detail, ...(s.checkpoint !== undefined ? { checkpoint: s.checkpoint } : {}), ...(s.token !== undefined ? { token: s.token } : {}), ...(s.expected !== undefined ? { expected: s.expected } : {}), ...(s.calculated !== undefined ? { calculated: s.calculated } : {}) });
    const cp = ev.checkpoint === null ? undefined : ctx.checkpoints.find((c) => c.treeSize === ev.checkpoint && c.status === 'ok');
    const chainNotAfter = cp?.blockTime ?? null;
    const tokens = ev.tokens.map((t) => ({
      token: t.token,
      tsa: t.tsa,
      status: t.status,
      genTime: t.info?.genTime ?? null,
      accuracyMs: t.info?.accuracyMs ?? null,
      policy: t.info?.policy ?? null,
      serialNumber: t.info?.serialNumber ?? null,
      notAfter: t.notAfter,
    }));
    const good = tokens.filter((t) => t.status === 'ok');
    let agree: boolean | null = null;
    let gapMs: number | null = null;
    if (good.length > 0 && chainNotAfter !== null && ev.notBefore !== null) {
      const from = Date.parse(ev.notBefore);
      // Block times are whole seconds: the chain's bound is to the second.
      agree = Math.floor(from / 1000) * 1000 <= Date.parse(chainNotAfter) && good.every((t) => from <= Date.parse(t.notAfter!));
      gapMs = Date.parse(good[0]!.genTime!) - Date.parse(chainNotAfter);
    }
    const time: TimeSummary = { status: ev.status, checkpoint: ev.checkpoint, notBefore: ev.notBefore, chainNotAfter, tokens, agree, gapMs };
    ctx.time = time;
  },
};
