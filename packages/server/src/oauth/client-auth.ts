// Client authentication for /oauth/token and /oauth/deauthorize (docs/contract.md Part A "Token endpoint",
// Part B §2.1): Bearer, Basic (username = key), or body client_secret; the header wins.
import { parseAuthorization, type AuthScheme } from '../domain/authorization.ts';
import { credentialFailure, OAuthError } from '../domain/errors.ts';
import { maskKey, patterns, type Mode } from '../domain/ids.ts';
import type { Context } from '../context.ts';
import { findKeyByHash } from '../store/keys.ts';
import { findPlatform, type Platform } from '../store/platforms.ts';
import { param, type Params } from './params.ts';

export interface AuthenticatedClient {
  accountId: string;
  mode: Mode;
  keyHash: string;
  /** How the key was sent, for WWW-Authenticate on later 401s (RFC 6749 §5.2). */
  scheme: 'Bearer' | 'Basic' | null;
  /** Undefined when the key's account has not enabled Connect. */
  platform: Platform | undefined;
}

type Scheme = AuthScheme | null;

export function challenge(scheme: Scheme): Record<string, string> {
  return scheme ? { 'WWW-Authenticate': `${scheme} realm="connectd"` } : {};
}

function fail(scheme: Scheme, description: string): OAuthError {
  return new OAuthError('invalid_client', description, { headers: challenge(scheme) });
}

export async function authenticateClient(
  ctx: Context,
  input: { authorization: string | string[] | undefined; body: Params; query: Params },
): Promise<AuthenticatedClient> {
  // Credentials are never accepted in the URL (RFC 6749 §2.3.1; docs/security-model.md TK-05, BI-59).
  if (input.query.client_secret !== undefined) {
    throw new OAuthError('invalid_request', 'Client credentials must not be sent in the query string');
  }
  if (Array.isArray(input.authorization)) throw new OAuthError('invalid_request', 'Duplicate Authorization header');
  let scheme: Scheme = null;
  let key: string | undefined;
  if (input.authorization !== undefined && input.authorization !== '') {
    const parsed = parseAuthorization(input.authorization);
    scheme = parsed.scheme;
    if (!parsed.key) {
      throw credentialFailure(fail(scheme, 'No valid API key provided. Send your secret API key in the Authorization header using the Bearer authentication method.'));
    }
    key = parsed.key;
  } else {
    key = param(input.body, 'client_secret');
  }
  if (!key) {
    throw fail(null, 'No API key provided. Send your secret API key in the Authorization header using the Bearer authentication method.');
  }
  const unknown = () => credentialFailure(fail(scheme, `No such API key: ${maskKey(key)}`));
  if (!patterns.secretKey.test(key)) throw unknown();
  const keyHash = ctx.hash(key);
  const record = await findKeyByHash(ctx.store.db, keyHash);
  // Only a platform's own secret key authenticates here: not a publishable key, not an access token.
  if (!record || record.kind !== 'secret' || record.revoked_at !== null) throw unknown();
  return {
    accountId: record.account_id,
    mode: record.mode,
    keyHash,
    scheme,
    platform: await findPlatform(ctx.store.db, record.account_id),
  };
}
