// Typed errors: one class per OAuth error code Stripe's token and deauthorize endpoints answer
// (RFC 6749 §5.2; `unsupported_response_type` is from §4.1.2.1), one for state failures, one for
// webhook signatures.

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_client'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'unsupported_response_type';

export class ConnectOAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode | string,
    readonly description: string,
    readonly status: number,
  ) {
    super(`${code}: ${description}`);
    this.name = 'ConnectOAuthError';
  }
}

export class InvalidRequestError extends ConnectOAuthError {}
export class InvalidGrantError extends ConnectOAuthError {}
export class InvalidClientError extends ConnectOAuthError {}
export class InvalidScopeError extends ConnectOAuthError {}
export class UnsupportedGrantTypeError extends ConnectOAuthError {}
export class UnsupportedResponseTypeError extends ConnectOAuthError {}

const BY_CODE: Record<OAuthErrorCode, typeof ConnectOAuthError> = {
  invalid_request: InvalidRequestError,
  invalid_grant: InvalidGrantError,
  invalid_client: InvalidClientError,
  invalid_scope: InvalidScopeError,
  unsupported_grant_type: UnsupportedGrantTypeError,
  unsupported_response_type: UnsupportedResponseTypeError,
};

/** The typed error for an OAuth error body; an unknown code keeps the base class. */
export function oauthError(code: string, description: string, status: number): ConnectOAuthError {
  const Cls = (BY_CODE as Record<string, typeof ConnectOAuthError>)[code] ?? ConnectOAuthError;
  const err = new Cls(code, description, status);
  err.name = Cls.name;
  return err;
}

export type StateFailure = 'missing' | 'unknown' | 'mismatch' | 'expired';

/** The callback's state does not prove it answers an authorization this session started. */
export class StateError extends Error {
  constructor(
    readonly reason: StateFailure,
    message: string,
  ) {
    super(message);
    this.name = 'StateError';
  }
}

export type SignatureFailure = 'no_header' | 'malformed' | 'no_match' | 'too_old';

export class WebhookSignatureError extends Error {
  constructor(
    readonly reason: SignatureFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookSignatureError';
  }
}
