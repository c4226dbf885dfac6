/**
 * A real RFC 3161 TSA for tests: OpenSSL's own `openssl ts -reply` (not a TSA written here) behind a
 * small HTTP handler on 127.0.0.1, with a test CA and a TSA certificate (extendedKeyUsage critical
 * timeStamping) made here with openssl. `down()` makes it answer 503 until `up()`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { requireTool } from './system-tools';

const run = promisify(execFile);

/** The OpenSSL CLI, found (or installed) by the test set-up. */
export const OPENSSL = requireTool('openssl');

export interface TestPki {
  dir: string;
  /** PEM of the root CA: the verifier's --tsa-ca. */
  caPemFile: string;
  caPem: string;
  tsaCertFile: string;
  tsaKeyFile: string;
  configFile: string;
}

async function openssl(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run(OPENSSL, args, { cwd, timeout: 20_000 });
  return stdout;
}

/** A root CA and a TSA certificate it issued, in a fresh temp dir. `name` tells two PKIs apart. */
export async function makeTestPki(name = 'Test'): Promise<TestPki> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-tsa-'));
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', `/O=${name} Trust/CN=${name} TSA Root`, '-days', '3650',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tsa.key', '-out', 'tsa.csr', '-subj', `/O=${name} Trust/CN=${name} Time-Stamping Unit`], dir);
  fs.writeFileSync(path.join(dir, 'tsa-ext.cnf'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n');
  await openssl(['x509', '-req', '-in', 'tsa.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', '0x1001', '-out', 'tsa.crt', '-days', '3650', '-extfile', 'tsa-ext.cnf'], dir);
  fs.writeFileSync(path.join(dir, 'tsaserial'), '01\n');
  const configFile = path.join(dir, 'tsa.cnf');
  fs.writeFileSync(
    configFile,
    [
      '[ tsa ]',
      'default_tsa = tsa_config1',
      '[ tsa_config1 ]',
      `dir = ${dir}`,
      'serial = $dir/tsaserial',
      'crypto_device = builtin',
      'signer_cert = $dir/tsa.crt',
      'certs = $dir/ca.crt',
      'signer_key = $dir/tsa.key',
      'signer_digest = sha256',
      'default_policy = 1.3.6.1.4.1.55555.1.1',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1, millisecs:0, microsecs:0',
      'clock_precision_digits = 3',
      'ordering = no',
      'tsa_name = yes',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  const caPemFile = path.join(dir, 'ca.crt');
  return { dir, caPemFile, caPem: fs.readFileSync(caPemFile, 'utf8'), tsaCertFile: path.join(dir, 'tsa.crt'), tsaKeyFile: path.join(dir, 'tsa.key'), configFile };
}

export interface TestTsa {
  url: string;
  pki: TestPki;
  /** Requests answered with a token. */
  granted: number;
  /** Requests refused while down. */
  refused: number;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

/** Runs `openssl ts -reply` for one DER TimeStampReq; returns the DER TimeStampResp. */
export async function opensslReply(pki: TestPki, query: Uint8Array): Promise<Uint8Array> {
  const tmp = fs.mkdtempSync(path.join(pki.dir, 'q-'));
  try {
    fs.writeFileSync(path.join(tmp, 'q.tsq'), query);
    await openssl(['ts', '-reply', '-config', pki.configFile, '-section', 'tsa_config1', '-queryfile', path.join(tmp, 'q.tsq'), '-out', path.join(tmp, 'r.tsr')], pki.dir);
    return new Uint8Array(fs.readFileSync(path.join(tmp, 'r.tsr')));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function startTestTsa(pki?: TestPki): Promise<TestTsa> {
  const p = pki ?? (await makeTestPki());
  let isUp = true;
  // One openssl at a time: its serial file is not safe for concurrent writers.
  let queue: Promise<unknown> = Promise.resolve();
  const state = { granted: 0, refused: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!isUp) {
        state.refused++;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down for the test');
        return;
      }
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(415).end();
        return;
      }
      const job = queue.then(() => opensslReply(p, Buffer.concat(chunks)));
      queue = job.catch(() => undefined);
      job.then(
        (der) => {
          state.granted++;
          res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(Buffer.from(der));
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    pki: p,
    get granted() {
      return state.granted;
    },
    get refused() {
      return state.refused;
    },
    down: () => {
      isUp = false;
    },
    up: () => {
      isUp = true;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
