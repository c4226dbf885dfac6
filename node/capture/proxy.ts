/**
 * The capture's own forward proxy, on 127.0.0.1, the only way out for the browser (Chromium is launched
 * with it as its proxy for everything, loopback included, so it resolves and connects to nothing
 * itself). For every request (plain HTTP in absolute form, HTTPS as CONNECT) it:
 *
 *  1. runs the guard (guard.ts) on the URL or origin: scheme, allow list, every DNS answer;
 *  2. for HTTPS, checks the origin's certificate chain from the capture host (tls-check.ts), once per
 *     origin, and tunnels only to an origin that verified;
 *  3. connects to exactly the address the guard returned (no second resolution: DNS rebinding gains
 *     nothing);
 *  4. counts every byte coming back against the capture's byte budget and cuts all connections when
 *     it is spent.
 *
 * What it saw is kept for the package: the DNS answers per host, the address each connection went to,
 * the TLS checks, and the refusals.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { CaptureRefusal, type CaptureGuard, type GuardDecision, type ResolvedAddress } from './guard';
import { checkTls, type TlsCheck } from './tls-check';

export interface ProxyConnection {
  at: string;
  /** CONNECT (https) or the plain-HTTP method. */
  kind: 'tunnel' | 'http';
  host: string;
  port: number;
  address: string;
  url?: string;
}

export interface ProxyRefusal {
  at: string;
  url: string;
  host: string;
  reason: string;
  message: string;
  address?: string;
  range?: string;
}

/** The certificate chain the browser itself received for an origin (CDP Network.getCertificate), as SHA-256 fingerprints of the DER, leaf first. */
export interface BrowserCertificate {
  fingerprints256: string[];
  /** Why the browser's chain could not be read (then nothing was compared). */
  error?: string;
}

export interface ProxyRecord {
  dns: Record<string, { answers: ResolvedAddress[]; at: string }>;
  connections: ProxyConnection[];
  tls: Record<string, TlsCheck>;
  /**
   * By origin, what the browser received over its own tunnel, compared with the node's check (`tls`):
   * a different leaf fails the capture (reason tls). Set by the engine after the page is recorded.
   */
  browserTls?: Record<string, BrowserCertificate>;
  refusals: ProxyRefusal[];
  /** Bytes received from servers (all connections). */
  bytesIn: number;
}

export interface CaptureProxyOptions {
  guard: CaptureGuard;
  maxBytes: number;
  ca?: string[];
  /** Called once when the byte budget is spent (the engine stops the capture). */
  onBudgetSpent?: () => void;
}

export class CaptureProxy {
  readonly record: ProxyRecord = { dns: {}, connections: [], tls: {}, refusals: [], bytesIn: 0 };
  budgetSpent = false;
  /** Set by `stop()`: the capture is over (e.g. past its request limit); nothing more goes out. */
  stopped = false;
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly tlsChecks = new Map<string, Promise<TlsCheck>>();
  private port = 0;

  private constructor(private readonly opts: CaptureProxyOptions) {
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
    this.server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => void this.onConnect(req, socket, head));
    this.server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(opts: CaptureProxyOptions): Promise<CaptureProxy> {
    const p = new CaptureProxy(opts);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(0, '127.0.0.1', () => resolve());
    });
    p.port = (p.server.address() as AddressInfo).port;
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Lets nothing more out: open connections are cut and later requests and tunnels refused. */
  stop(): void {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
  }

  /** The refusal recorded for a host (the engine names a failed navigation's reason with it). */
  refusalFor(host: string): ProxyRefusal | undefined {
    return this.record.refusals.find((r) => r.host === host);
  }

  private count(n: number): void {
    this.record.bytesIn += n;
    if (!this.budgetSpent && this.record.bytesIn > this.opts.maxBytes) {
      this.budgetSpent = true;
      for (const s of this.sockets) s.destroy();
      this.opts.onBudgetSpent?.();
    }
  }

  private async decide(url: string): Promise<GuardDecision | null> {
    try {
      const d = await this.opts.guard.check(url);
      if (d.dns) this.record.dns[d.host] ??= d.dns;
      return d;
    } catch (err) {
      if (!(err instanceof CaptureRefusal)) throw err;
      const r: ProxyRefusal = { at: new Date().toISOString(), url, host: err.details.host ?? safeHost(url), reason: err.reason, message: err.message };
      if (err.details.address) r.address = err.details.address;
      if (err.details.range) r.range = err.details.range;
      this.record.refusals.push(r);
      return null;
    }
  }

  private tlsFor(d: GuardDecision): Promise<TlsCheck> {
    const key = `${d.host}:${d.port}`;
    let p = this.tlsChecks.get(key);
    if (!p) {
      p = checkTls({ host: d.host, port: d.port, address: d.addresses[0]!.address, ...(this.opts.ca ? { ca: this.opts.ca } : {}) }).then((c) => {
        this.record.tls[c.origin] = c;
        return c;
      });
      this.tlsChecks.set(key, p);
    }
    return p;
  }

  private async onConnect(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => undefined);
    const target = req.url ?? '';
    const url = `https://${target}/`;
    if (this.budgetSpent || this.stopped) return void client.destroy();
    const d = await this.decide(url);
    if (!d) return void client.end('HTTP/1.1 403 Forbidden\r\nX-Tianfu-Refused: target\r\n\r\n');
    let check: TlsCheck;
    try {
      check = await this.tlsFor(d);
    } catch (err) {
      this.record.refusals.push({ at: new Date().toISOString(), url, host: d.host, reason: 'connection', message: (err as Error).message });
      return void client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    }
    if (!check.verified) {
      this.record.refusals.push({ at: new Date().toISOString(), url, host: d.host, reason: 'tls', message: `the certificate of ${check.origin} does not verify: ${check.error} ${check.errorMessage ?? ''}`.trim() });
      return void client.end('HTTP/1.1 502 Bad Gateway\r\nX-Tianfu-Refused: tls\r\n\r\n');
    }
    const address = d.addresses[0]!.address;
    const upstream = net.connect({ host: address, port: d.port });
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.once('connect', () => {
      this.record.connections.push({ at: new Date().toISOString(), kind: 'tunnel', host: d.host, port: d.port, address });
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.on('data', (chunk: Buffer) => this.count(chunk.length));
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (err) => {
      this.record.refusals.push({ at: new Date().toISOString(), url, host: d.host, reason: 'connection', message: err.message });
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '';
    if (!/^http:\/\//i.test(url)) {
      res.writeHead(400).end('absolute http:// URLs only');
      return;
    }
    if (this.budgetSpent || this.stopped) return void res.destroy();
    const d = await this.decide(url);
    if (!d) return void res.writeHead(403, { 'x-tianfu-refused': 'target' }).end();
    const address = d.addresses[0]!.address;
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const up = http.request({ host: address, port: d.port, method: req.method, path: d.url.pathname + d.url.search, headers, setHost: false, agent: false }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.rawHeaders as unknown as http.OutgoingHttpHeaders);
      upRes.on('data', (chunk: Buffer) => this.count(chunk.length));
      upRes.pipe(res);
    });
    up.on('socket', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.record.connections.push({ at: new Date().toISOString(), kind: 'http', host: d.host, port: d.port, address, url: d.url.href });
    up.on('error', (err) => {
      this.record.refusals.push({ at: new Date().toISOString(), url, host: d.host, reason: 'connection', message: err.message });
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(up);
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}
