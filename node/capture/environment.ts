/**
 * The environment record (docs/capture.md): what a notary's checklist makes a person show by hand
 * before a capture, recorded by the machine: browser and version, user agent, viewport, OS and kernel,
 * the capture host's addresses, the proxy settings, whether /etc/hosts maps any host the page touched
 * (and its digest), the DNS servers, the clock against the chain, and the tool's version and code digest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dns from 'node:dns';
import { createHash } from 'node:crypto';

export interface ChainBlock {
  chainId: string;
  number: string;
  hash: string;
  /** The block's time (seconds since the epoch, decimal string, as every chain integer in the protocol). */
  timestamp: string;
}

const sha256Hex = (b: Buffer | string): string => '0x' + createHash('sha256').update(b).digest('hex');

function readOr(p: string): Buffer | null {
  try {
    return fs.readFileSync(p);
  } catch {
    return null;
  }
}

/** The names /etc/hosts maps (lowercased), each to its addresses. */
export function parseHostsFile(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [addr, ...names] = line.split(/\s+/);
    for (const n of names) out.set(n.toLowerCase(), [...(out.get(n.toLowerCase()) ?? []), addr!]);
  }
  return out;
}

let codeDigestCache: { files: number; sha256: string } | null = null;

/** SHA-256 over the capture code itself (node/capture/*.ts, sorted by name, each name NUL its bytes NUL). */
export function captureCodeDigest(): { files: number; sha256: string } {
  if (codeDigestCache) return codeDigestCache;
  const dir = __dirname;
  const files = fs.readdirSync(dir).filter((f) => /\.(ts|js)$/.test(f)).sort();
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f);
    h.update('\0');
    h.update(fs.readFileSync(path.join(dir, f)));
    h.update('\0');
  }
  codeDigestCache = { files: files.length, sha256: '0x' + h.digest('hex') };
  return codeDigestCache;
}

function packageVersion(name: string, from: string): string | null {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [from] }), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

function toolVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export interface EnvironmentInput {
  browser: { name: string; version: string; userAgent: string; executablePath: string };
  viewport: { width: number; height: number };
  hostsTouched: string[];
  clock: { startedAt: string; endedAt: string; chainStart: ChainBlock; chainEnd: ChainBlock | null };
  proxyUrl?: string;
}

export function environmentRecord(input: EnvironmentInput): Record<string, unknown> {
  const osRelease = readOr('/etc/os-release')?.toString('utf8') ?? '';
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? null;
  const hostsBytes = readOr('/etc/hosts');
  const hostsMap = hostsBytes ? parseHostsFile(hostsBytes.toString('utf8')) : new Map<string, string[]>();
  const mapped = input.hostsTouched.filter((h) => hostsMap.has(h.toLowerCase())).map((h) => ({ host: h, addresses: hostsMap.get(h.toLowerCase())! }));
  const resolv = readOr('/etc/resolv.conf');
  const addresses: { interface: string; address: string; family: string; internal: boolean }[] = [];
  for (const [name, list] of Object.entries(os.networkInterfaces())) {
    for (const a of list ?? []) addresses.push({ interface: name, address: a.address, family: a.family, internal: a.internal });
  }
  const proxyVars = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'].filter((k) => process.env[k]);
  const skew = (local: string, block: ChainBlock | null): number | null => (block ? Math.round(Date.parse(local) / 1000 - Number(block.timestamp)) : null);
  return {
    browser: { ...input.browser, profile: 'fresh temporary profile (no cookies, cache, extensions or service workers)' },
    viewport: input.viewport,
    os: { type: os.type(), platform: os.platform(), release: os.release(), kernel: os.version(), arch: os.arch(), distribution: pretty },
    host: { hostname: os.hostname(), addresses },
    proxy: {
      // The browser's only way out is the capture's own address guard on loopback; no other proxy is set.
      browser: 'none: every request went through the capture guard on 127.0.0.1 (docs/capture.md)',
      environmentVariables: proxyVars,
    },
    hostsFile: { path: '/etc/hosts', sha256: hostsBytes ? sha256Hex(hostsBytes) : null, mapsTouchedHosts: mapped },
    dns: { servers: dns.getServers(), resolvConfSha256: resolv ? sha256Hex(resolv) : null, resolver: 'getaddrinfo (node:dns lookup, all answers)' },
    clock: {
      localStart: input.clock.startedAt,
      localEnd: input.clock.endedAt,
      chainStart: input.clock.chainStart,
      chainEnd: input.clock.chainEnd,
      // Local time minus the block's time, in seconds (the block time is the producer's claim, bounded by consensus).
      skewAtStartSeconds: skew(input.clock.startedAt, input.clock.chainStart),
      skewAtEndSeconds: skew(input.clock.endedAt, input.clock.chainEnd),
    },
    tool: {
      name: 'tianfu-ledger capture',
      version: toolVersion(),
      code: captureCodeDigest(),
      node: process.version,
      playwrightCore: packageVersion('playwright-core', __dirname),
      warcio: packageVersion('warcio', __dirname),
    },
  };
}
