// One error system (docs/architecture.md "Habits"): handlers throw these, and http/ serializes them into
// one of two wire envelopes. Anything else becomes a generic 500 that leaks nothing.

/** The six OAuth error codes Stripe's SDKs know (docs/contract.md Part A "Token endpoint"). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_client'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'unsupported_response_type';

export interface OAuthErrorOptions {
  /** Default 401 for invalid_client, else 400. */
  status?: number;
  headers?: Record<string, string>;
}

/** `{error, error_description}` under /oauth. */
export class OAuthError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    options: OAuthErrorOptions = {},
  ) {
    super(description);
    this.name = 'OAuthError';
    this.status = options.status ?? (error === 'invalid_client' ? 401 : 400);
    this.headers = options.headers ?? {};
  }
}

export type ApiErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export interface ApiErrorOptions {
  /** Default `invalid_request_error`. */
  type?: ApiErrorType;
  code?: string;
  param?: string;
  headers?: Record<string, string>;
  /** More fields of the error object, e.g. `decline_code` and `charge` on a card error. */
  extra?: Record<string, string>;
}

/** `{error:{type, code?, message, param?}}` under /v1 (docs/contract.md Part B §5.3). */
export class ApiError extends Error {
  readonly type: ApiErrorType;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, string>;
  constructor(
    readonly status: number,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.type = options.type ?? 'invalid_request_error';
    this.code = options.code;
    this.param = options.param;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }
}

/** Stripe's 404 for an id that names nothing (docs/contract.md Part B §5.3): the id shown printable and short. */
export function noSuch(kind: string, id: string, param = 'id'): ApiError {
  return new ApiError(404, `No such ${kind}: '${id.replace(/[^\x20-\x7e]/g, '').slice(0, 100)}'`, { code: 'resource_missing', param });
}

/**
 * An authorize error shown in the browser as a JSON document, never redirected
 * (docs/contract.md Part A "Authorize errors"). `body` is the exact document.
 */
export class AuthorizePageError extends Error {
  constructor(
    readonly body: Record<string, unknown>,
    readonly status = 400,
  ) {
    super(typeof body.error === 'string' ? body.error : 'authorize_error');
    this.name = 'AuthorizePageError';
  }
}

/** A human-facing error on a server-rendered page (login, consent, dashboard). */
export class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
    this.name = 'PageError';
  }
}

const CREDENTIAL_FAILURES = new WeakSet<Error>();

/**
 * Marks an error that answers a wrong secret key, access token, code or refresh token: the edge
 * counts these per address and throttles (docs/security.md "Throttling").
 */
export function credentialFailure<E extends Error>(err: E): E {
  CREDENTIAL_FAILURES.add(err);
  return err;
}

export function isCredentialFailure(err: unknown): boolean {
  return err instanceof Error && CREDENTIAL_FAILURES.has(err);
}

/** Too many failures or rows from one address: 429 with Retry-After, in the family's envelope. */
export class ThrottledError extends Error {
  constructor(
    readonly retryAfter: number,
    message: string,
  ) {
    super(message);
    this.name = 'ThrottledError';
  }
}

export const oauth = {
  invalidRequest: (d: string) => new OAuthError('invalid_request', d),
  invalidGrant: (d: string) => new OAuthError('invalid_grant', d),
  invalidScope: () => new OAuthError('invalid_scope', 'Invalid scope parameter provided.'),
};
