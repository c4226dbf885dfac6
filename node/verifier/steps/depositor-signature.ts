/**
 * depositor-signature (evidence bundles): the collector's own signature over its deposit claim.
 * The deposit record holds `collectorSignature {address, digest, signature}`: `digest` must be
 * SHA-256(JCS(metadata)) of the record's metadata (the claim the collector signed, without the
 * signature) and the EIP-191 signature over its 32 bytes must recover to `address`. An unsigned
 * deposit is reported skipped: the collector is then identified only by the API key the node recorded.
 */
import { fromHex, type Hex } from '../../protocol/bytes';
import { recordDigest } from '../../protocol/record';
import { recoverSigner } from '../../protocol/signatures';
import { DEPOSIT_KIND } from '../../evidence/history';
import { describeError, eqHex, type BundleStep } from '../context';

export const depositorSignatureStep: BundleStep = {
  name: 'depositor-signature',
  run(ctx) {
    const { b, steps, opts } = ctx;
    const first = b.items[0];
    if (b.kind !== 'evidence' || !first || first.entry.kind !== DEPOSIT_KIND) return;
    const add = (status: 'ok' | 'failed' | 'skipped', detail: string, ev: { expected?: string; calculated?: string } = {}): void => void steps.add({ name: 'depositor-signature', item: 0, status, detail, ...ev });
    const rec = first.record;
    if (rec === null) return add('skipped', 'the deposit record is erased: who deposited it cannot be shown');
    const by = rec.collector as { keyId?: unknown; role?: unknown; name?: unknown } | undefined;
    const who = `API key ${String(by?.keyId ?? '?')} (role ${String(by?.role ?? '?')}${typeof by?.name === 'string' ? `, ${by.name}` : ''})`;
    const sig = rec.collectorSignature as { address?: unknown; digest?: unknown; signature?: unknown } | undefined;
    if (sig === undefined) return add('skipped', `the deposit is not signed by the collector: it is identified only by the ${who} the node recorded`);
    if (typeof sig !== 'object' || sig === null || typeof sig.address !== 'string' || typeof sig.digest !== 'string' || typeof sig.signature !== 'string') return add('failed', 'collectorSignature must hold address, digest and signature strings');
    let digest: Hex;
    try {
      digest = recordDigest(rec.metadata);
    } catch (err) {
      return add('failed', `the deposit's metadata has no canonical form: ${describeError(err).detail}`);
    }
    if (!eqHex(digest, sig.digest)) return add('failed', 'the digest the collector signed is not SHA-256(JCS(metadata)) of this deposit record', { expected: digest, calculated: sig.digest });
    let signer: Hex;
    try {
      signer = (opts.recoverSigner ?? recoverSigner)(fromHex(digest, 32), sig.signature);
    } catch (err) {
      return add('failed', `the collector signature does not recover: ${describeError(err).detail}`);
    }
    if (!eqHex(signer, sig.address)) return add('failed', 'the collector signature was made by another key than the address the record names', { expected: sig.address.toLowerCase(), calculated: signer.toLowerCase() });
    add('ok', `the collector signed this deposit's claim (SHA-256(JCS(metadata)) ${digest}) with key ${signer.toLowerCase()}; deposited by ${who}`, { expected: sig.address.toLowerCase(), calculated: signer.toLowerCase() });
  },
};
