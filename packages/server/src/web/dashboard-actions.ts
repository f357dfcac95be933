// What the dashboard does, framework-free: roll keys, disconnect platforms, manage Connect, create
// onboarding links for the accounts a platform created.
import { ApiError, PageError } from '../domain/errors.ts';
import { newClientId, newSecretKey, patterns, type Mode } from '../domain/ids.ts';
import { checkRegisteredRedirectUri } from '../domain/redirect-uri.ts';
import type { Context } from '../context.ts';
import { createAccountLink, type AccountLink } from '../oauth/account-links.ts';
import { revokeConnection } from '../oauth/revoke-connection.ts';
import { findAccount, lockAccount } from '../store/accounts.ts';
import { findConnection } from '../store/connections.ts';
import { replaceSecretKey } from '../store/keys.ts';
import { findPlatform, insertPlatformIfNone, lockPlatform, updatePlatform } from '../store/platforms.ts';
import { FormError } from './accounts.ts';

/** Replaces the account's secret key of a mode; returns the new key to show once. */
export async function rollSecretKey(ctx: Context, accountId: string, mode: Mode): Promise<string> {
  const key = newSecretKey(mode);
  const now = ctx.clock.now();
  await ctx.store.transaction(async (trx) => {
    await lockAccount(trx, accountId);
    await replaceSecretKey(trx, { accountId, mode, hash: ctx.hash(key), last4: key.slice(-4), revealable: mode === 'test' ? key : null, now });
  });
  ctx.log.info({ event: 'key.rolled', account: accountId, mode }, 'secret key rolled');
  return key;
}

/** The merchant's "Disconnect": same revocation and event as /oauth/deauthorize (docs/contract.md Part A "Events"). */
export async function disconnectPlatform(ctx: Context, accountId: string, connectionId: string, requestId: string): Promise<string> {
  return ctx.store.transaction(async (trx) => {
    const connection = await findConnection(trx, connectionId);
    if (!connection || connection.account_id !== accountId || connection.revoked_at !== null) {
      throw new PageError(404, 'Not connected', 'That platform is not connected to your account.');
    }
    const platform = await findPlatform(trx, connection.platform_id);
    if (!platform) throw new PageError(404, 'Not connected', 'That platform no longer exists.');
    await revokeConnection(trx, ctx, {
      connection,
      platform,
      reason: 'dashboard_disconnect',
      livemode: connection.livemode === 1,
      origin: { requestId, idempotencyKey: null },
    });
    return platform.name;
  });
}

export async function enableConnect(ctx: Context, accountId: string): Promise<void> {
  if (await findPlatform(ctx.store.db, accountId)) return;
  const account = await findAccount(ctx.store.db, accountId);
  await insertPlatformIfNone(ctx.store.db, {
    account_id: accountId,
    name: account?.business_name ?? account?.email ?? 'My platform',
    icon_url: null,
    brand_color: null,
    client_id_test: newClientId(),
    client_id_live: newClientId(),
    redirect_uris: [],
    require_pkce: 0,
    created: ctx.clock.now(),
  });
}

export function checkBranding(input: { name: unknown; icon_url: unknown; brand_color: unknown }) {
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  const icon = typeof input.icon_url === 'string' ? input.icon_url.trim() : '';
  const color = typeof input.brand_color === 'string' ? input.brand_color.trim() : '';
  if (!name || name.length > 100) throw new FormError('The platform name must be 1 to 100 characters.', 'name');
  if (icon && (!/^https:\/\/[^\s<>"']+$/.test(icon) || icon.length > 2000)) throw new FormError('The icon URL must be an https URL.', 'icon_url');
  if (color && !/^#[0-9a-fA-F]{6}$/.test(color)) throw new FormError('The brand colour must look like #635bff.', 'brand_color');
  return { name, icon_url: icon || null, brand_color: color ? color.toLowerCase() : null };
}

export async function updateBranding(ctx: Context, accountId: string, input: { name: unknown; icon_url: unknown; brand_color: unknown }) {
  await updatePlatform(ctx.store.db, accountId, checkBranding(input));
}

export async function addRedirectUri(ctx: Context, accountId: string, raw: unknown): Promise<void> {
  const uri = typeof raw === 'string' ? raw.trim() : '';
  const problem = checkRegisteredRedirectUri(uri);
  if (problem) throw new FormError(`That redirect URI ${problem}.`, 'uri');
  await ctx.store.transaction(async (trx) => {
    const platform = await lockPlatform(trx, accountId);
    if (!platform) throw new FormError('Enable Connect first.');
    if (platform.redirect_uris.includes(uri)) return;
    if (platform.redirect_uris.length >= 50) throw new FormError('At most 50 redirect URIs can be registered.');
    await updatePlatform(trx, accountId, { redirect_uris: [...platform.redirect_uris, uri] });
  });
}

export async function removeRedirectUri(ctx: Context, accountId: string, raw: unknown): Promise<void> {
  await ctx.store.transaction(async (trx) => {
    const platform = await lockPlatform(trx, accountId);
    if (!platform) return;
    await updatePlatform(trx, accountId, { redirect_uris: platform.redirect_uris.filter((u) => u !== raw) });
  });
}

/** An account this platform created through the API and has not deleted; anything else is refused alike. */
async function findCreatedAccount(ctx: Context, platformId: string, raw: string) {
  const account = patterns.account.test(raw) ? await findAccount(ctx.store.db, raw) : undefined;
  if (!account || account.created_by !== platformId || account.deleted_at !== null) {
    throw new FormError('No link was created: onboarding links can be made here only for accounts your platform created through the API.');
  }
  return account;
}

/**
 * The platform dashboard's "Create onboarding link" (docs/contract.md Part B §8.3): a fresh Account
 * Link, made as POST /v1/account_links makes it, in the account's mode, that comes back to the
 * platform settings page. The URL is returned to be shown once: only its token's hash is stored.
 */
export async function createOnboardingLink(ctx: Context, platformId: string, accountId: string): Promise<AccountLink> {
  const account = await findCreatedAccount(ctx, platformId, accountId);
  const back = `${ctx.config.publicUrl}/dashboard/platform`;
  try {
    return await ctx.store.transaction((trx) =>
      createAccountLink(ctx, trx, { platformId, accountId: account.id, livemode: account.test_only === 0, type: 'account_onboarding', collect: 'currently_due', refreshUrl: back, returnUrl: back }),
    );
  } catch (err) {
    // The holder disconnected the platform, or the account was deleted meanwhile.
    if (err instanceof ApiError && err.param === 'account') throw new FormError('No link was created: that account is no longer connected to your platform.');
    throw err;
  }
}
