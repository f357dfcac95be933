// Response headers fixed per family, computed once at start (issue 8: no per-request header work
// beyond Request-Id). Pages get the browser protections; /v1, /oauth/token, /oauth/deauthorize and
// the JSON probes get a small set, since a JSON answer is never rendered as a document.
import type { Family } from './wire-errors.ts';

export type HeaderSet = Readonly<Record<string, string>>;

/**
 * What @fastify/helmet sent with our options, as fixed values: the CSP (no inline script or style,
 * never framed), and helmet's defaults around it.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  // No form-action: consent answers with a 303 to the platform's origin, and Chrome applies
  // form-action to redirects after a form POST.
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join(';');

const HSTS = { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' };

export interface HeaderSets {
  /** Pages and /oauth/authorize (a page, even when it answers with JSON). */
  page: HeaderSet;
  /** /v1 and the JSON probes (/healthz, RFC 8414 metadata). */
  api: HeaderSet;
  /** /oauth/token and /oauth/deauthorize: never cacheable (RFC 6749 §5.1; docs/security-model.md TK-08). */
  oauth: HeaderSet;
  /** /oauth/authorize and the consent pages: pages, and never cacheable either. */
  oauthPage: HeaderSet;
}

export function headerSets(https: boolean): HeaderSets {
  const transport = https ? HSTS : {};
  const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  const page = {
    'Content-Security-Policy': CSP,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Origin-Agent-Cluster': '?1',
    'Referrer-Policy': 'no-referrer',
    ...transport,
    'X-Content-Type-Options': 'nosniff',
    'X-DNS-Prefetch-Control': 'off',
    'X-Download-Options': 'noopen',
    'X-Frame-Options': 'DENY',
    'X-Permitted-Cross-Domain-Policies': 'none',
    'X-XSS-Protection': '0',
  };
  const api = { ...transport, 'X-Content-Type-Options': 'nosniff' };
  return {
    page: Object.freeze(page),
    api: Object.freeze(api),
    oauth: Object.freeze({ ...api, ...noStore }),
    oauthPage: Object.freeze({ ...page, ...noStore }),
  };
}

/** JSON endpoints outside /v1 that are not pages: they take the API set. */
const JSON_PROBES = new Set(['/healthz', '/.well-known/oauth-authorization-server']);

/**
 * The fixed set for a request. Everything under /oauth/ is never cacheable, the consent pages
 * and /oauth/authorize included (an authorization code or consent must not sit in a cache).
 */
export function headerSetFor(sets: HeaderSets, family: Family, url: string): HeaderSet {
  if (family === 'api') return sets.api;
  if (family === 'oauth') return sets.oauth;
  if (url.startsWith('/oauth/')) return sets.oauthPage;
  const q = url.indexOf('?');
  return JSON_PROBES.has(q < 0 ? url : url.slice(0, q)) ? sets.api : sets.page;
}
