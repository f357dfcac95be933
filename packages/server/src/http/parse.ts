// Stripe's bracket notation (docs/contract.md Part B §5.7): qs for form bodies and query strings.
import qs from 'qs';

const BODY_OPTIONS: qs.IParseOptions = {
  depth: 5,
  arrayLimit: 100,
  parameterLimit: 1000,
  // Too many pairs is an error, not a silent truncation (docs/security-model.md BI-41).
  throwOnLimitExceeded: true,
  allowPrototypes: false,
  allowDots: false,
  charset: 'utf-8',
};

/**
 * True when every %-escape is well formed and the escapes decode as UTF-8. qs keeps a value it
 * cannot decode as the raw text, which would let `%zz` or `%E0%A4%A` through as if meant
 * (docs/security-model.md BI-31, BI-40).
 */
export function wellFormedUrlEncoding(text: string): boolean {
  // Only %-escapes can be malformed ('+' and every other character decode as themselves).
  if (!text.includes('%')) return true;
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/** Thrown for bodies and query strings that are not UTF-8 percent-encoding; answered 400. */
export function malformedEncoding(): Error {
  return Object.assign(new Error('Malformed percent-encoding or invalid UTF-8'), { code: 'CONNECTD_MALFORMED_ENCODING', statusCode: 400 });
}

export function parseForm(body: string): Record<string, unknown> {
  // U+FFFD in the decoded body text: the raw bytes were not UTF-8 (docs/security-model.md BI-40).
  if (body.includes('\uFFFD') || !wellFormedUrlEncoding(body)) throw malformedEncoding();
  return qs.parse(body, BODY_OPTIONS) as Record<string, unknown>;
}

export function parseQuery(query: string): Record<string, unknown> {
  return qs.parse(query, { ...BODY_OPTIONS, throwOnLimitExceeded: false }) as Record<string, unknown>;
}

/** The path without its query string (logs never carry query strings: docs/security-model.md SE-04). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * The path as logged: an Account Link's token is a bearer secret for the onboarding it opens
 * (docs/contract.md Part A "Secrets at rest"), so it never reaches the log.
 */
export function loggedPathOf(url: string): string {
  return pathOf(url).replace(/^\/setup\/s\/([^/]*)\/[^/]+/, '/setup/s/$1/[redacted]');
}

export function asParams(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * The first parameter whose name or value holds a NUL character (PostgreSQL text cannot hold one):
 * refused on /v1 and on page forms alike (docs/security.md "Input").
 */
export function nulParam(value: unknown, name: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? name : null;
  if (!value || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const inner = k.includes('\u0000') ? (name ? `${name}[${k}]` : k) : nulParam(v, name ? `${name}[${k}]` : k);
    if (inner !== null) return inner.replace(/[^\x20-\x7e]/g, '').slice(0, 200);
  }
  return null;
}
