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

/** `{error, error_description}` under /oauth. */
export class OAuthError extends Error {
  readonly headers: Record<string, string>;
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = error === 'invalid_client' ? 401 : 400,
    headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
    this.headers = headers;
  }
}

export type ApiErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

/** `{error:{type, code?, message, param?}}` under /v1 (docs/contract.md Part B §5.3). */
export class ApiError extends Error {
  readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
    headers: Record<string, string> = {},
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.headers = headers;
  }
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
