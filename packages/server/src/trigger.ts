// `connectd trigger`: real account.application.* and account.updated events for a platform developer's local loop,
// through the same code paths as the API (the running server's worker delivers them).
import { patterns } from './domain/ids.ts';
import type { Context } from './context.ts';
import { authorizationCodeGrant } from './oauth/grants/authorization-code.ts';
import { issueCode } from './oauth/interaction.ts';
import { revokeConnection } from './oauth/revoke-connection.ts';
import { parseMetadata } from './domain/account-object.ts';
import { findAccount, lockAccount, updateAccount } from './store/accounts.ts';
import { emitAccountUpdated } from './webhooks/events.ts';
import { findActiveConnection } from './store/connections.ts';
import { findPlatformByClientId } from './store/platforms.ts';
import { emitApplicationEvent } from './webhooks/events.ts';

export class TriggerError extends Error {}

export const TRIGGER_TYPES = ['account.application.authorized', 'account.application.deauthorized', 'account.updated'] as const;

export async function trigger(ctx: Context, type: string, clientId: string, accountId: string): Promise<string> {
  if (!(TRIGGER_TYPES as readonly string[]).includes(type)) throw new TriggerError(`unknown event type '${type}' (use ${TRIGGER_TYPES.join(', ')})`);
  if (!patterns.clientId.test(clientId)) throw new TriggerError('--platform must be a client_id (ca_…)');
  if (!patterns.account.test(accountId)) throw new TriggerError('--account must be an account id (acct_…)');
  const platform = await findPlatformByClientId(ctx.store.db, clientId);
  if (!platform) throw new TriggerError(`no platform has the client_id ${clientId}`);
  if (!(await findAccount(ctx.store.db, accountId))) throw new TriggerError(`no account ${accountId}`);
  const livemode = clientId === platform.client_id_live;
  const origin = { requestId: null, idempotencyKey: null };
  const connection = await findActiveConnection(ctx.store.db, platform.account_id, accountId);

  if (type === 'account.updated') {
    if (!connection) throw new TriggerError(`${accountId} is not connected to ${clientId}`);
    // A real change (docs/contract.md Part B §8.4): metadata[connectd_trigger] set to now, through
    // the same path as an API update, so previous_attributes describes it.
    const sent = await ctx.store.transaction(async (trx) => {
      const before = await lockAccount(trx, accountId);
      if (!before) throw new TriggerError(`no account ${accountId}`);
      const metadata = JSON.stringify({ ...parseMetadata(before.metadata), connectd_trigger: String(ctx.clock.now()) });
      await updateAccount(trx, accountId, { metadata });
      return emitAccountUpdated(trx, ctx, { before, after: { ...before, metadata }, origin });
    });
    return `${accountId} updated (metadata[connectd_trigger]); account.updated queued for ${sent} platform${sent === 1 ? '' : 's'}`;
  }
  if (type === 'account.application.deauthorized') {
    if (!connection) throw new TriggerError(`${accountId} is not connected to ${clientId}`);
    await ctx.store.transaction((trx) => revokeConnection(trx, ctx, { connection, platform, reason: 'deauthorize', livemode, origin }));
    return `${accountId} disconnected from ${platform.name}; account.application.deauthorized queued`;
  }
  if (connection) {
    await ctx.store.transaction((trx) => emitApplicationEvent(trx, ctx, { type: 'account.application.authorized', platform, accountId, livemode, origin }));
    return `${accountId} is already connected; account.application.authorized queued`;
  }
  // Not connected: authorize and exchange a code, exactly as a browser and a platform would.
  const redirectUri = platform.redirect_uris.find((u) => !livemode || u.startsWith('https://')) ?? platform.redirect_uris[0] ?? 'https://localhost/';
  const { code } = await issueCode(ctx.store.db, ctx, {
    platformId: platform.account_id, clientId, mode: livemode ? 'live' : 'test', scope: 'read_write', redirectUri,
    state: null, landing: 'login', alwaysPrompt: false, prefill: {}, codeChallenge: null,
  }, accountId);
  await authorizationCodeGrant(ctx, { accountId: platform.account_id, mode: livemode ? 'live' : 'test', keyHash: '', scheme: null, platform }, { code }, origin);
  return `${accountId} connected to ${platform.name}; account.application.authorized queued`;
}
