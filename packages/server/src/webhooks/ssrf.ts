// Where a webhook may be sent (issue 4, SSRF; security plan WH-14). Live-mode endpoints never reach
// loopback, private, link-local or other special-purpose addresses; test-mode endpoints may use
// loopback and private networks (local development) but never link-local (cloud metadata).
// The check runs on the address actually connected to (see http-post.ts), so DNS rebinding
// between a check and the request is not possible.
import { BlockList, isIP } from 'node:net';

function list(rules: Array<[string, number, 'ipv4' | 'ipv6']>): BlockList {
  const b = new BlockList();
  for (const [net, prefix, type] of rules) b.addSubnet(net, prefix, type);
  return b;
}

// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, in any spelling) are checked against the IPv4 rules.
const LINK_LOCAL = list([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
]);

const NOT_PUBLIC = list([
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['::', 96, 'ipv6'], // IPv4-compatible (deprecated) addresses
  ['::ffff:0:0:0', 96, 'ipv6'], // IPv4-translated
  ['64:ff9b::', 96, 'ipv6'], // NAT64
  ['64:ff9b:1::', 48, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]);

/** Null when the endpoint may connect to this IP address; otherwise why not. */
export function refuseAddress(ip: string, livemode: boolean): string | null {
  const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (livemode) return NOT_PUBLIC.check(ip, type) ? 'live-mode endpoints may not target loopback, private or link-local addresses' : null;
  return LINK_LOCAL.check(ip, type) ? 'endpoints may not target link-local addresses' : null;
}

/** Checks a URL's literal host at registration; names are checked when connecting. */
export function refuseUrl(url: string, livemode: boolean): string | null {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return 'invalid URL';
  }
  if (isIP(host)) return refuseAddress(host, livemode);
  if (livemode && (host === 'localhost' || host.endsWith('.localhost'))) return refuseAddress('127.0.0.1', true);
  return null;
}
