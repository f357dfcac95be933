// Where a webhook may be sent (issue 4, SSRF): loopback is fine for test-mode endpoints (local
// development); live-mode endpoints never reach loopback, private or link-local addresses.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

function privateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  const v6 = ip.toLowerCase();
  if (v6.startsWith('::ffff:')) return privateAddress(v6.slice(7));
  return v6 === '::1' || v6 === '::' || v6.startsWith('fe80:') || v6.startsWith('fc') || v6.startsWith('fd');
}

/** Null when the URL may be called; otherwise the reason it may not. */
export async function refuseTarget(url: string, livemode: boolean): Promise<string | null> {
  if (!livemode) return null;
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return 'invalid URL';
  }
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (addresses.length === 0) return 'the host name does not resolve';
  return addresses.some(privateAddress) ? 'live-mode endpoints may not target loopback, private or link-local addresses' : null;
}
