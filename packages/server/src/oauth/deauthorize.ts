// POST /oauth/deauthorize (docs/contract.md Part A "Deauthorize", Part B §3).
import { OAuthError, oauth } from '../domain/errors.ts';
import { patterns } from '../domain/ids.ts';
import type { Context } from '../context.ts';
import { findActiveConnection } from '../store/connections.ts';
import { recordResponse } from '../store/idempotency.ts';
import type { EventOrigin } from '../webhooks/events.ts';
import { challenge, type AuthenticatedClient } from './client-auth.ts';
import { echo, param, type Params } from './params.ts';
import { revokeConnection } from './revoke-connection.ts';

export async function deauthorizeEndpoint(
  ctx: Context,
  client: AuthenticatedClient,
  params: Params,
  origin: EventOrigin,
): Promise<{ stripe_user_id: string }> {
  const clientId = param(params, 'client_id');
  const accountId = param(params, 'stripe_user_id');
  if (!clientId) throw oauth.invalidRequest('No client_id provided');
  if (!accountId) throw oauth.invalidRequest('No stripe_user_id provided');
  const shown = echo(accountId, patterns.account) ?? '(invalid account id)';
  const notConnected = () =>
    new OAuthError(
      'invalid_client',
      `This application is not connected to stripe account ${shown}, or that account does not exist.`,
      { headers: challenge(client.scheme) },
    );

  const platform = client.platform;
  // The client_id must be the key's own, and of the key's mode (docs/contract.md Part B §3.2).
  const ownClientId = platform && (client.mode === 'live' ? platform.client_id_live : platform.client_id_test);
  if (!platform || clientId !== ownClientId) throw notConnected();

  const revoked = await ctx.store.transaction(async (trx) => {
    const connection = await findActiveConnection(trx, platform.account_id, accountId);
    // The key's mode must be the mode of the client_id that made the connection (docs/contract.md Part B §3.2):
    // a test key cannot end a live connection.
    if (!connection || connection.livemode !== (client.mode === 'live' ? 1 : 0)) return false;
    if (!(await revokeConnection(trx, ctx, { connection, platform, reason: 'deauthorize', livemode: client.mode === 'live', origin }))) return false;
    await recordResponse(trx, { body: { stripe_user_id: accountId } });
    return true;
  });
  if (!revoked) throw notConnected();
  return { stripe_user_id: accountId };
}
