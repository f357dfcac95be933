// grant_type=refresh_token (docs/contract.md Part A "Refresh tokens", Part B §2.3): not rotated; scope may
// narrow, never widen; the previous access token of the same scope and mode is revoked.
import { credentialFailure, oauth } from '../../domain/errors.ts';
import { patterns } from '../../domain/ids.ts';
import { mintAccessToken } from '../access-token.ts';
import { parseScope, scopeWithin, type Scope } from '../../domain/scopes.ts';
import type { Context } from '../../context.ts';
import { findRefreshToken, lockActiveConnection } from '../../store/connections.ts';
import { recordResponse } from '../../store/idempotency.ts';
import { publishableKey, revokeAccessTokens } from '../../store/keys.ts';
import type { AuthenticatedClient } from '../client-auth.ts';
import { echo, param, type Params } from '../params.ts';
import { tokenResponse, type TokenResponse } from '../token-response.ts';

export async function refreshTokenGrant(ctx: Context, client: AuthenticatedClient, params: Params): Promise<TokenResponse> {
  const refreshToken = param(params, 'refresh_token');
  if (!refreshToken) throw oauth.invalidRequest('No refresh_token provided');
  const requestedScope = param(params, 'scope');
  let scope: Scope | null = null;
  if (requestedScope !== undefined) {
    scope = parseScope(requestedScope);
    if (!scope) throw oauth.invalidScope();
  }

  const hash = ctx.hash(refreshToken);
  const found = patterns.refreshToken.test(refreshToken) ? await findRefreshToken(ctx.store.db, hash) : undefined;
  if (!found || found.revoked_at !== null) {
    const shown = echo(refreshToken, patterns.refreshToken);
    throw credentialFailure(oauth.invalidGrant(shown ? `Refresh token does not exist: ${shown}` : 'Refresh token does not exist'));
  }
  if (!client.platform || found.platform_id !== client.platform.account_id) {
    throw oauth.invalidGrant('Refresh token provided does not belong to you');
  }
  if (found.livemode === 0 && client.mode === 'live') {
    throw oauth.invalidGrant('Passed in livemode API key but refresh token only supports returning test keys');
  }
  const granted = found.scope as Scope;
  if (scope && !scopeWithin(scope, granted)) throw oauth.invalidScope();
  const effective = scope ?? granted;

  return ctx.store.transaction(async (trx) => {
    // Lock the connection first: concurrent refreshes then revoke each other's tokens in turn,
    // leaving one live access token per scope and mode (PostgreSQL runs READ COMMITTED).
    const connection = await lockActiveConnection(trx, found.connection_id);
    const current = await findRefreshToken(trx, hash);
    if (!connection || !current || current.revoked_at !== null) {
      throw oauth.invalidGrant(`Refresh token does not exist: ${refreshToken}`);
    }
    if (!scopeWithin(effective, connection.scope as Scope)) throw oauth.invalidScope();
    const now = ctx.clock.now();
    await revokeAccessTokens(trx, connection.id, now, { scope: effective, mode: client.mode });
    const accessToken = await mintAccessToken(trx, ctx, { accountId: found.account_id, mode: client.mode, connectionId: connection.id, scope: effective });
    const pk = await publishableKey(trx, found.account_id, client.mode);
    const body = tokenResponse({
      accessToken,
      mode: client.mode,
      refreshToken,
      publishableKey: pk ?? '',
      accountId: found.account_id,
      scope: effective,
    });
    await recordResponse(trx, { body });
    return body;
  });
}
