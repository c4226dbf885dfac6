/**
 * Base64 and PEM certificates for the RFC 3161 code, without ASN.1: the browser page reads the judge's
 * TSA root certificates with these before it knows whether it needs the CMS code (timestamp.ts).
 */

export class TimestampError extends Error {
  override readonly name = 'TimestampError';
}

/** The DER of every CERTIFICATE block in a PEM text. */
export function certificatesFromPem(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(base64ToBytes(m[1]!.replace(/\s+/g, '')));
  return out;
}

export function base64ToBytes(b64: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new TimestampError('not base64');
  const bin = atob(b64);
  const u = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
  return u;
}

export function bytesToBase64(u: Uint8Array): string {
  let s = '';
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}
