// Server-rendered pages at the edge: sessions, CSRF, the authorize interaction and the dashboard.
// Protocol decisions live in oauth/ and web/; this file only moves values in and out of HTTP.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PageError, ThrottledError } from '../../domain/errors.ts';
import { randomBase62 } from '../../domain/ids.ts';
import type { AccountsTable, Db } from '../../store/schema.ts';
import type { Context } from '../../context.ts';
import { validateAuthorizeRequest, type AuthorizeParams } from '../../oauth/authorize.ts';
import { canSkipConsent, createTestAccount, denialRedirect, issueCode } from '../../oauth/interaction.ts';
import { findAccount } from '../../store/accounts.ts';
import { listConnectionsOfAccount, listConnectionsOfPlatform } from '../../store/connections.ts';
import { listOwnKeys } from '../../store/keys.ts';
import { findPlatform } from '../../store/platforms.ts';
import { completeAuthorizeRequest, findAuthorizeRequest, insertAuthorizeRequest } from '../../store/sessions.ts';
import { FormError, login, registerAccount } from '../../web/accounts.ts';
import {
  addRedirectUri,
  disconnectPlatform,
  enableConnect,
  removeRedirectUri,
  rollSecretKey,
  updateBranding,
} from '../../web/dashboard-actions.ts';
import { loginForm, registerForm } from '../../web/pages/auth-forms.ts';
import { consentPage, defaultRedirectPage, signInToConnectPage, type ConsentView } from '../../web/pages/consent.ts';
import { dashboardPage, type ActivityCharge, type ActivityCustomer } from '../../web/pages/dashboard.ts';
import { listResources } from '../../store/resources.ts';
import { findOwnedDelivery, listDeliveriesOfEndpoint, resend } from '../../store/deliveries.ts';
import { findPlatformEvent } from '../../store/events.ts';
import { findEndpoint, insertEndpoint, listEndpoints, updateEndpoint } from '../../store/webhook-endpoints.ts';
import { eventObject } from '../../webhooks/events.ts';
import { rollEndpointSecret } from '../../webhooks/roll-secret.ts';
import { refuseUrl } from '../../webhooks/ssrf.ts';
import { eventPage, webhooksPage } from '../../web/pages/webhooks.ts';
import { newWebhookSecret } from '../../domain/ids.ts';
import { platformPage } from '../../web/pages/platform.ts';
import { html } from '../../web/html.ts';
import { layout } from '../../web/layout.ts';
import { STYLESHEET } from '../../web/styles.ts';
import { cookieSpec, csrfMatches, endSession, loadSession, rotateSession, SESSION_TTL, startSession, type Session } from '../../web/session.ts';
import { anonymousRow } from '../../web/throttle.ts';
import { asParams } from '../parse.ts';

const AUTHORIZE_REQUEST_TTL = 3600;
const LOGIN_RATE = { rateLimit: { max: 30, timeWindow: '1 minute' } };

const FLASHES: Record<string, { kind: 'success' | 'error'; message: string }> = {
  disconnected: { kind: 'success', message: 'The platform was disconnected. Its access to your account has been revoked.' },
  enabled: { kind: 'success', message: 'Connect is enabled. Add a redirect URI to start connecting accounts.' },
  saved: { kind: 'success', message: 'Saved.' },
  resent: { kind: 'success', message: 'Queued for delivery again.' },
};

