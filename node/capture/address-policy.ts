/**
 * Which network addresses a capture may reach (the SSRF rule of docs/capture.md). A server that fetches
 * URLs for clients must not be turned against the machines only it can reach: its own loopback, the
 * private networks behind it, link-local (where the cloud metadata services live: 169.254.169.254,
 * fd00:ec2::254), carrier-grade NAT (100.64.0.0/10, also Alibaba Cloud's metadata 100.100.100.200),
 * multicast, and the unspecified, broadcast and reserved ranges. Only global unicast is allowed;
 * anything else needs the operator's explicit exception (TIANFU_CAPTURE_ALLOW_HOSTS).
 *
 * IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d) are
 * judged by the IPv4 address they carry; the translation and tunnel prefixes (NAT64 64:ff9b::/96,
 * 6to4 2002::/16, Teredo 2001::/32) are refused outright, since where they lead depends on gateways
 * this rule cannot see.
 */
import ipaddr from 'ipaddr.js';

/** The range an address is in, as ipaddr.js names them ('unicast' is the only one allowed). */
export type AddressRange = string;

export interface AddressClass {
  /** The address as given, normalised (IPv6 in its compressed hex form, e.g. ::ffff:7f00:1). */
  address: string;
  family: 4 | 6;
  /** loopback, private, linkLocal, carrierGradeNat, multicast, uniqueLocal, unspecified, broadcast, reserved, … or unicast. */
  range: AddressRange;
  /** For an IPv6 form that carries an IPv4 address: that address (it decided the range). */
  embeddedIPv4?: string;
  /** True unless the address is global unicast. */
  forbidden: boolean;
}

export class NotAnAddressError extends Error {
  override readonly name = 'NotAnAddressError';
}

/** Strips the brackets of a URL's IPv6 host ([::1] → ::1) and an IPv6 zone (fe80::1%eth0 → fe80::1). */
export function bareAddress(host: string): string {
  let h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const zone = h.indexOf('%');
  if (zone >= 0 && h.includes(':')) h = h.slice(0, zone);
  return h;
}

/** Whether `host` (a URL host or a bare address) is an IP literal. */
export function isIpLiteral(host: string): boolean {
  const h = bareAddress(host);
  return ipaddr.IPv4.isValidFourPartDecimal(h) || (h.includes(':') && ipaddr.IPv6.isValid(h));
}

/** Canonical text of an IP literal (for comparing allow-list entries with URL hosts and resolver answers). */
export function canonicalAddress(host: string): string {
  const h = bareAddress(host);
  if (ipaddr.IPv4.isValidFourPartDecimal(h)) return ipaddr.IPv4.parse(h).toString();
  if (h.includes(':') && ipaddr.IPv6.isValid(h)) return ipaddr.IPv6.parse(h).toString();
  throw new NotAnAddressError(`${JSON.stringify(host)} is not an IP address`);
}

const V6_TRANSLATION = new Set(['rfc6052', '6to4', 'teredo', 'rfc6145']);

/** Classifies one IP address (IPv4 dotted quad or IPv6, with or without brackets). */
export function classifyAddress(input: string): AddressClass {
  const h = bareAddress(input);
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(h)) parsed = ipaddr.IPv4.parse(h);
  else if (h.includes(':') && ipaddr.IPv6.isValid(h)) parsed = ipaddr.IPv6.parse(h);
  else throw new NotAnAddressError(`${JSON.stringify(input)} is not an IP address`);

  if (parsed.kind() === 'ipv4') {
    const range = parsed.range();
    return { address: parsed.toString(), family: 4, range, forbidden: range !== 'unicast' };
  }
  const v6 = parsed as ipaddr.IPv6;
  const range = v6.range();
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, which ipaddr.js reports as mapped too):
  // judged by the IPv4 address inside.
  const parts = v6.parts;
  const carriesV4 = range === 'ipv4Mapped' || (parts.slice(0, 6).every((p) => p === 0) && (parts[6] !== 0 || parts[7]! > 1));
  if (carriesV4) {
    const v4 = ipaddr.IPv4.parse(`${parts[6]! >> 8}.${parts[6]! & 0xff}.${parts[7]! >> 8}.${parts[7]! & 0xff}`);
    const inner = v4.range();
    return { address: v6.toString(), family: 6, range: inner, embeddedIPv4: v4.toString(), forbidden: inner !== 'unicast' };
  }
  if (V6_TRANSLATION.has(range)) return { address: v6.toString(), family: 6, range, forbidden: true };
  return { address: v6.toString(), family: 6, range, forbidden: range !== 'unicast' };
}
