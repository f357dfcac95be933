// Redirect URI rules (docs/contract.md Part A "Modes and client ids", Part B §1.3; docs/security-model.md AZ-02, AZ-06).
import type { Mode } from './ids.ts';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Validates a URI a platform registers. Returns an error message, or null if acceptable.
 * Absolute, no fragment, no userinfo, no wildcard, no whitespace; https, or http on a loopback host
 * (usable only with the development client_id).
 */
export function checkRegisteredRedirectUri(raw: string): string | null {
  if (raw.length === 0 || raw.length > 2000) return 'must be between 1 and 2000 characters';
  if (/[\s\u0000-\u001f\u007f\\]/.test(raw)) return 'must not contain whitespace, control characters or backslashes';
  if (raw.includes('*')) return 'must not contain wildcards';
  // It becomes a Location header, which carries ASCII only: a raw 日本 there cannot be sent
  // (docs/oauth-flow.md §1). Byte-exact matching rules out normalising it for them.
  if (!sendableInLocation(raw)) return 'must be ASCII: percent-encode other characters (and use the punycode form of an international host name)';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password || /^[a-z]+:\/\/[^/]*@/i.test(raw)) return 'must not contain user information';
  if (raw.includes('#')) return 'must not contain a fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return 'must use https (http is allowed only for localhost, 127.0.0.1 and [::1])';
}

/** Printable ASCII only: what an HTTP Location header can carry. */
export function sendableInLocation(uri: string): boolean {
  return /^[\x21-\x7e]*$/.test(uri);
}

/** Whether a registered URI may be used in this mode: live requires https. */
export function usableInMode(uri: string, mode: Mode): boolean {
  return mode === 'test' || uri.startsWith('https://');
}

/** Exact, byte-for-byte comparison: no normalisation of case, ports, paths or queries (docs/security-model.md AZ-02). */
export function matchRegisteredRedirectUri(requested: string, registered: readonly string[]): string | null {
  return registered.find((r) => r === requested) ?? null;
}

/** Appends parameters, keeping a registered query string intact (docs/security-model.md AZ-05). */
export function appendQuery(uri: string, params: Record<string, string | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.append(k, v);
  // String concatenation, not URL re-serialisation: the registered part must stay byte-exact.
  return `${uri}${uri.includes('?') ? '&' : '?'}${qs.toString().replace(/\+/g, '%20')}`;
}