export function pageRoutes(app: FastifyInstance, ctx: Context): void {
  const cookie = cookieSpec(ctx.config.publicUrl);
  const publicOrigin = new URL(ctx.config.publicUrl).origin;

  const sendHtml = (reply: FastifyReply, body: string, status = 200) =>
    reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);

  const currentSession = (req: FastifyRequest) => loadSession(ctx, req.cookies[cookie.name]);

  const setCookie = (reply: FastifyReply, value: string) =>
    reply.setCookie(cookie.name, value, { path: '/', httpOnly: true, sameSite: 'lax', secure: cookie.secure, maxAge: SESSION_TTL });

  /** Rows stored for visitors without an account are limited per address (docs/security.md "Throttling"). */
  async function countAnonymousRow(req: FastifyRequest): Promise<void> {
    const wait = await anonymousRow(ctx, req.ip);
    if (wait > 0) throw new ThrottledError(wait, `Too many requests from your address. Try again in ${wait} seconds.`);
  }

  async function ensureSession(req: FastifyRequest, reply: FastifyReply): Promise<Session> {
    const existing = await currentSession(req);
    if (existing) return existing;
    await countAnonymousRow(req);
    const { cookieValue, session } = await startSession(ctx, null);
    setCookie(reply, cookieValue);
    return session;
  }

  /** CSRF: the session's token, plus Origin and Fetch Metadata as defence in depth (docs/security-model.md UI-02, BI-34). */
  async function formSession(req: FastifyRequest): Promise<Session> {
    const site = req.headers['sec-fetch-site'];
    const origin = req.headers.origin;
    // Under `Referrer-Policy: no-referrer` (docs/security-model.md UI-04) browsers send `Origin: null` on their own form
    // POSTs; accept that only when Fetch Metadata (browser-set, unforgeable by pages) says same-origin.
    const sameOrigin =
      origin === undefined ||
      origin === publicOrigin ||
      origin === `${req.protocol}://${req.headers.host ?? ''}` ||
      (origin === 'null' && site === 'same-origin');
    const session = await currentSession(req);
    if (site === 'cross-site' || !sameOrigin || !session || !csrfMatches(session, asParams(req.body)._csrf)) {
      throw new PageError(403, 'Form expired', 'This form could not be accepted: your session expired or the request came from another site. Reload the page and try again.');
    }
    return session;
  }

  async function signedIn(req: FastifyRequest, reply: FastifyReply) {
    const session = await currentSession(req);
    const account = session?.accountId ? await findAccount(ctx.store.db, session.accountId) : undefined;
    if (!session || !account) {
      const next = req.url.split('?')[0] ?? '/dashboard';
      reply.code(303).header('Location', `/login?next=${encodeURIComponent(next)}`).send();
      return null;
    }
    return { session, account };
  }

  async function signIn(reply: FastifyReply, previous: Session | null, accountId: string): Promise<Session> {
    const { cookieValue, session } = await rotateSession(ctx, previous, accountId);
    setCookie(reply, cookieValue);
    return session;
  }

  // Only same-site dashboard paths may be a post-login destination (docs/security-model.md AZ-16).
  const safeNext = (v: unknown) => (typeof v === 'string' && /^\/dashboard(\/[a-z-]+)*$/.test(v) ? v : '/dashboard');

  app.get('/static/connectd.css', async (_req, reply) =>
    reply.header('Cache-Control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLESHEET),
  );
  app.get<{ Params: { id: string } }>('/brand/:id', async (req, reply) => {
    const platform = /^acct_[A-Za-z0-9]+\.css$/.test(req.params.id) ? await findPlatform(ctx.store.db, req.params.id.slice(0, -4)) : undefined;
    const color = platform?.brand_color && /^#[0-9a-f]{6}$/.test(platform.brand_color) ? platform.brand_color : '#635bff';
    return reply.header('Cache-Control', 'no-cache').type('text/css; charset=utf-8').send(`:root { --brand: ${color}; }\n`);
  });

  app.get('/', async (req, reply) => {
    const session = await currentSession(req);
    return reply.code(303).header('Location', session?.accountId ? '/dashboard' : '/login').send();
  });

  // ---- Sign in, sign up, sign out -------------------------------------------------------------

  const authPage = (title: string, body: ReturnType<typeof html>, status = 200) => (reply: FastifyReply) =>
    sendHtml(reply, layout({ title, narrow: true, body: html`<section class="card"><h1>${title}</h1>${body}</section>` }), status);

  app.get('/login', async (req, reply) => {
    const session = await ensureSession(req, reply);
    const next = safeNext(asParams(req.query).next);
    return authPage('Sign in', loginForm({ csrf: session.csrf, action: `/login?next=${encodeURIComponent(next)}`, switchHref: '/register' }))(reply);
  });
  app.post('/login', { config: LOGIN_RATE }, async (req, reply) => {
    const session = await formSession(req);
    const body = asParams(req.body);
    try {
      const account = await login(ctx, body.email, body.password, req.ip);
      await signIn(reply, session, account.id);
      return reply.code(303).header('Location', safeNext(asParams(req.query).next)).send();
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      const values = { email: typeof body.email === 'string' ? body.email : '' };
      return authPage('Sign in', loginForm({ csrf: session.csrf, action: '/login', error: err.message, values, switchHref: '/register' }), 400)(reply);
    }
  });
  app.get('/register', async (req, reply) => {
    const session = await ensureSession(req, reply);
    return authPage('Create your account', registerForm({ csrf: session.csrf, action: '/register', switchHref: '/login' }))(reply);
  });
  app.post('/register', { config: LOGIN_RATE }, async (req, reply) => {
    const session = await formSession(req);
    const body = asParams(req.body);
    try {
      const { account, keys } = await registerAccount(ctx, { email: body.email, password: body.password, business_name: body.business_name, country: body.country });
      const next = await signIn(reply, session, account.id);
      // The live secret key is shown this once, on the page that answers the registration.
      return renderDashboard(reply, account, next.csrf, { revealedKey: keys.live_secret, flash: { kind: 'success', message: 'Welcome! Your account is ready.' } });
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      const values = { email: String(body.email ?? ''), business_name: String(body.business_name ?? ''), country: String(body.country ?? '') };
      return authPage('Create your account', registerForm({ csrf: session.csrf, action: '/register', error: err.message, values, switchHref: '/login' }), 400)(reply);
    }
  });
  app.post('/logout', async (req, reply) => {
    const session = await formSession(req);
    await endSession(ctx, session);
    reply.clearCookie(cookie.name, { path: '/' });
    return reply.code(303).header('Location', '/login').send();
  });

  // ---- The authorize interaction ---------------------------------------------------------------

  app.get('/oauth/authorize', async (req, reply) => {
    const { params } = await validateAuthorizeRequest(ctx, asParams(req.query));
    reply.header('Cache-Control', 'no-store');
    const existing = await currentSession(req);
    // Already connected and always_prompt is not true: skip the confirmation (docs/contract.md Part A "Already connected").
    if (existing?.accountId && (await canSkipConsent(ctx, params, existing.accountId))) {
      const { redirectUrl } = await issueCode(ctx.store.db, ctx, params, existing.accountId);
      return reply.code(302).header('Location', redirectUrl).send();
    }
    const session = existing ?? (await ensureSession(req, reply));
    if (!session.accountId) await countAnonymousRow(req);
    const id = randomBase62(32);
    const now = ctx.clock.now();
    await insertAuthorizeRequest(ctx.store.db, {
      id,
      session_hash: session.hash,
      params: JSON.stringify(params),
      created: now,
      expires_at: now + AUTHORIZE_REQUEST_TTL,
      completed_at: null,
    });
    return reply.code(303).header('Location', `/oauth/consent/${id}`).send();
  });

  /** The stored transaction, bound to this browser session (docs/security-model.md AZ-17, BI-35). */
  async function pending(req: FastifyRequest<{ Params: { id: string } }>, session: Session | null) {
    const row = /^[A-Za-z0-9]{32}$/.test(req.params.id) ? await findAuthorizeRequest(ctx.store.db, req.params.id, ctx.clock.now()) : undefined;
    if (!row) {
      throw new PageError(400, 'Request expired', 'This connection request has expired or was already completed. Return to the platform and start again.');
    }
    if (!session || session.hash !== row.session_hash) {
      throw new PageError(403, 'Wrong browser session', 'This connection request was started in another browser session. Return to the platform and start again.');
    }
    const params = JSON.parse(row.params) as AuthorizeParams;
    const platform = await findPlatform(ctx.store.db, params.platformId);
    if (!platform) throw new PageError(400, 'Platform unavailable', 'This platform no longer accepts connections.');
    return { id: row.id, params, platform };
  }

  const view = (p: Awaited<ReturnType<typeof pending>>, session: Session): ConsentView => ({
    platform: p.platform,
    params: p.params,
    requestId: p.id,
    csrf: session.csrf,
    brandCss: `/brand/${p.platform.account_id}.css`,
  });

  type IdReq = FastifyRequest<{ Params: { id: string } }>;

  async function finish(reply: FastifyReply, p: Awaited<ReturnType<typeof pending>>, session: Session, outcome: (trx: Db) => Promise<string>) {
    const location = await ctx.store.transaction(async (trx) => {
      if (!(await completeAuthorizeRequest(trx, p.id, session.hash, ctx.clock.now()))) return null;
      return outcome(trx);
    });
    if (!location) {
      throw new PageError(409, 'Already answered', 'This connection request was already answered. Return to the platform to start again.');
    }
    // 303 after a POST that carried credentials, never 307/308 (docs/security-model.md AZ-13).
    return reply.code(303).header('Location', location).header('Cache-Control', 'no-store').send();
  }

  app.get('/oauth/consent/:id', async (req: IdReq, reply) => {
    const session = await currentSession(req);
    const p = await pending(req, session);
    const q = asParams(req.query);
    const account = session?.accountId && q.switch !== '1' ? await findAccount(ctx.store.db, session.accountId) : undefined;
    if (account && session) return sendHtml(reply, consentPage({ ...view(p, session), account }));
    const which = q.view === 'login' || q.view === 'register' ? q.view : p.params.landing;
    const prefill = p.params.prefill;
    return sendHtml(reply, signInToConnectPage({ ...view(p, session as Session), view: which, form: { values: { email: prefill.email, business_name: prefill.business_name, country: prefill.country } } }));
  });

  app.post('/oauth/consent/:id/login', { config: LOGIN_RATE }, async (req: IdReq, reply) => {
    const session = await formSession(req);
    const p = await pending(req, session);
    const body = asParams(req.body);
    try {
      const account = await login(ctx, body.email, body.password, req.ip);
      const next = await signIn(reply, session, account.id);
      if (await canSkipConsent(ctx, p.params, account.id)) {
        return finish(reply, p, next, async (trx) => (await issueCode(trx, ctx, p.params, account.id)).redirectUrl);
      }
      return reply.code(303).header('Location', `/oauth/consent/${p.id}`).send();
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      const values = { email: typeof body.email === 'string' ? body.email : '' };
      return sendHtml(reply, signInToConnectPage({ ...view(p, session), view: 'login', form: { error: err.message, values } }), 400);
    }
  });

  app.post('/oauth/consent/:id/register', { config: LOGIN_RATE }, async (req: IdReq, reply) => {
    const session = await formSession(req);
    const p = await pending(req, session);
    const body = asParams(req.body);
    try {
      const { account } = await registerAccount(ctx, { email: body.email, password: body.password, business_name: body.business_name, country: body.country });
      await signIn(reply, session, account.id);
      return reply.code(303).header('Location', `/oauth/consent/${p.id}`).send();
    } catch (err) {
      if (!(err instanceof FormError)) throw err;
      const values = { email: String(body.email ?? ''), business_name: String(body.business_name ?? ''), country: String(body.country ?? '') };
      return sendHtml(reply, signInToConnectPage({ ...view(p, session), view: 'register', form: { error: err.message, values } }), 400);
    }
  });

  app.post('/oauth/consent/:id/decision', async (req: IdReq, reply) => {
    const session = await formSession(req);
    const p = await pending(req, session);
    const accountId = session.accountId;
    if (!accountId) return reply.code(303).header('Location', `/oauth/consent/${p.id}`).send();
    const decision = asParams(req.body).decision;
    if (decision === 'deny') {
      ctx.log.info({ event: 'consent.denied', account: accountId, platform: p.platform.account_id }, 'consent denied');
      return finish(reply, p, session, async () => denialRedirect(p.params));
    }
    if (decision !== 'allow') throw new PageError(400, 'Choose an option', 'Choose whether to connect your account or deny access.');
    ctx.log.info({ event: 'consent.granted', account: accountId, platform: p.platform.account_id }, 'consent granted');
    return finish(reply, p, session, async (trx) => (await issueCode(trx, ctx, p.params, accountId)).redirectUrl);
  });

  // "Skip this form" (docs/contract.md Part A "Test-mode shortcut"): development client_id only.
  app.post('/oauth/consent/:id/skip', async (req: IdReq, reply) => {
    const session = await formSession(req);
    const p = await pending(req, session);
    if (p.params.mode !== 'test') throw new PageError(400, 'Not available', 'Skipping the form is only possible in test mode.');
    return finish(reply, p, session, async (trx) => {
      const accountId = await createTestAccount(trx, ctx, p.params.prefill, 'test');
      return (await issueCode(trx, ctx, p.params, accountId)).redirectUrl;
    });
  });

  app.get('/connect/default/oauth/test', async (req, reply) => sendHtml(reply, defaultRedirectPage(asParams(req.query))));

  // ---- Dashboard ---------------------------------------------------------------------------------

  /** The latest test-mode customers and payments, whoever created them (a platform included). */
  async function recentActivity(accountId: string) {
    const scope = { accountId, livemode: false };
    const customers = await listResources<ActivityCustomer>(ctx.store.db, scope, 'customer', { limit: 10 });
    const charges = await listResources<ActivityCharge>(ctx.store.db, scope, 'charge', { limit: 10 });
    return { customers: 'data' in customers ? customers.data : [], charges: 'data' in charges ? charges.data : [] };
  }

  async function renderDashboard(
    reply: FastifyReply,
    account: AccountsTable,
    csrf: string,
    extra: { flash?: { kind: 'success' | 'error'; message: string } | null; revealedKey?: string | null },
  ) {
    return sendHtml(
      reply,
      dashboardPage({
        ...(await recentActivity(account.id)),
        account,
        keys: await listOwnKeys(ctx.store.db, account.id),
        connections: await listConnectionsOfAccount(ctx.store.db, account.id),
        csrf,
        ...extra,
      }),
    );
  }

  app.get('/dashboard', async (req, reply) => {
    const who = await signedIn(req, reply);
    if (!who) return reply;
    return renderDashboard(reply, who.account, who.session.csrf, { flash: FLASHES[String(asParams(req.query).done ?? '')] ?? null });
  });

  app.post('/dashboard/keys/roll', async (req, reply) => {
    const session = await formSession(req);
    const who = await signedIn(req, reply);
    if (!who) return reply;
    const mode = asParams(req.body).mode === 'live' ? 'live' : 'test';
    const key = await rollSecretKey(ctx, who.account.id, mode);
    return renderDashboard(reply, who.account, session.csrf, {
      revealedKey: mode === 'live' ? key : null,
      flash: { kind: 'success', message: `Your ${mode} secret key was rolled. The old key no longer works.` },
    });
  });

  app.post<{ Params: { id: string } }>('/dashboard/connections/:id/disconnect', async (req, reply) => {
    await formSession(req);
    const who = await signedIn(req, reply);
    if (!who) return reply;
    const name = await disconnectPlatform(ctx, who.account.id, req.params.id, req.id);
    ctx.log.info({ event: 'connection.disconnected', account: who.account.id, platform: name }, 'platform disconnected by the account');
    return reply.code(303).header('Location', '/dashboard?done=disconnected').send();
  });

  const renderPlatform = async (reply: FastifyReply, who: NonNullable<Awaited<ReturnType<typeof signedIn>>>, flash: PlatformFlash, status = 200) => {
    const platform = await findPlatform(ctx.store.db, who.account.id);
    return sendHtml(
      reply,
      platformPage({
        account: who.account,
        platform,
        connections: platform ? await listConnectionsOfPlatform(ctx.store.db, platform.account_id) : [],
        csrf: who.session.csrf,
        flash,
        publicUrl: ctx.config.publicUrl,
      }),
      status,
    );
  };
  type PlatformFlash = { kind: 'success' | 'error'; message: string } | null;

  app.get('/dashboard/platform', async (req, reply) => {
    const who = await signedIn(req, reply);
    if (!who) return reply;
    return renderPlatform(reply, who, FLASHES[String(asParams(req.query).done ?? '')] ?? null);
  });

  const platformAction = (path: string, action: (accountId: string, body: Record<string, unknown>) => Promise<void>, done: string) =>
    app.post(path, async (req, reply) => {
      await formSession(req);
      const who = await signedIn(req, reply);
      if (!who) return reply;
      try {
        await action(who.account.id, asParams(req.body));
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        return renderPlatform(reply, who, { kind: 'error', message: err.message }, 400);
      }
      return reply.code(303).header('Location', `/dashboard/platform?done=${done}`).send();
    });

  // ---- Webhooks -------------------------------------------------------------------------------

  async function renderWebhooks(reply: FastifyReply, who: NonNullable<Awaited<ReturnType<typeof signedIn>>>, extra: { flash?: PlatformFlash; revealedSecret?: string | null } = {}, status = 200) {
    const endpoints = await listEndpoints(ctx.store.db, who.account.id);
    const withLog = [];
    for (const endpoint of endpoints) withLog.push({ endpoint, deliveries: await listDeliveriesOfEndpoint(ctx.store.db, endpoint.id) });
    return sendHtml(reply, webhooksPage({ account: who.account, endpoints: withLog, csrf: who.session.csrf, now: ctx.clock.now(), ...extra }), status);
  }

  app.get('/dashboard/webhooks', async (req, reply) => {
    const who = await signedIn(req, reply);
    if (!who) return reply;
    return renderWebhooks(reply, who, { flash: FLASHES[String(asParams(req.query).done ?? '')] ?? null });
  });

  app.post('/dashboard/webhooks', async (req, reply) => {
    await formSession(req);
    const who = await signedIn(req, reply);
    if (!who) return reply;
    const body = asParams(req.body);
    const livemode = body.mode === 'live';
    const url = typeof body.url === 'string' ? body.url.trim() : '';
    const okUrl = /^https:\/\/[^\s<>"']+$/.test(url) || (!livemode && /^http:\/\/[^\s<>"']+$/.test(url));
    if (!okUrl || url.length > 2048) {
      return renderWebhooks(reply, who, { flash: { kind: 'error', message: livemode ? 'Live endpoints need an https URL.' : 'Enter an http or https URL.' } }, 400);
    }
    const refused = refuseUrl(url, livemode, ctx.config.webhookPrivateTargets);
    if (refused) return renderWebhooks(reply, who, { flash: { kind: 'error', message: `That URL is not allowed: ${refused}.` } }, 400);
    const secret = newWebhookSecret();
    await insertEndpoint(ctx.store.db, ctx.sealKey, { accountId: who.account.id, url, secret, livemode, connect: true, enabledEvents: ['*'], now: ctx.clock.now() });
    return renderWebhooks(reply, who, { flash: { kind: 'success', message: 'Endpoint added.' }, revealedSecret: secret });
  });

  app.post<{ Params: { id: string; action: string } }>('/dashboard/webhooks/:id/:action', async (req, reply) => {
    await formSession(req);
    const who = await signedIn(req, reply);
    if (!who) return reply;
    const endpoint = await findEndpoint(ctx.store.db, who.account.id, req.params.id);
    if (!endpoint) throw new PageError(404, 'Not found', 'There is no such endpoint on your account.');
    if (req.params.action === 'roll') {
      const secret = await rollEndpointSecret(ctx, who.account.id, endpoint.id);
      return renderWebhooks(reply, who, { flash: { kind: 'success', message: 'Secret rolled. The previous one keeps signing for 24 hours.' }, revealedSecret: secret });
    }
    if (req.params.action !== 'disable' && req.params.action !== 'enable') throw new PageError(404, 'Not found', 'Unknown action.');
    await updateEndpoint(ctx.store.db, endpoint.id, { status: req.params.action === 'disable' ? 'disabled' : 'enabled' });
    return reply.code(303).header('Location', '/dashboard/webhooks?done=saved').send();
  });

  app.post<{ Params: { id: string } }>('/dashboard/webhooks/deliveries/:id/resend', async (req, reply) => {
    await formSession(req);
    const who = await signedIn(req, reply);
    if (!who) return reply;
    const owned = await findOwnedDelivery(ctx.store.db, who.account.id, req.params.id);
    if (!owned || !(await resend(ctx.store.db, owned, ctx.clock.now()))) throw new PageError(404, 'Not found', 'There is no such delivery on your account.');
    // Committed (a single statement): the worker sends it now rather than at its next poll.
    ctx.deliveryNotifier.notify();
    return reply.code(303).header('Location', '/dashboard/webhooks?done=resent').send();
  });

  app.get<{ Params: { id: string } }>('/dashboard/events/:id', async (req, reply) => {
    const who = await signedIn(req, reply);
    if (!who) return reply;
    const event = await findPlatformEvent(ctx.store.db, who.account.id, req.params.id);
    if (!event) throw new PageError(404, 'Not found', 'There is no such event on your account.');
    return sendHtml(reply, eventPage(who.account, who.session.csrf, event, eventObject(event)));
  });

  platformAction('/dashboard/platform/enable', (id) => enableConnect(ctx, id), 'enabled');
  platformAction('/dashboard/platform/settings', (id, b) => updateBranding(ctx, id, { name: b.name, icon_url: b.icon_url, brand_color: b.brand_color }), 'saved');
  platformAction('/dashboard/platform/redirect-uris/add', (id, b) => addRedirectUri(ctx, id, b.uri), 'saved');
  platformAction('/dashboard/platform/redirect-uris/remove', (id, b) => removeRedirectUri(ctx, id, b.uri), 'saved');
}
