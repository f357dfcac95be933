// The account's dashboard: keys, activity, connected platforms, and Connect settings for platforms.
import type { AccountsTable } from '../../store/schema.ts';
import { listConnectionsOfAccount, listConnectionsOfPlatform } from '../../store/connections.ts';
import { listOwnKeys } from '../../store/keys.ts';
import { findPlatform } from '../../store/platforms.ts';
import { listResources } from '../../store/resources.ts';
import { FormError } from '../accounts.ts';
import { addRedirectUri, disconnectPlatform, enableConnect, removeRedirectUri, rollSecretKey, updateBranding } from '../dashboard-actions.ts';
import { dashboardPage, type ActivityCharge, type ActivityCustomer } from '../pages/dashboard.ts';
import { platformPage } from '../pages/platform.ts';
import { htmlPage, seeOther, type Flash, type PageRequest, type PageResult, type PageRoute, type Params } from '../page-route.ts';
import { requireSignIn, signedInForm, type SignedIn } from '../page-session.ts';

/** Messages shown after a redirect, named by `?done=`. */
const FLASHES: Record<string, NonNullable<Flash>> = {
  disconnected: { kind: 'success', message: 'The platform was disconnected. Its access to your account has been revoked.' },
  enabled: { kind: 'success', message: 'Connect is enabled. Add a redirect URI to start connecting accounts.' },
  saved: { kind: 'success', message: 'Saved.' },
  resent: { kind: 'success', message: 'Queued for delivery again.' },
};

export const flashOf = (query: Params): Flash => FLASHES[String(query.done ?? '')] ?? null;

/** The latest test-mode customers and payments, whoever created them (a platform included). */
async function recentActivity(req: PageRequest, accountId: string) {
  const scope = { accountId, livemode: false };
  const customers = await listResources<ActivityCustomer>(req.ctx.store.db, scope, 'customer', { limit: 10 });
  const charges = await listResources<ActivityCharge>(req.ctx.store.db, scope, 'charge', { limit: 10 });
  return { customers: 'data' in customers ? customers.data : [], charges: 'data' in charges ? charges.data : [] };
}

export async function dashboard(req: PageRequest, account: AccountsTable, csrf: string, extra: { flash?: Flash; revealedKey?: string | null }): Promise<PageResult> {
  const db = req.ctx.store.db;
  return htmlPage(
    dashboardPage({
      ...(await recentActivity(req, account.id)),
      account,
      keys: await listOwnKeys(db, account.id),
      connections: await listConnectionsOfAccount(db, account.id),
      csrf,
      ...extra,
    }),
  );
}

async function platformSettings(req: PageRequest, who: SignedIn, flash: Flash, status = 200): Promise<PageResult> {
  const db = req.ctx.store.db;
  const platform = await findPlatform(db, who.account.id);
  const connections = platform ? await listConnectionsOfPlatform(db, platform.account_id) : [];
  return htmlPage(platformPage({ account: who.account, platform, connections, csrf: who.session.csrf, flash, publicUrl: req.ctx.config.publicUrl }), status);
}

/** A platform settings form: a FormError is shown on the settings page, anything else is thrown. */
const platformAction = (path: string, action: (req: PageRequest, accountId: string, body: Params) => Promise<void>, done: string): PageRoute => ({
  method: 'POST',
  path,
  handler: async (req) => {
    const who = await signedInForm(req);
    try {
      await action(req, who.account.id, req.body);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      return platformSettings(req, who, { kind: 'error', message: err.message }, 400);
    }
    return seeOther(`/dashboard/platform?done=${done}`);
  },
});

export const dashboardRoutes: PageRoute[] = [
  {
    method: 'GET',
    path: '/dashboard',
    handler: async (req) => {
      const who = await requireSignIn(req);
      return dashboard(req, who.account, who.session.csrf, { flash: flashOf(req.query) });
    },
  },
  {
    method: 'POST',
    path: '/dashboard/keys/roll',
    handler: async (req) => {
      const who = await signedInForm(req);
      const mode = req.body.mode === 'live' ? 'live' : 'test';
      const key = await rollSecretKey(req.ctx, who.account.id, mode);
      return dashboard(req, who.account, who.session.csrf, {
        revealedKey: mode === 'live' ? key : null,
        flash: { kind: 'success', message: `Your ${mode} secret key was rolled. The old key no longer works.` },
      });
    },
  },
  {
    method: 'POST',
    path: '/dashboard/connections/:id/disconnect',
    handler: async (req) => {
      const who = await signedInForm(req);
      const name = await disconnectPlatform(req.ctx, who.account.id, req.path.id ?? '', req.requestId);
      req.ctx.log.info({ event: 'connection.disconnected', account: who.account.id, platform: name }, 'platform disconnected by the account');
      return seeOther('/dashboard?done=disconnected');
    },
  },
  {
    method: 'GET',
    path: '/dashboard/platform',
    handler: async (req) => platformSettings(req, await requireSignIn(req), flashOf(req.query)),
  },
  platformAction('/dashboard/platform/enable', (req, id) => enableConnect(req.ctx, id), 'enabled'),
  platformAction('/dashboard/platform/settings', (req, id, b) => updateBranding(req.ctx, id, { name: b.name, icon_url: b.icon_url, brand_color: b.brand_color }), 'saved'),
  platformAction('/dashboard/platform/redirect-uris/add', (req, id, b) => addRedirectUri(req.ctx, id, b.uri), 'saved'),
  platformAction('/dashboard/platform/redirect-uris/remove', (req, id, b) => removeRedirectUri(req.ctx, id, b.uri), 'saved'),
];
