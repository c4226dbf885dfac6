/**
 * The TLS check of an HTTPS origin, made by the capture host itself (node:tls), to exactly the address
 * the guard allowed: the certificate chain the server presents (PEM, subject, issuer, validity,
 * SHA-256 fingerprint), whether it verifies against the trusted roots (the system's, plus
 * TIANFU_CAPTURE_CA_FILE) and names the host. The browser's own handshake is not what decides: the
 * capture proxy lets a browser tunnel to an origin only after this check passed.
 */
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  serialNumber: string;
  /** SHA-256 of the DER, lowercase hex without separators. */
  fingerprint256: string;
  subjectAltName?: string;
  pem: string;
}

export interface TlsCheck {
  origin: string;
  host: string;
  port: number;
  address: string;
  at: string;
  protocol: string | null;
  cipher: string | null;
  /** The chain verifies to a trusted root and names the host. */
  verified: boolean;
  /** Why not (OpenSSL's code, e.g. DEPTH_ZERO_SELF_SIGNED_CERT, or ERR_TLS_CERT_ALTNAME_INVALID). */
  error?: string;
  errorMessage?: string;
  /** Leaf first. */
  chain: CertificateInfo[];
}

function pemOf(raw: Buffer): string {
  const b64 = raw.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.endsWith('\n') ? b64 : b64 + '\n'}-----END CERTIFICATE-----\n`;
}

function info(raw: Buffer): CertificateInfo {
  const x = new X509Certificate(raw);
  const out: CertificateInfo = {
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    validFrom: new Date(x.validFrom).toISOString(),
    validTo: new Date(x.validTo).toISOString(),
    serialNumber: x.serialNumber.toLowerCase(),
    fingerprint256: x.fingerprint256.replace(/:/g, '').toLowerCase(),
    pem: pemOf(raw),
  };
  if (x.subjectAltName) out.subjectAltName = x.subjectAltName;
  return out;
}

/** Connects to `address:port` with SNI `host` (unless an IP), reads the chain, closes. Never throws for a bad certificate. */
export function checkTls(opts: { host: string; port: number; address: string; ca?: string[]; timeoutMs?: number }): Promise<TlsCheck> {
  const { host, port, address } = opts;
  const isIp = /^[\d.]+$/.test(host) || host.includes(':');
  const origin = `https://${host.includes(':') ? `[${host}]` : host}${port === 443 ? '' : `:${port}`}`;
  const at = new Date().toISOString();
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: address,
      port,
      ...(isIp ? {} : { servername: host }),
      ...(opts.ca ? { ca: opts.ca } : {}),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    const timer = setTimeout(() => socket.destroy(new Error(`TLS handshake with ${origin} (${address}) timed out`)), opts.timeoutMs ?? 10_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain: CertificateInfo[] = [];
      const seen = new Set<string>();
      let c = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
      while (c && c.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        chain.push(info(c.raw));
        c = c.issuerCertificate;
      }
      let error: string | undefined;
      let errorMessage: string | undefined;
      if (!socket.authorized) {
        const e = socket.authorizationError as unknown;
        error = typeof e === 'string' ? e : ((e as NodeJS.ErrnoException)?.code ?? String(e));
        errorMessage = typeof e === 'string' ? e : (e as Error)?.message;
      } else {
        const leaf = socket.getPeerCertificate();
        const idErr = tls.checkServerIdentity(host, leaf);
        if (idErr) {
          error = (idErr as NodeJS.ErrnoException).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID';
          errorMessage = idErr.message;
        }
      }
      const out: TlsCheck = { origin, host, port, address, at, protocol: socket.getProtocol(), cipher: socket.getCipher()?.name ?? null, verified: error === undefined, chain };
      if (error !== undefined) out.error = error;
      if (errorMessage !== undefined) out.errorMessage = errorMessage;
      socket.end();
      resolve(out);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
