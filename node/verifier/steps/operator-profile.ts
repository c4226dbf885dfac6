/**
 * operator-profile (checklist items 10–12): the operator's signed disclosures the bundle carries.
 * `operatorProfile.digest` must be SHA-256(JCS(profile)), the profile must be for the bundle's log
 * and the EIP-191 signature over JCS(profile without signature) must recover to the bundle's log
 * operator (the key the registry names, checked by the operator step). A profile changed after
 * signing fails here. No row when the bundle carries no profile (the report says not provided).
 */

import { OPERATOR_PROFILE_TYPE, operatorProfileDigest, operatorProfileMessage, type SignedOperatorProfile } from '../../protocol/operator-profile';
import { recoverSigner } from '../../protocol/signatures';
import { describeError, eqHex, type BundleStep } from '../context';

export const operatorProfileStep: BundleStep = {
  name: 'operator-profile',
  run(ctx) {
    const { b, steps, opts } = ctx;
    const op = b.operatorProfile;
    if (!op) return;
    const add = (status: 'ok' | 'failed', detail: string, ev: { expected?: string; calculated?: string } = {}): void => void steps.add({ name: 'operator-profile', status, detail, ...ev });
    const p = op.profile as SignedOperatorProfile;
    let digest: string;
    try {
      digest = operatorProfileDigest(p);
    } catch (err) {
      return add('failed', `the operator profile has no canonical form: ${describeError(err).detail}`);
    }
    if (!eqHex(digest, op.digest)) return add('failed', 'the operator profile is not the one its digest names: it changed after the bundle was made', { expected: op.digest, calculated: digest });
    if (p.type !== OPERATOR_PROFILE_TYPE) return add('failed', `the operator profile is of type ${String(p.type)}, not ${OPERATOR_PROFILE_TYPE}`);
    if (!eqHex(p.logId, b.log.logId)) return add('failed', 'the operator profile is for another log', { expected: b.log.logId, calculated: String(p.logId) });
    let signer: string;
    try {
      signer = (opts.recoverSigner ?? recoverSigner)(operatorProfileMessage(p), p.signature);
    } catch (err) {
      return add('failed', `the operator profile's signature does not recover: ${describeError(err).detail}`);
    }
    if (!eqHex(signer, b.log.operator)) {
      return add('failed', 'the operator profile is not signed by the log operator: it was changed after signing, or signed by another key', { expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() });
    }
    if (!eqHex(p.operator, signer)) return add('failed', 'the operator profile names another operator than the key that signed it', { expected: signer.toLowerCase(), calculated: String(p.operator) });
    add('ok', `the operator's disclosures (digest ${digest}, signed ${p.signedAt}) are signed by the log operator ${signer.toLowerCase()}${p.declared ? '' : '; it declares nothing beyond the technical profile'}`, { expected: b.log.operator.toLowerCase(), calculated: signer.toLowerCase() });
  },
};
