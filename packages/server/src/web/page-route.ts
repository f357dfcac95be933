// The page route table's types: what the edge (http/routes/pages.ts) hands a page handler and what
// it gets back. Handlers in web/handlers/ decide; the edge only moves values in and out of HTTP.
import type { Context } from '../context.ts';
import type { Session } from './session.ts';

export type Params = Record<string, unknown>;

/** One page request, as plain values. */
export interface PageRequest {
  ctx: Context;
  query: Params;
  body: Params;
  path: Record<string, string>;
  ip: string;
  /** The User-Agent header (recorded with a terms acceptance, as Stripe's tos_acceptance.user_agent). */
  userAgent: string | null;
  requestId: string;
  /** The request path without its query string. */
  pathname: string;
  /** What the CSRF check needs from the headers (web/page-session.ts formSession). */
  origin: { origin: string | undefined; fetchSite: string | undefined; hostOrigin: string };
  /** The session cookie's value as sent; `setCookie`/`clearCookie` change what the answer carries. */
  cookie: string | undefined;
  setCookie(value: string): void;
  clearCookie(): void;
}

export type PageResult =
  | { kind: 'html'; body: string; status?: number }
  | { kind: 'redirect'; location: string; status?: 302 | 303 }
  | { kind: 'asset'; contentType: string; body: string; cacheControl: string };

export interface PageRoute {
  method: 'GET' | 'POST';
  path: string;
  /** Sign-in and sign-up forms: limited per address on top of the database throttles. */
  rateLimited?: boolean;
  handler: (req: PageRequest) => Promise<PageResult>;
}

/** Thrown when a page needs a signed-in account: the edge answers 303 to this location. */
export class RedirectTo extends Error {
  constructor(readonly location: string) {
    super(`redirect to ${location}`);
    this.name = 'RedirectTo';
  }
}

export const htmlPage = (body: string, status = 200): PageResult => ({ kind: 'html', body, status });
/** 303 after a POST, never 307/308 (docs/security-model.md AZ-13). */
export const seeOther = (location: string): PageResult => ({ kind: 'redirect', location, status: 303 });

export type Flash = { kind: 'success' | 'error'; message: string } | null;

export type { Session };
