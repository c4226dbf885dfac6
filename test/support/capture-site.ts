/**
 * The capture tests' own web site, on loopback only: HTTP and HTTPS on 127.0.0.1 (a certificate for the
 * IP signed by a CA the test makes with openssl), an HTTPS server whose certificate names another host
 * (TLS name mismatch), and a decoy listening on 127.0.0.2 that counts every request it gets (the SSRF
 * tests assert it got none). Pages: CSS, an image, a script that changes the DOM after load, a redirect
 * chain, a 404, a page slower than any test's timeout, a huge page, a redirect and a subresource to
 * the decoy, and a page with 50 subresources.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { requireTool } from './system-tools';

/** A 3×2 red PNG. */
export const PNG_PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAEklEQVR4nGP4z8DAwMDAwMAAABfwAv+OGk7rAAAAAElFTkSuQmCC', 'base64');
export const SCRIPT_TEXT = 'written by the page script after load';

export interface CaptureSite {
  http: string;
  https: string;
  /** HTTPS whose certificate names wrong.example only. */
  mismatch: string;
  /**
   * HTTPS with two valid certificates for 127.0.0.1: the first connection gets the usual one
   * (`certFingerprint`), every later one the other (`cert2Fingerprint`): what a server that shows a
   * checker one certificate and a browser another looks like.
   */
  twoFaced: string;
  cert2Fingerprint: string;
  /** The two-faced server's next connection is again its "first" (it gets the usual certificate). */
  resetTwoFaced(): void;
  /**
   * HTTPS port on 127.0.0.1 that shows the certificate for shop.test only to a client that asks for
   * that name (SNI), the 127.0.0.1 one otherwise; the tests reach it as https://shop.test:<port>
   * through their own resolver.
   */
  sniPort: number;
  namedCertFingerprint: string;
  /** The decoy on 127.0.0.2 (same port numbering as its own server). */
  decoy: string;
  decoyHits: string[];
  /** Every path the main servers served, in order. */
  hits: string[];
  caFile: string;
  caPem: string;
  /** SHA-256 fingerprint (lowercase hex) of the 127.0.0.1 certificate. */
  certFingerprint: string;
  hugeBytes: number;
  close(): Promise<void>;
}

