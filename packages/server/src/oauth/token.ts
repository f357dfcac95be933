// POST /oauth/token: authenticate the platform, then dispatch on grant_type (docs/contract.md Part B §2).
import { OAuthError, oauth } from '../domain/errors.ts';
import type { Context } from '../context.ts';
import type { EventOrigin } from '../webhooks/events.ts';
import type { AuthenticatedClient } from './client-auth.ts';
import { authorizationCodeGrant } from './grants/authorization-code.ts';
import { refreshTokenGrant } from './grants/refresh-token.ts';
import { param, type Params } from './params.ts';
import type { TokenResponse } from './token-response.ts';

export async function tokenEndpoint(
  ctx: Context,
  client: AuthenticatedClient,
  params: Params,
  origin: EventOrigin,
): Promise<TokenResponse> {
  const grantType = param(params, 'grant_type');
  if (!grantType) throw oauth.invalidRequest('No grant type specified');
  if (grantType === 'authorization_code') return authorizationCodeGrant(ctx, client, params, origin);
  if (grantType === 'refresh_token') return refreshTokenGrant(ctx, client, params);
  const shown = /^[A-Za-z0-9_:.-]{1,64}$/.test(grantType) ? grantType : '(invalid value)';
  throw new OAuthError('unsupported_grant_type', `Unsupported grant_type: ${shown}`);
}
