// /v1 authentication (docs/contract.md Part A "Acting on behalf", Part B §5): secret key or OAuth access
// token by Bearer or Basic, one indexed lookup by hash, then the Stripe-Account header.
import { parseAuthorization } from '../domain/authorization.ts';
import { ApiError, credentialFailure } from '../domain/errors.ts';
import { maskKey, patterns, type Mode } from '../domain/ids.ts';
import type { Scope } from '../domain/scopes.ts';
import type { Context } from '../context.ts';
import { connectionCovers } from '../store/connections.ts';
import { findKeyForRequest } from '../store/keys.ts';

export interface ApiCaller {
  /** The account the request acts as. */
  accountId: string;
  mode: Mode;
  /** The authenticating key's own account (the platform when acting on behalf). */
  keyAccountId: string;
  keyHash: string;
  /** OAuth scope limiting this request; null when an account uses its own key. */
  scope: Scope | null;
  viaAccessToken: boolean;
  stripeAccount: string | null;
}

const NO_KEY =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').";

function unauthorized(message: string): ApiError {
  // A key was presented and is wrong (NO_KEY aside): counted by the throttle.
  const err = new ApiError(401, message, { headers: { 'WWW-Authenticate': 'Bearer realm="connectd"' } });
  return message === NO_KEY ? err : credentialFailure(err);
}

export function noAccess(key: string, account: string): ApiError {
  const shown = patterns.account.test(account) ? account : '(invalid)';
  return new ApiError(403, `The provided key '${maskKey(key)}' does not have access to account '${shown}' (or that account does not exist). Application access may have been revoked.`, { code: 'account_invalid' });
}

export async function authenticateApi(
  ctx: Context,
  headers: { authorization: string | string[] | undefined; stripeAccount: string | string[] | undefined; impliedAccount?: string | undefined },
): Promise<ApiCaller> {
  if (Array.isArray(headers.authorization)) throw new ApiError(400, 'Duplicate Authorization header.');
  if (!headers.authorization) throw unauthorized(NO_KEY);
  const { key } = parseAuthorization(headers.authorization);
  if (!key) throw unauthorized('Invalid API Key provided: ****');
  if (/^pk_(test|live)_/.test(key)) {
    throw unauthorized('This API call cannot be made with a publishable API key. Please use a secret API key.');
  }
  if (!patterns.secretKey.test(key)) throw unauthorized(`Invalid API Key provided: ${maskKey(key)}`);
  // Stripe-Account: one well-formed value; duplicates are 400, never "first one wins" (docs/security-model.md AP-07).
  const sa = headers.stripeAccount;
  if (Array.isArray(sa) || (sa !== undefined && !patterns.account.test(sa))) {
    throw new ApiError(400, 'The Stripe-Account header must be a single connected account id (acct_…).', { param: 'Stripe-Account' });
  }
  // A URL that names an account (GET /v1/accounts/acct_…) implies the header (docs/contract.md Part B §5.1).
  const implied = headers.impliedAccount;
  if (implied !== undefined && sa !== undefined && sa !== implied) {
    throw new ApiError(400, 'The Stripe-Account header names another account than the URL.', { param: 'Stripe-Account' });
  }
  const stripeAccount = sa ?? implied ?? null;

  const keyHash = ctx.hash(key);
  const record = await findKeyForRequest(ctx.store.db, keyHash, stripeAccount);
  const revoked = !record || record.revoked_at !== null || (record.kind === 'access_token' && record.connection_revoked_at !== null);
  if (revoked || record.kind === 'publishable') throw unauthorized(`Invalid API Key provided: ${maskKey(key)}`);

  if (record.kind === 'access_token') {
    // An access token acts only on its own account, within its scope (docs/contract.md Part A "Acting on behalf"; docs/security-model.md AP-04).
    if (stripeAccount && stripeAccount !== record.account_id) throw noAccess(key, stripeAccount);
    return {
      accountId: record.account_id,
      mode: record.mode,
      keyAccountId: record.account_id,
      keyHash,
      scope: record.scope as Scope,
      viaAccessToken: true,
      stripeAccount,
    };
  }
  if (!stripeAccount || stripeAccount === record.account_id) {
    return { accountId: record.account_id, mode: record.mode, keyAccountId: record.account_id, keyHash, scope: null, viaAccessToken: false, stripeAccount };
  }
  if (record.on_behalf_scope === null || record.on_behalf_livemode === null || !connectionCovers({ livemode: record.on_behalf_livemode }, record.mode)) {
    throw noAccess(key, stripeAccount);
  }
  return {
    accountId: stripeAccount,
    mode: record.mode,
    keyAccountId: record.account_id,
    keyHash,
    scope: record.on_behalf_scope as Scope,
    viaAccessToken: false,
    stripeAccount,
  };
}
