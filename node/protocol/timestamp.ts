/**
 * RFC 3161 time-stamp tokens over signed checkpoints: building the request, reading the response, and
 * checking a token the way a court's verifier must — every link recomputed, nothing taken from the
 * token's own word. Pure and browser-safe: ASN.1 and CMS through asn1js / pkijs (maintained readers,
 * not written here), signatures through WebCrypto (globalThis.crypto, in Node 20 and in browsers).
 *
 * What is stamped: `imprint = SHA-256(JCS(signedCheckpoint))`, the operator-signed checkpoint
 * `{type, logId, treeSize, rootHash, signature}` as JCS bytes. The TSA sees only that hash.
 *
 * Checks, each a named step, in this order (the first that fails is the one reported):
 *   tsa-token        the DER is a CMS SignedData ContentInfo whose content is a TSTInfo (RFC 3161 §2.4.2)
 *   tsa-imprint      messageImprint is SHA-256 and equals the hash of this bundle's signed checkpoint
 *   tsa-signature    the CMS signature (and its message-digest attribute) verifies with the signer certificate
 *   tsa-certificate  the signer certificate carries extendedKeyUsage, critical, with only id-kp-timeStamping (§2.3)
 *   tsa-ess-cert-id  the signed attribute signing-certificate-v2 (RFC 5816 ESSCertIDv2) names that certificate
 *   tsa-chain        the signer certificate chains to one of the verifier's trust anchors (--tsa-ca), valid at genTime
 *   tsa-time         genTime ± accuracy is not before the checkpoint could exist (its newest entry in the bundle) and
 *                    not after the verification time
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { sha256 } from './hash';
import { canonicalBytes } from './canonical';
import { toHex, type Hex } from './bytes';
import type { SignedCheckpoint } from './formats';

export type { BundleTimestamp } from './formats';

export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
export const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
export const OID_KP_TIMESTAMPING = '1.3.6.1.5.5.7.3.8';
export const OID_EXT_KEY_USAGE = '2.5.29.37';
export const OID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';

export type TimestampStepName = 'tsa-token' | 'tsa-imprint' | 'tsa-signature' | 'tsa-certificate' | 'tsa-ess-cert-id' | 'tsa-chain' | 'tsa-time';

export interface TimestampStep {
  name: TimestampStepName;
  status: 'ok' | 'failed' | 'skipped';
  detail: string;
  expected?: string;
  calculated?: string;
}

/** What a token says, read (not yet trusted). */
export interface TokenInfo {
  policy: string;
  serialNumber: Hex;
  genTime: string;
  /** Accuracy in milliseconds; null when the token states none. */
  accuracyMs: number | null;
  imprintAlgorithm: string;
  imprint: Hex;
  nonce: Hex | null;
  /** Subject of the signer certificate (RFC 4514-ish, most specific last as in the certificate). */
  signer: string | null;
  /** Issuer of the signer certificate. */
  signerIssuer: string | null;
}

export interface TimestampCheck {
  steps: TimestampStep[];
  info: TokenInfo | null;
  /** ok only when every step is ok. */
  status: 'ok' | 'failed' | 'skipped';
}

export { TimestampError, base64ToBytes, bytesToBase64, certificatesFromPem } from './pem';
import { TimestampError } from './pem';

const ab = (u: Uint8Array): ArrayBuffer => u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
const hexOf = (b: ArrayBuffer | Uint8Array): Hex => toHex(b instanceof Uint8Array ? b : new Uint8Array(b));

/** The exact bytes stamped: JCS of the signed checkpoint. */
export function signedCheckpointBytes(cp: SignedCheckpoint): Uint8Array {
  return canonicalBytes({ type: cp.type, logId: cp.logId, treeSize: cp.treeSize, rootHash: cp.rootHash, signature: cp.signature });
}

/** messageImprint.hashedMessage for a signed checkpoint. */
export function checkpointImprint(cp: SignedCheckpoint): Uint8Array {
  return sha256(signedCheckpointBytes(cp));
}

