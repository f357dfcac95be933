// The one reader of the Authorization header, for /oauth and /v1 alike (docs/contract.md Part B
// §2.1, §5): `Bearer <key>`, or `Basic base64(<key>:<anything>)` with the key as the username, as
// Stripe's SDKs and curl's `-u sk_…:` send it. The scheme is case-insensitive (RFC 7235 §2.1); a
// Basic value without a colon is not a user-pass pair (RFC 7617 §2) and carries no key.

export type AuthScheme = 'Bearer' | 'Basic';

export interface AuthorizationHeader {
  /** null when the scheme is neither Bearer nor Basic. */
  scheme: AuthScheme | null;
  /** null when the header carries no usable key. */
  key: string | null;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parseAuthorization(header: string): AuthorizationHeader {
  // A bare scheme ("Basic", "Bearer") is that scheme with no credentials.
  const m = /^(\S+)(?:\s+(.*))?$/.exec(header.trim());
  const scheme = m?.[1]?.toLowerCase();
  const value = m?.[2]?.trim() ?? '';
  if (scheme === 'bearer') return { scheme: 'Bearer', key: value || null };
  if (scheme === 'basic') {
    const decoded = BASE64.test(value) ? Buffer.from(value, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    return { scheme: 'Basic', key: (colon >= 0 ? decoded.slice(0, colon) : '') || null };
  }
  return { scheme: null, key: null };
}
