// Which Host headers connectd answers (docs/security.md "Host header"). A page using DNS rebinding
// reaches a connectd on loopback under the attacker's own name; refusing unknown names stops it.
// IP literals cannot be rebound (no DNS is involved), and `localhost` names resolve in the browser
// itself, so those are always accepted beside the public URL's host and any configured names.
import { isIP } from 'node:net';

/** The host name of a Host header value, lower-cased, without port or IPv6 brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') >= 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return (colon >= 0 ? h.slice(0, colon) : h).replace(/\.$/, '');
}

export function allowedHostChecker(publicUrl: string, extra: readonly string[]): (header: string | undefined) => boolean {
  const names = new Set([new URL(publicUrl).hostname.replace(/^\[|\]$/g, ''), ...extra].map((h) => h.toLowerCase().replace(/\.$/, '')));
  return (header) => {
    // No Host at all: not a browser, so not a rebinding page.
    if (header === undefined) return true;
    const name = hostName(header);
    return names.has(name) || isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost');
  };
}
