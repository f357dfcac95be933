// Where a webhook may be sent (docs/webhooks.md "Where webhooks may be sent"; docs/security-model.md WH-14).
// Every address is one of three classes:
// - forbidden in every mode and setting: unspecified, link-local, cloud metadata, multicast,
//   documentation, benchmarking and other reserved ranges (IANA special-purpose registries);
// - private (loopback, RFC 1918, shared 100.64/10, unique-local fc00::/7): only test-mode
//   endpoints, and only when the operator allows private targets (--webhook-private-targets);
// - public: always.
// IPv6 spellings that embed an IPv4 address (mapped, compatible, SIIT, NAT64, 6to4, Teredo) are
// judged by the IPv4 inside. The send path checks the address actually connected to (see
// http-post.ts), so DNS rebinding between a check and the request is not possible.
import { BlockList, isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type PrivateTargets = 'allow' | 'deny';
export type AddressClass = 'public' | 'private' | 'forbidden';

function list(rules: Array<[string, number]>): BlockList {
  const b = new BlockList();
  for (const [net, prefix] of rules) b.addSubnet(net, prefix, isIP(net) === 6 ? 'ipv6' : 'ipv4');
  return b;
}

const FORBIDDEN = list([
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['169.254.0.0', 16], // link-local, with 169.254.169.254 (AWS, GCP, Azure, … metadata)
  ['100.100.100.200', 32], // Alibaba Cloud metadata
  ['168.63.129.16', 32], // Azure WireServer (host agent)
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (RFC 5737)
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, with 255.255.255.255
  ['::', 128], // unspecified
  ['100::', 64], // discard-only (RFC 6666)
  ['2001:2::', 48], // benchmarking
  ['2001:10::', 28], // ORCHID
  ['2001:20::', 28], // ORCHIDv2
  ['2001:db8::', 32], // documentation (RFC 3849)
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // SRv6 SIDs
  ['fd00:ec2::254', 128], // AWS metadata over IPv6
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
]);

const PRIVATE = list([
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT, VPNs such as Tailscale)
  ['127.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['::1', 128],
  ['fc00::', 7], // unique-local
]);

const RANK: Record<AddressClass, number> = { public: 0, private: 1, forbidden: 2 };
const worst = (classes: AddressClass[]): AddressClass => classes.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'public');

const v4 = (b: number[], at: number[]): string => at.map((i) => b[i] ?? 0).join('.');

function classifyV4(ip: string): AddressClass {
  if (FORBIDDEN.check(ip, 'ipv4')) return 'forbidden';
  return PRIVATE.check(ip, 'ipv4') ? 'private' : 'public';
}

/** The IPv4 addresses an IPv6 address carries, and the least class its prefix itself implies. */
function embedded(b: number[]): { ipv4: string[]; floor: AddressClass } | null {
  const head = (bytes: number[]) => bytes.every((x, i) => b[i] === x);
  const last = v4(b, [12, 13, 14, 15]);
  // ::/96 IPv4-compatible, ::ffff:0:0/96 IPv4-mapped, ::ffff:0:0:0/96 IPv4-translated (SIIT).
  if (head([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) || head([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]) || head([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0])) {
    return { ipv4: [last], floor: 'public' };
  }
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052).
  if (head([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return { ipv4: [last], floor: 'public' };
  // Local-use NAT64 64:ff9b:1::/48 (RFC 8215) is never global. The network's prefix length is
  // unknown, so the IPv4 is read at every RFC 6052 §2.2 position whose zero bits (bits 64-71 and
  // the suffix) fit, and the worst reading counts.
  if (head([0, 0x64, 0xff, 0x9b, 0, 1])) {
    const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
    const readings: Array<[boolean, number[]]> = [
      [zero(8, 9) && zero(11, 16), [6, 7, 9, 10]], // /48
      [zero(8, 9) && zero(12, 16), [7, 9, 10, 11]], // /56
      [zero(8, 9) && zero(13, 16), [9, 10, 11, 12]], // /64
      [zero(8, 9), [12, 13, 14, 15]], // /96
    ];
    return { ipv4: readings.filter(([fits]) => fits).map(([, at]) => v4(b, at)), floor: 'private' };
  }
  // 6to4 2002::/16 (RFC 3056): the IPv4 is bits 16-47.
  if (head([0x20, 0x02])) return { ipv4: [v4(b, [2, 3, 4, 5])], floor: 'public' };
  // Teredo 2001::/32 (RFC 4380): server IPv4 in bits 32-63, client IPv4 inverted in the last 32.
  if (head([0x20, 0x01, 0, 0])) {
    const client = [12, 13, 14, 15].map((i) => (b[i] ?? 0) ^ 0xff).join('.');
    return { ipv4: [v4(b, [4, 5, 6, 7]), client], floor: 'public' };
  }
  return null;
}

function classifyV6(ip: string): AddressClass {
  if (FORBIDDEN.check(ip, 'ipv6')) return 'forbidden';
  if (PRIVATE.check(ip, 'ipv6')) return 'private';
  const inside = embedded(ipaddr.IPv6.parse(ip).toByteArray());
  if (!inside) return 'public';
  return worst([inside.floor, ...inside.ipv4.map(classifyV4)]);
}

/** The class of an IP address (anything that is not one is forbidden). */
export function classifyAddress(ip: string): AddressClass {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  switch (isIP(bare)) {
    case 4:
      return classifyV4(bare);
    case 6:
      return classifyV6(bare);
    default:
      return 'forbidden';
  }
}

/** `localhost` and `*.localhost` are loopback by definition (RFC 6761 §6.3), whatever DNS says. */
export function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/** Null when the endpoint may connect to this IP address; otherwise why not (for registration). */
export function refuseAddress(ip: string, livemode: boolean, privateTargets: PrivateTargets): string | null {
  return refuseClass(classifyAddress(ip), livemode, privateTargets);
}

function refuseClass(c: AddressClass, livemode: boolean, privateTargets: PrivateTargets): string | null {
  if (c === 'forbidden') return 'webhook endpoints may not target link-local, cloud metadata, multicast or reserved addresses';
  if (c === 'private' && livemode) return 'live-mode webhook endpoints may not target loopback or private addresses';
  if (c === 'private' && privateTargets === 'deny') return 'this server does not send webhooks to loopback or private addresses';
  return null;
}

/**
 * Checks a URL's host without resolving it: IP literals (in any spelling the URL parser
 * normalizes, e.g. http://2130706433/) and localhost names. Other names are checked on every
 * send, on the addresses they resolve to.
 */
export function refuseUrl(url: string, livemode: boolean, privateTargets: PrivateTargets): string | null {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return 'invalid URL';
  }
  if (isIP(host)) return refuseAddress(host, livemode, privateTargets);
  if (isLocalhostName(host)) return refuseClass('private', livemode, privateTargets);
  return null;
}