function makeCerts(dir: string): { caKey: string; caCert: string; key: string; cert: string; key2: string; cert2: string; namedKey: string; namedCert: string; badKey: string; badCert: string } {
  const openssl = requireTool('openssl');
  const p = (n: string): string => path.join(dir, n);
  const run = (...args: string[]): void => void execFileSync(openssl, args, { stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=Tianfu capture test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const leaf = (name: string, san: string): void => {
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`);
    fs.writeFileSync(p(`${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    run('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${name}.pem`), '-days', '2', '-extfile', p(`${name}.ext`));
  };
  leaf('site', 'IP:127.0.0.1');
  leaf('site2', 'IP:127.0.0.1');
  leaf('named', 'DNS:shop.test');
  leaf('wrong', 'DNS:wrong.example');
  const r = (n: string): string => fs.readFileSync(p(n), 'utf8');
  return { caKey: r('ca.key'), caCert: r('ca.pem'), key: r('site.key'), cert: r('site.pem'), key2: r('site2.key'), cert2: r('site2.pem'), namedKey: r('named.key'), namedCert: r('named.pem'), badKey: r('wrong.key'), badCert: r('wrong.pem') };
}

/** SHA-256 of a PEM certificate's DER, lowercase hex (as the capture records it). */
const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

function listen(server: http.Server, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startCaptureSite(opts: { hugeBytes?: number } = {}): Promise<CaptureSite> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-site-'));
  const certs = makeCerts(dir);
  const caFile = path.join(dir, 'ca.pem');
  const hugeBytes = opts.hugeBytes ?? 6 * 1024 * 1024;
  const hits: string[] = [];
  const decoyHits: string[] = [];
  let decoyBase = '';
  const slow = new Set<http.ServerResponse>();

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const u = new URL(req.url ?? '/', 'http://x');
    hits.push(u.pathname);
    const html = (body: string, status = 200): void => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><meta charset="utf-8">${body}`);
    };
    switch (u.pathname) {
      case '/page':
        return html(`<title>Test listing 测试</title><link rel="stylesheet" href="/style.css"></head><body><h1>Listing</h1><p id="price">¥ 1,299.00</p><img id="pic" src="/img.png" width="30" height="20"><div id="late"></div><script src="/app.js"></script></body></html>`);
      case '/style.css':
        res.writeHead(200, { 'content-type': 'text/css' });
        return void res.end('body { font-family: sans-serif; background: #fff; } h1 { color: #a00; } .tall { height: 3000px; }');
      case '/app.js':
        res.writeHead(200, { 'content-type': 'text/javascript' });
        return void res.end(`window.addEventListener('load', () => { setTimeout(() => { document.getElementById('late').textContent = ${JSON.stringify(SCRIPT_TEXT)}; }, 100); });`);
      case '/img.png':
        res.writeHead(200, { 'content-type': 'image/png' });
        return void res.end(PNG_PIXEL);
      case '/tall':
        return html(`<title>Tall</title></head><body><div class="tall" style="height:3000px">top</div><p>bottom</p></body></html>`);
      case '/redirect/1':
        res.writeHead(301, { location: '/redirect/2' });
        return void res.end();
      case '/redirect/2':
        res.writeHead(302, { location: '/page' });
        return void res.end();
      case '/missing':
        return html('<title>Not found</title></head><body>no such page</body></html>', 404);
      case '/slow':
        // Headers, then nothing until the site closes: slower than any capture's timeout.
        res.writeHead(200, { 'content-type': 'text/html' });
        res.write('<!doctype html><html><head><title>slow</title>');
        slow.add(res);
        return;
      case '/huge': {
        res.writeHead(200, { 'content-type': 'text/html' });
        const chunk = Buffer.alloc(64 * 1024, 'x'.charCodeAt(0));
        let sent = 0;
        const pump = (): void => {
          while (sent < hugeBytes) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.write('<!doctype html><html><body><pre>');
        return pump();
      }
      case '/delay': {
        // The page after `ms` milliseconds (a capture that is still running when a test restarts the node).
        const t = setTimeout(() => html(`<title>Delayed</title></head><body><p>delayed page</p></body></html>`), Number(u.searchParams.get('ms') ?? 1000));
        res.on('close', () => clearTimeout(t));
        return;
      }
      case '/to-decoy':
        res.writeHead(302, { location: `${decoyBase}/page` });
        return void res.end();
      case '/download':
        // A file the browser would save rather than show.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="contract.bin"' });
        return void res.end(Buffer.from('contract body 合同'));
      case '/starts-download':
        // A page that starts a download by itself (a frame whose document is a file to save).
        return html(`<title>Starts a download</title></head><body><p>see the file</p><iframe src="/download"></iframe></body></html>`);
      case '/sub-https':
        // A subresource from another HTTPS origin of the site (?port=…).
        return html(`<title>Sub https</title></head><body><p>ok</p><img src="https://127.0.0.1:${u.searchParams.get('port') ?? ''}/img.png"></body></html>`);
      case '/sub-name':
        // A subresource by host name (the tests' resolver answers it): ?host=name, on the decoy's port.
        return html(`<title>Sub by name</title></head><body><p>ok</p><img src="http://${u.searchParams.get('host') ?? 'cdn.test'}:${new URL(decoyBase).port}/img.png"></body></html>`);
      case '/sub-decoy':
        return html(`<title>Sub</title></head><body><p>ok</p><img src="${decoyBase}/img.png"></body></html>`);
      case '/many': {
        const imgs = Array.from({ length: 50 }, (_, i) => `<img src="/img.png?n=${i}" width="3" height="2">`).join('');
        return html(`<title>Many</title></head><body>${imgs}</body></html>`);
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        return void res.end('not found');
    }
  };

  const plain = http.createServer(handler);
  const secure = https.createServer({ key: certs.key, cert: certs.cert }, handler);
  const wrong = https.createServer({ key: certs.badKey, cert: certs.badCert }, handler);
  const decoy = http.createServer((req, res) => {
    decoyHits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<title>decoy</title>decoy');
  });
  const httpPort = await listen(plain, '127.0.0.1');
  const httpsPort = await listen(secure, '127.0.0.1');
  const wrongPort = await listen(wrong, '127.0.0.1');
  const namedContext = tls.createSecureContext({ key: certs.namedKey, cert: certs.namedCert });
  const sni = https.createServer({ key: certs.key, cert: certs.cert, SNICallback: (name, cb) => cb(null, name === 'shop.test' ? namedContext : undefined) }, handler);
  const sniPort = await listen(sni, '127.0.0.1');
  const faceA = https.createServer({ key: certs.key, cert: certs.cert }, handler);
  const faceB = https.createServer({ key: certs.key2, cert: certs.cert2 }, handler);
  let twoFacedConnections = 0;
  const twoFaced = net.createServer((socket) => void (twoFacedConnections++ === 0 ? faceA : faceB).emit('connection', socket));
  const twoFacedPort = await new Promise<number>((resolve) => twoFaced.listen(0, '127.0.0.1', () => resolve((twoFaced.address() as AddressInfo).port)));
  const decoyPort = await listen(decoy, '127.0.0.2');
  decoyBase = `http://127.0.0.2:${decoyPort}`;
  const servers = [plain, secure, wrong, decoy, sni, faceA, faceB];
  return {
    http: `http://127.0.0.1:${httpPort}`,
    https: `https://127.0.0.1:${httpsPort}`,
    mismatch: `https://127.0.0.1:${wrongPort}`,
    twoFaced: `https://127.0.0.1:${twoFacedPort}`,
    cert2Fingerprint: fingerprint(certs.cert2),
    resetTwoFaced: () => void (twoFacedConnections = 0),
    sniPort,
    namedCertFingerprint: fingerprint(certs.namedCert),
    decoy: decoyBase,
    decoyHits,
    hits,
    caFile,
    caPem: certs.caCert,
    certFingerprint: fingerprint(certs.cert),
    hugeBytes,
    async close() {
      for (const r of slow) r.destroy();
      for (const s of servers) s.closeAllConnections?.();
      await Promise.all([...servers, twoFaced].map((s) => new Promise<void>((r) => s.close(() => r()))));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
