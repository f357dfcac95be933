// The account's dashboard: keys, activity, connected platforms, and Connect settings for platforms
// (with the accounts a platform created through the API and their onboarding links).
import type { AccountLink } from '../../oauth/account-links.ts';
import { listAccountsCreatedBy } from '../../store/accounts.ts';
import type { AccountsTable } from '../../store/schema.ts';
import { listConnectionsOfAccount, listConnectionsOfPlatform } from '../../store/connections.ts';
import { listOwnKeys } from '../../store/keys.ts';
import { findPlatform } from '../../store/platforms.ts';
import { listResources } from '../../store/resources.ts';
import { FormError } from '../accounts.ts';
import { addRedirectUri, createOnboardingLink, disconnectPlatform, enableConnect, removeRedirectUri, rollSecretKey, updateBranding } from '../dashboard-actions.ts';
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

async function platformSettings(req: PageRequest, who: SignedIn, extra: { flash: Flash; newLink?: { accountId: string; link: AccountLink } }, status = 200): Promise<PageResult> {
  const db = req.ctx.store.db;
  const platform = await findPlatform(db, who.account.id);
  const connections = platform ? await listConnectionsOfPlatform(db, platform.account_id) : [];
  const connected = new Set(connections.map((c) => c.account_id));
  const created = platform ? (await listAccountsCreatedBy(db, platform.account_id)).map((account) => ({ account, connected: connected.has(account.id) })) : [];
  return htmlPage(platformPage({ account: who.account, platform, connections, created, csrf: who.session.csrf, publicUrl: req.ctx.config.publicUrl, ...extra }), status);
}

const refused = (err: FormError) => ({ flash: { kind: 'error' as const, message: err.message } });

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
      return platformSettings(req, who, refused(err), 400);
    }
    return seeOther(`/dashboard/platform?done=${done}`);
  },
});

/**
 * "Create onboarding link" for an account the platform created (docs/contract.md Part B §8.3). The
 * page is answered here, not after a redirect: the single-use URL appears in this response only,
 * never in a dashboard URL or anywhere stored.
 */
const onboardingLinkRoute: PageRoute = {
  method: 'POST',
  path: '/dashboard/platform/accounts/:id/link',
  handler: async (req) => {
    const who = await signedInForm(req);
    const accountId = req.path.id ?? '';
    let link: AccountLink;
    try {
      link = await createOnboardingLink(req.ctx, who.account.id, accountId);
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      return platformSettings(req, who, refused(err), 400);
    }
    req.ctx.log.info({ event: 'account_link.created', platform: who.account.id, account: accountId }, 'onboarding link created from the dashboard');
    return platformSettings(req, who, { flash: null, newLink: { accountId, link } });
  },
};

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
    handler: async (req) => platformSettings(req, await requireSignIn(req), { flash: flashOf(req.query) }),
  },
  onboardingLinkRoute,
  platformAction('/dashboard/platform/enable', (req, id) => enableConnect(req.ctx, id), 'enabled'),
  platformAction('/dashboard/platform/settings', (req, id, b) => updateBranding(req.ctx, id, { name: b.name, icon_url: b.icon_url, brand_color: b.brand_color }), 'saved'),
  platformAction('/dashboard/platform/redirect-uris/add', (req, id, b) => addRedirectUri(req.ctx, id, b.uri), 'saved'),
  platformAction('/dashboard/platform/redirect-uris/remove', (req, id, b) => removeRedirectUri(req.ctx, id, b.uri), 'saved'),
];