/** DER TimeStampReq (RFC 3161 §2.4.1): v1, SHA-256 imprint, the nonce, certReq TRUE (the token carries the TSA certificate). */
export function buildTimestampRequest(imprint: Uint8Array, nonce: Uint8Array): Uint8Array {
  if (imprint.length !== 32) throw new TimestampError('the imprint must be a 32-byte SHA-256 hash');
  // A positive INTEGER: a leading 0x00 when the top bit is set.
  const n = nonce[0]! & 0x80 ? Uint8Array.from([0, ...nonce]) : nonce;
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID_SHA256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: ab(imprint) }),
    }),
    nonce: new asn1js.Integer({ valueHex: ab(n) }),
    certReq: true,
  });
  return new Uint8Array(req.toSchema().toBER(false));
}

/** Reads a DER TimeStampResp (§2.4.2); returns the token's DER, or throws TimestampError with the TSA's status. */
export function tokenFromResponse(der: Uint8Array): Uint8Array {
  let resp: pkijs.TimeStampResp;
  try {
    resp = pkijs.TimeStampResp.fromBER(ab(der));
  } catch (err) {
    throw new TimestampError(`not a TimeStampResp: ${(err as Error).message}`);
  }
  const status = resp.status.status;
  if (status !== 0 && status !== 1) {
    const text = resp.status.statusStrings?.map((s) => s.valueBlock.value).join('; ') ?? '';
    throw new TimestampError(`the TSA refused the request (PKIStatus ${status}${text ? `: ${text}` : ''})`);
  }
  if (!resp.timeStampToken) throw new TimestampError('the TSA granted the request but sent no token');
  return new Uint8Array(resp.timeStampToken.toSchema().toBER(false));
}

function nameOf(n: pkijs.RelativeDistinguishedNames): string {
  const short: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST' };
  return n.typesAndValues.map((tv) => `${short[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`).join(', ');
}

interface Parsed {
  signed: pkijs.SignedData;
  tst: pkijs.TSTInfo;
  signerCert: pkijs.Certificate | null;
  info: TokenInfo;
}

function accuracyMs(a: pkijs.Accuracy | undefined): number | null {
  if (!a) return null;
  return (a.seconds ?? 0) * 1000 + (a.millis ?? 0) + (a.micros ?? 0) / 1000;
}

/** Parses a token; throws TimestampError naming what is wrong (a truncated token ends here). */
export function readToken(der: Uint8Array): Parsed {
  let ci: pkijs.ContentInfo;
  try {
    const asn = asn1js.fromBER(ab(der));
    if (asn.offset === -1) throw new Error(asn.result.error || 'not DER');
    if (asn.offset !== der.length) throw new Error(`${der.length - asn.offset} bytes after the ContentInfo`);
    ci = new pkijs.ContentInfo({ schema: asn.result });
  } catch (err) {
    throw new TimestampError(`not a DER CMS ContentInfo: ${(err as Error).message}`);
  }
  if (ci.contentType !== OID_SIGNED_DATA) throw new TimestampError(`content type ${ci.contentType} is not SignedData`);
  let signed: pkijs.SignedData;
  try {
    signed = new pkijs.SignedData({ schema: ci.content });
  } catch (err) {
    throw new TimestampError(`SignedData does not parse: ${(err as Error).message}`);
  }
  if (signed.encapContentInfo.eContentType !== OID_TST_INFO) throw new TimestampError(`encapsulated content ${signed.encapContentInfo.eContentType} is not a TSTInfo`);
  if (!signed.encapContentInfo.eContent) throw new TimestampError('the TSTInfo is missing');
  if (signed.signerInfos.length !== 1) throw new TimestampError(`a time-stamp token has exactly one signer, this one ${signed.signerInfos.length}`);
  let tst: pkijs.TSTInfo;
  try {
    tst = pkijs.TSTInfo.fromBER(signed.encapContentInfo.eContent.getValue());
  } catch (err) {
    throw new TimestampError(`TSTInfo does not parse: ${(err as Error).message}`);
  }
  const si = signed.signerInfos[0]!;
  let signerCert: pkijs.Certificate | null = null;
  if (si.sid instanceof pkijs.IssuerAndSerialNumber) {
    const sid = si.sid;
    signerCert = (signed.certificates ?? []).find((c): c is pkijs.Certificate => c instanceof pkijs.Certificate && c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber)) ?? null;
  }
  const info: TokenInfo = {
    policy: tst.policy,
    serialNumber: hexOf(tst.serialNumber.valueBlock.valueHexView),
    genTime: tst.genTime.toISOString(),
    accuracyMs: accuracyMs(tst.accuracy),
    imprintAlgorithm: tst.messageImprint.hashAlgorithm.algorithmId,
    imprint: hexOf(tst.messageImprint.hashedMessage.valueBlock.valueHexView),
    nonce: tst.nonce ? hexOf(tst.nonce.valueBlock.valueHexView) : null,
    signer: signerCert ? nameOf(signerCert.subject) : null,
    signerIssuer: signerCert ? nameOf(signerCert.issuer) : null,
  };
  return { signed, tst, signerCert, info };
}

