// The one error-to-wire mapping: OAuth envelope under /oauth/token and /oauth/deauthorize,
// on-page JSON for /oauth/authorize, Stripe's API envelope under /v1, HTML for pages.
// Unknown errors become a generic 500 that leaks nothing (node-oidc-provider err_out.js).
import { ApiError, AuthorizePageError, OAuthError, PageError, ThrottledError } from '../domain/errors.ts';
import { PasswordHashBusyError } from '../domain/secrets.ts';
import { databaseUnavailableReason } from '../store/unavailable.ts';

export type Family = 'oauth' | 'authorize' | 'api' | 'page';

export interface WireError {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** For pages: title and message to render. */
  page?: { title: string; message: string };
  /** True when the error was not one of ours: log it. */
  unexpected: boolean;
  /** Why the database could not be used (a driver code or message), for the log. */
  databaseUnavailable?: string;
}

/** True when `url` is `path` itself, with or without a query string. */
function isPath(url: string, path: string): boolean {
  return url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 63 /* ? */);
}

export function familyOf(url: string): Family {
  if (url.startsWith('/v1/') || url === '/v1') return 'api';
  if (url.startsWith('/oauth/')) {
    if (isPath(url, '/oauth/authorize')) return 'authorize';
    if (isPath(url, '/oauth/token') || isPath(url, '/oauth/deauthorize')) return 'oauth';
  }
  return 'page';
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  validation?: unknown;
}

/** Maps Fastify's own errors (body too large, bad content type, …) to a status and message. */
function frameworkError(err: FastifyLikeError): { status: number; message: string } | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: 'The request body is too large.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: 'Invalid request: send parameters as application/x-www-form-urlencoded.' };
    case 'FST_ERR_CTP_INVALID_TYPE':
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_QSP_NOT_FN':
      return { status: 400, message: 'Invalid request: the request could not be parsed.' };
    case 'CONNECTD_MULTIPART_REFUSED':
      return { status: 400, message: 'Invalid request: multipart bodies may carry plain text fields only, no files.' };
    case 'CONNECTD_MALFORMED_ENCODING':
      return { status: 400, message: 'Invalid request: parameters must be UTF-8 and correctly percent-encoded.' };
    case 'FST_ERR_RATE_LIMITED':
      return { status: 429, message: 'Too many requests. Please slow down and try again shortly.' };
  }
  if (err.code === 'QS_LIMIT' || (err instanceof RangeError && /limit/i.test(String(err.message)))) {
    return { status: 400, message: 'Invalid request: too many parameters.' };
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, message: 'Invalid request.' };
  }
  return null;
}

export function toWire(err: unknown, family: Family, requestId: string): WireError {
  if (err instanceof OAuthError && (family === 'oauth' || family === 'authorize')) {
    return {
      status: err.status,
      headers: { ...NO_STORE, ...err.headers },
      body: { error: err.error, error_description: err.description },
      unexpected: false,
    };
  }
  if (err instanceof AuthorizePageError) {
    return { status: err.status, headers: NO_STORE, body: err.body, unexpected: false };
  }
  if (err instanceof ApiError) {
    return {
      status: err.status,
      headers: err.headers,
      body: {
        error: {
          ...(err.code ? { code: err.code } : {}),
          message: err.message,
          ...(err.param ? { param: err.param } : {}),
          request_log_url: undefined,
          type: err.type,
          ...err.extra,
        },
      },
      page: { title: 'Request refused', message: err.message },
      unexpected: false,
    };
  }
  if (err instanceof PageError) {
    return { status: err.status, headers: NO_STORE, body: { error: { type: 'invalid_request_error', message: err.message } }, page: { title: err.title, message: err.message }, unexpected: false };
  }
  if (err instanceof ThrottledError) {
    // Stripe's rate-limit shape (HTTP 429, code rate_limit); the SDKs must not retry at once.
    const headers = { 'Retry-After': String(Math.max(1, Math.ceil(err.retryAfter))), 'Stripe-Should-Retry': 'false' };
    if (family === 'oauth' || family === 'authorize') {
      return { status: 429, headers: { ...NO_STORE, ...headers }, body: { error: 'invalid_request', error_description: err.message }, unexpected: false };
    }
    return {
      status: 429,
      headers,
      body: { error: { code: 'rate_limit', message: err.message, type: 'invalid_request_error' } },
      page: { title: 'Too many requests', message: err.message },
      unexpected: false,
    };
  }
  if (err instanceof PasswordHashBusyError) {
    const message = 'Too many sign-in attempts are being processed. Please try again in a moment.';
    return { status: 503, headers: { 'Retry-After': '2' }, body: { error: { type: 'api_error', message } }, page: { title: 'Busy', message }, unexpected: false };
  }
  const fw = err && typeof err === 'object' ? frameworkError(err as FastifyLikeError) : null;
  if (fw) {
    if (family === 'oauth') {
      return { status: fw.status, headers: NO_STORE, body: { error: 'invalid_request', error_description: fw.message }, unexpected: false };
    }
    if (family === 'authorize') {
      return { status: fw.status, headers: NO_STORE, body: { error: 'invalid_request', error_description: fw.message }, unexpected: false };
    }
    return {
      status: fw.status,
      headers: {},
      body: { error: { message: fw.message, type: 'invalid_request_error' } },
      page: { title: 'Bad request', message: fw.message },
      unexpected: false,
    };
  }
  const reason = databaseUnavailableReason(err);
  if (reason !== null) {
    // Transient, so 503 with Retry-After rather than a 500 (docs/postgresql.md "When the database
    // goes away"). Under /oauth too the REST api_error shape, never an OAuth code (as the 500 below).
    // Checked after Fastify's errors: a client aborting its own upload may carry ECONNRESET too.
    const message = `The service is temporarily unable to reach or save to its database. Please retry shortly (request ${requestId}).`;
    return {
      status: 503,
      headers: { ...NO_STORE, 'Retry-After': '2' },
      body: { error: { message, type: 'api_error' } },
      page: { title: 'Temporarily unavailable', message: 'The service cannot save or load data right now. Please try again in a few seconds.' },
      unexpected: false,
      databaseUnavailable: reason,
    };
  }
  // Never an OAuth code here: stripe-python crashes on unknown OAuth codes, and a REST-shaped
  // api_error maps to APIError in every SDK (docs/contract.md Part A "Token endpoint").
  const message = `An unexpected error occurred. Quote request ${requestId} when reporting it.`;
  return {
    status: 500,
    headers: NO_STORE,
    body: { error: { message, type: 'api_error' } },
    page: { title: 'Something went wrong', message },
    unexpected: true,
  };
}
