/**
 * The pre-fetch guard: every URL a capture would fetch (the page, each redirect, each subresource) is
 * checked here first, after DNS resolution, and the fetcher then connects to exactly the addresses
 * this check returned (never resolving the name again), so a name that answers a public address to
 * the check and a private one to the connection (DNS rebinding) gains nothing.
 *
 *  - scheme: http and https only;
 *  - the host as written in the URL is on the operator's allow list (TIANFU_CAPTURE_ALLOW_HOSTS:
 *    names or IP literals, compared exactly; `127.0.0.1` there does not open `localhost`): allowed,
 *    whatever it resolves to;
 *  - otherwise every address the name resolves to must be global unicast (address-policy.ts): one
 *    forbidden answer refuses the URL.
 */
import dns from 'node:dns';
import { bareAddress, canonicalAddress, classifyAddress, isIpLiteral, type AddressClass } from './address-policy';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address (A and AAAA) the capture host would use; injectable for tests. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The OS resolver (getaddrinfo: /etc/hosts, then DNS), every answer, in the resolver's order. */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export type RefusalReason = 'scheme' | 'credentials' | 'forbidden-address' | 'dns';

/**
 * A URL the capture may not (or cannot) fetch. `forbidden` is the SSRF rule's refusal (the API's 422
 * CAPTURE_TARGET_FORBIDDEN when the page's own URL is refused at submission); reason `dns` is a name
 * that did not resolve (a failed capture, not a refusal).
 */
export class CaptureRefusal extends Error {
  override readonly name = 'CaptureRefusal';
  constructor(
    readonly reason: RefusalReason,
    message: string,
    readonly details: { url: string; host?: string; address?: string; range?: string } = { url: '' },
  ) {
    super(message);
  }

  get forbidden(): boolean {
    return this.reason !== 'dns';
  }
}

export interface GuardDecision {
  url: URL;
  /** The host as the URL has it (brackets stripped for IPv6). */
  host: string;
  port: number;
  /** The addresses the fetcher must connect to (one of them), each classified. */
  addresses: AddressClass[];
  /** Why it may be fetched. */
  allowedBy: 'public' | 'allow-list';
  /** The resolver's answers for a name (absent for an IP literal). */
  dns?: { answers: ResolvedAddress[]; at: string };
}

export interface GuardOptions {
  /** TIANFU_CAPTURE_ALLOW_HOSTS, already split. */
  allowHosts?: readonly string[];
  resolver?: Resolver;
}

export class CaptureGuard {
  private readonly allow: Set<string>;
  private readonly resolver: Resolver;

  constructor(opts: GuardOptions = {}) {
    this.allow = new Set((opts.allowHosts ?? []).map(normaliseHost));
    this.resolver = opts.resolver ?? systemResolver;
  }

  /** Whether `host` (as written in a URL) is on the allow list. */
  allows(host: string): boolean {
    return this.allow.has(normaliseHost(host));
  }

  /** Checks a URL; resolves to where it may be fetched from, or throws a CaptureRefusal. Nothing is fetched. */
  async check(raw: string | URL): Promise<GuardDecision> {
    let url: URL;
    try {
      url = typeof raw === 'string' ? new URL(raw) : raw;
    } catch {
      throw new CaptureRefusal('scheme', `${JSON.stringify(String(raw))} is not an absolute URL`, { url: String(raw) });
    }
    const href = url.href;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CaptureRefusal('scheme', `only http and https URLs are captured, not ${url.protocol}`, { url: href });
    }
    if (url.username !== '' || url.password !== '') {
      throw new CaptureRefusal('credentials', 'a URL with credentials (user:password@) is not captured: they would be sent to the site and kept in the archive', { url: href });
    }
    const host = bareAddress(url.hostname);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const allowed = this.allows(url.hostname);
    if (isIpLiteral(host)) {
      const cls = classifyAddress(host);
      if (cls.forbidden && !allowed) throw forbidden(href, host, cls);
      return { url, host, port, addresses: [cls], allowedBy: cls.forbidden ? 'allow-list' : 'public' };
    }
    let answers: ResolvedAddress[];
    try {
      answers = await this.resolver(host);
    } catch (err) {
      throw new CaptureRefusal('dns', `${host} could not be resolved: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { url: href, host });
    }
    if (answers.length === 0) throw new CaptureRefusal('dns', `${host} resolved to no address`, { url: href, host });
    const at = new Date().toISOString();
    const addresses = answers.map((a) => classifyAddress(a.address));
    if (!allowed) {
      const bad = addresses.find((a) => a.forbidden);
      if (bad) throw forbidden(href, host, bad);
    }
    return { url, host, port, addresses, allowedBy: allowed ? 'allow-list' : 'public', dns: { answers, at } };
  }
}

function forbidden(url: string, host: string, cls: AddressClass): CaptureRefusal {
  const what = cls.embeddedIPv4 ? `${cls.address} (carrying ${cls.embeddedIPv4})` : cls.address;
  const via = host === cls.address || canonicalOrSame(host) === cls.address ? '' : ` (${host} resolves to it)`;
  return new CaptureRefusal('forbidden-address', `${what}${via} is a ${cls.range} address: captures reach only global unicast addresses unless TIANFU_CAPTURE_ALLOW_HOSTS names the host`, {
    url,
    host,
    address: cls.address,
    range: cls.range,
  });
}

function canonicalOrSame(host: string): string {
  try {
    return canonicalAddress(host);
  } catch {
    return host;
  }
}

/** Allow-list entries and URL hosts compared in one form: lowercase names, canonical IP literals. */
export function normaliseHost(host: string): string {
  const h = host.trim().toLowerCase();
  return isIpLiteral(h) ? canonicalAddress(h) : bareAddress(h).replace(/\.$/, '');
}