/** Parses PEM (one or more CERTIFICATE blocks) or a single DER certificate into DER certificates. */
function parseCert(der: Uint8Array): pkijs.Certificate {
  return pkijs.Certificate.fromBER(ab(der));
}

export interface TimestampVerifyOptions {
  /** The signed checkpoint whose bytes the token must stamp. */
  checkpoint: SignedCheckpoint;
  /**
   * DER certificates the verifier trusts as TSA roots (--tsa-ca). Undefined: the chain step is skipped
   * (the token is checked, the TSA is not tied to anyone trusted). Empty: it fails (nothing trusted).
   */
  trustAnchors?: readonly Uint8Array[];
  /** The checkpoint cannot have existed before this (the newest acceptance time of an entry it covers). */
  notBefore?: Date;
  /** The verification time: a token from the future is refused. */
  now?: Date;
}

/**
 * Checks one token. Never throws for a bad token: every problem is a failed step, and later steps are
 * reported skipped with why, so a report shows exactly where the token broke.
 */
export async function verifyTimestampToken(token: Uint8Array, o: TimestampVerifyOptions): Promise<TimestampCheck> {
  const steps: TimestampStep[] = [];
  const order: TimestampStepName[] = ['tsa-token', 'tsa-imprint', 'tsa-signature', 'tsa-certificate', 'tsa-ess-cert-id', 'tsa-chain', 'tsa-time'];
  const done = (info: TokenInfo | null): TimestampCheck => {
    const failed = steps.find((s) => s.status === 'failed');
    if (failed) for (const n of order.slice(order.indexOf(failed.name) + 1)) if (!steps.some((s) => s.name === n)) steps.push({ name: n, status: 'skipped', detail: `not checked: ${failed.name} failed` });
    return { steps, info, status: failed ? 'failed' : steps.every((s) => s.status === 'ok') ? 'ok' : 'skipped' };
  };
  const fail = (name: TimestampStepName, detail: string, ev: { expected?: string; calculated?: string } = {}): void => {
    steps.push({ name, status: 'failed', detail, ...ev });
  };
  const ok = (name: TimestampStepName, detail: string, ev: { expected?: string; calculated?: string } = {}): void => {
    steps.push({ name, status: 'ok', detail, ...ev });
  };

  // tsa-token
  let p: Parsed;
  try {
    p = readToken(token);
  } catch (err) {
    fail('tsa-token', `${(err as Error).message} (${token.length} bytes)`);
    return done(null);
  }
  const { info } = p;
  ok('tsa-token', `RFC 3161 TimeStampToken, ${token.length} bytes: TSTInfo serial ${info.serialNumber}, policy ${info.policy}, genTime ${info.genTime}${info.accuracyMs !== null ? ` ± ${info.accuracyMs} ms` : ' (no accuracy stated)'}, signed by ${info.signer ?? 'an unnamed signer'}`);

  // tsa-imprint
  const data = signedCheckpointBytes(o.checkpoint);
  const want = toHex(sha256(data));
  if (info.imprintAlgorithm !== OID_SHA256) fail('tsa-imprint', `the imprint is hashed with ${info.imprintAlgorithm}, not SHA-256 (${OID_SHA256})`, { expected: OID_SHA256, calculated: info.imprintAlgorithm });
  else if (info.imprint !== want) fail('tsa-imprint', `the token stamps another hash than this bundle's signed checkpoint (tree size ${o.checkpoint.treeSize})`, { expected: want, calculated: info.imprint });
  else ok('tsa-imprint', `messageImprint = SHA-256(JCS(signed checkpoint of tree size ${o.checkpoint.treeSize}))`, { expected: want, calculated: info.imprint });
  if (steps.at(-1)!.status === 'failed') return done(info);

  // tsa-signature
  if (!p.signerCert) {
    fail('tsa-signature', 'the token does not carry its signer certificate (request it with certReq TRUE), so its signature cannot be checked');
    return done(info);
  }
  try {
    const r = await p.signed.verify({ signer: 0, data: ab(data), checkChain: false, extendedMode: true });
    if (r.signatureVerified !== true) fail('tsa-signature', `the CMS signature does not verify with the signer certificate: ${r.message || 'bad signature'}`);
    else ok('tsa-signature', `CMS SignedData signature verifies with ${info.signer}'s key (signed attributes with the TSTInfo's message digest)`);
  } catch (err) {
    const e = err as { message?: string; signatureVerified?: boolean | null };
    fail('tsa-signature', `the CMS signature does not verify: ${e.message ?? String(err)}`);
  }
  if (steps.at(-1)!.status === 'failed') return done(info);

  // tsa-certificate: RFC 3161 §2.3 — exactly one EKU, id-kp-timeStamping, critical.
  const eku = (p.signerCert.extensions ?? []).filter((e) => e.extnID === OID_EXT_KEY_USAGE);
  const purposes = eku[0]?.parsedValue instanceof pkijs.ExtKeyUsage ? eku[0].parsedValue.keyPurposes : [];
  if (eku.length !== 1) fail('tsa-certificate', `the signer certificate must carry one extendedKeyUsage extension, it carries ${eku.length}`);
  else if (!eku[0]!.critical) fail('tsa-certificate', 'the signer certificate\'s extendedKeyUsage is not critical (RFC 3161 §2.3)');
  else if (purposes.length !== 1 || purposes[0] !== OID_KP_TIMESTAMPING) fail('tsa-certificate', `the signer certificate's key purposes are ${purposes.join(', ')}, not only id-kp-timeStamping`, { expected: OID_KP_TIMESTAMPING, calculated: purposes.join(',') });
  else ok('tsa-certificate', `signer certificate ${info.signer} (issuer ${info.signerIssuer}): extendedKeyUsage critical, id-kp-timeStamping only`);
  if (steps.at(-1)!.status === 'failed') return done(info);

  // tsa-ess-cert-id: RFC 5816 — SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { hashAlgorithm DEFAULT sha256, certHash, issuerSerial? } }.
  {
    const attrs = p.signed.signerInfos[0]!.signedAttrs?.attributes ?? [];
    const attr = attrs.find((a) => a.type === OID_SIGNING_CERTIFICATE_V2);
    const certDer = new Uint8Array(p.signerCert.toSchema().toBER(false));
    const certHash = toHex(sha256(certDer));
    if (!attr) fail('tsa-ess-cert-id', 'the signed attributes hold no signing-certificate-v2 (ESSCertIDv2, RFC 5816): the certificate that signed is not bound into the signature');
    else {
      try {
        const seq = attr.values[0] as asn1js.Sequence;
        const certs = seq.valueBlock.value[0] as asn1js.Sequence;
        const first = certs.valueBlock.value[0] as asn1js.Sequence;
        let idx = 0;
        let alg = OID_SHA256;
        if (first.valueBlock.value[0] instanceof asn1js.Sequence) {
          alg = new pkijs.AlgorithmIdentifier({ schema: first.valueBlock.value[0] }).algorithmId;
          idx = 1;
        }
        const named = hexOf((first.valueBlock.value[idx] as asn1js.OctetString).valueBlock.valueHexView);
        if (alg !== OID_SHA256) fail('tsa-ess-cert-id', `ESSCertIDv2 hashes the certificate with ${alg}; this verifier checks SHA-256`, { expected: OID_SHA256, calculated: alg });
        else if (named !== certHash) fail('tsa-ess-cert-id', 'ESSCertIDv2 names another certificate than the one that signed', { expected: certHash, calculated: named });
        else ok('tsa-ess-cert-id', 'signing-certificate-v2 (ESSCertIDv2, SHA-256) names the signer certificate', { expected: certHash, calculated: named });
      } catch (err) {
        fail('tsa-ess-cert-id', `signing-certificate-v2 does not parse: ${(err as Error).message}`);
      }
    }
  }
  if (steps.at(-1)!.status === 'failed') return done(info);

  // tsa-chain: to the verifier's own trust anchors, at genTime.
  if (o.trustAnchors === undefined) steps.push({ name: 'tsa-chain', status: 'skipped', detail: 'no TSA trust anchors given (--tsa-ca FILE): the token is checked, but its TSA is not tied to a root the verifier trusts' });
  else if (o.trustAnchors.length === 0) fail('tsa-chain', 'no TSA trust anchors given (--tsa-ca FILE): the TSA\'s certificate cannot be tied to a TSA the verifier trusts');
  else {
    try {
      const trusted = o.trustAnchors.map(parseCert);
      const certs = (p.signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
      const engine = new pkijs.CertificateChainValidationEngine({ trustedCerts: trusted, certs: [...certs.filter((c) => c !== p.signerCert), p.signerCert], checkDate: p.tst.genTime });
      const r = await engine.verify();
      if (!r.result) fail('tsa-chain', `the TSA certificate ${info.signer} does not chain to a trusted TSA root at genTime: ${r.resultMessage}`, { expected: trusted.map((c) => nameOf(c.subject)).join(' | '), calculated: info.signerIssuer ?? '' });
      else ok('tsa-chain', `${(r.certificatePath ?? []).map((c) => nameOf(c.subject)).join(' ← ')} — chains to a trust anchor, valid at genTime`);
    } catch (err) {
      const e = err as { resultMessage?: string; message?: string };
      fail('tsa-chain', `the TSA certificate does not chain to a trusted TSA root: ${e.resultMessage ?? e.message ?? String(err)}`);
    }
  }
  if (steps.at(-1)!.status === 'failed') return done(info);

  // tsa-time: the token cannot precede the data it stamps, nor the verification.
  {
    const gen = p.tst.genTime.getTime();
    const acc = info.accuracyMs ?? 0;
    const now = (o.now ?? new Date()).getTime();
    if (o.notBefore && gen + acc < o.notBefore.getTime()) {
      fail('tsa-time', `genTime ${info.genTime}${acc ? ` + ${acc} ms` : ''} is before the checkpoint could exist (its newest entry was accepted at ${o.notBefore.toISOString()}): the token was not made for this checkpoint's bytes at that time`, { expected: `>= ${o.notBefore.toISOString()}`, calculated: info.genTime });
    } else if (gen - acc > now) {
      fail('tsa-time', `genTime ${info.genTime} is after the verification time ${new Date(now).toISOString()}`, { expected: `<= ${new Date(now).toISOString()}`, calculated: info.genTime });
    } else {
      ok('tsa-time', `the TSA attests the signed checkpoint existed no later than ${new Date(gen + acc).toISOString()} (genTime ${info.genTime}${info.accuracyMs !== null ? ` ± ${acc} ms` : ', no accuracy stated'})${o.notBefore ? `, after its newest entry (${o.notBefore.toISOString()})` : ''}`, { calculated: info.genTime });
    }
  }
  return done(info);
}
