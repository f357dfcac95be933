// Roadrunner Rides, the demo marketplace: a driver signs in, connects a Stripe account through
// platform-kit's Fastify routes, sees the account fetched with Stripe-Account, and disconnects,
// here or from connectd's dashboard (the deauthorization webhook removes the connection).
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { ConnectOAuthError, createConnect, safeEqual, type Tokens } from 'platform-kit';
import { fastifyConnect } from 'platform-kit/fastify';
import type Stripe from 'stripe';
import type { DemoDb } from './db.ts';
import { driverPage, problemPage, signInPage, STYLESHEET } from './pages.ts';

export interface DemoConfig {
  db: DemoDb;
  /** Where the demo is reached: its redirect URI and webhook URL derive from it. */
  publicUrl: string;
  /** connectd (or https://connect.stripe.com and https://api.stripe.com). */
  connectBase: string;
  apiBase: string;
  clientId: string;
  secretKey: string;
  webhookSecrets: string[];
  logger?: boolean;
}

const SESSION_COOKIE = 'rr_session';
const NOTICES = new Map([
  ['connected', 'Connected. Your payouts go to the account below.'],
  ['onboarded', 'Your new account is set up: payouts go to it.'],
  ['onboarding', 'Your account is created but not fully set up yet: continue when you are ready.'],
  ['denied', 'You declined to connect. Nothing was shared.'],
  ['disconnected', 'Disconnected. Roadrunner Rides can no longer act for that account.'],
]);
const short = (s: string) => (s.length > 14 ? `${s.slice(0, 10)}…` : s);

export async function buildDemoApp(config: DemoConfig) {
  const { db } = config;
  const app = Fastify({ logger: config.logger ?? false });
  await app.register(cookie);
  await app.register(formbody);
  const connect = createConnect({ clientId: config.clientId, secretKey: config.secretKey, connectBase: config.connectBase, apiBase: config.apiBase });
  const origin = new URL(config.publicUrl).origin;

  const who = (request: FastifyRequest) => {
    const id = request.cookies[SESSION_COOKIE];
    return id ? db.session(id) : undefined;
  };

  // Forms post back to this origin only (a cross-site form cannot sign a driver in or out, or
  // disconnect them), and carry the session's CSRF token once signed in.
  const csrfOk = (request: FastifyRequest, csrf: string) => {
    const sent = (request.body as Record<string, unknown> | undefined)?.csrf;
    return typeof sent === 'string' && safeEqual(sent, csrf);
  };
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || request.routeOptions.url === '/connect/webhooks') return;
    const from = request.headers.origin;
    if (from !== undefined && from !== origin) return reply.code(403).type('text/html').send(problemPage('Refused', 'This form was sent from another site.'));
    // Creating an account for the driver is a signed-in form like the others.
    if (request.routeOptions.url === '/connect/onboard') {
      const session = who(request);
      if (!session) return reply.redirect('/', 303);
      if (!csrfOk(request, session.csrf)) return reply.code(403).type('text/html').send(problemPage('Refused', 'This form is out of date; reload the page and try again.', session));
    }
  });
    const page = (reply: FastifyReply, status: number, body: string) => reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);

  app.get('/style.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(STYLESHEET));

  app.get('/', async (request, reply) => (who(request) ? reply.redirect('/driver', 303) : page(reply, 200, signInPage())));

  app.post('/sign-in', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
    if (!name || name.length > 100 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 200) return page(reply, 400, signInPage('Give your name and a valid email address.'));
    const { sessionId } = db.signIn(name, email);
    reply.setCookie(SESSION_COOKIE, sessionId, { httpOnly: true, sameSite: 'lax', path: '/', secure: origin.startsWith('https:') });
    return reply.redirect('/driver', 303);
  });

  app.post('/sign-out', async (request, reply) => {
    const session = who(request);
    if (session && csrfOk(request, session.csrf)) db.signOut(request.cookies[SESSION_COOKIE] ?? '');
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/', 303);
  });

  app.get('/driver', async (request, reply) => {
    const session = who(request);
    if (!session) return reply.redirect('/', 303);
    const connection = db.connection(session.driver.id);
    let account: Stripe.Account | undefined;
    let accountError: string | undefined;
    if (connection) {
      try {
        account = await connect.asAccount(connection.stripe_user_id).accounts.retrieveCurrent();
      } catch (err) {
        accountError = err instanceof Error ? err.message : 'unknown error';
      }
    }
    const notice = NOTICES.get(String((request.query as Record<string, unknown>).done));
    return page(reply, 200, driverPage({ who: session, connection, account, accountError, notice, steps: db.steps(session.driver.id), connectBase: config.connectBase }));
  });

  // Starting a connection needs a signed-in driver: the state is bound to them.
  // (By route, not by URL text: /connect/%73tart routes here too.)
  const isStart = (request: FastifyRequest) => request.routeOptions.url === '/connect/start';
  app.addHook('onRequest', async (request, reply) => {
    if (isStart(request) && !who(request)) return reply.redirect('/', 303);
  });
  // The authorize URL the driver is sent to, recorded from the redirect platform-kit built.
  app.addHook('onSend', async (request, reply, payload) => {
    const session = isStart(request) ? who(request) : undefined;
    const location = reply.getHeader('location');
    if (session && reply.statusCode === 303 && typeof location === 'string') {
      const url = new URL(location);
      db.addStep(session.driver.id, 'info', 'Sent you to connectd', `GET /connect/start made a fresh state (${short(url.searchParams.get('state') ?? '')}), bound it to your browser in a signed HttpOnly cookie, and redirected to ${url.origin}${url.pathname} with client_id, scope=${url.searchParams.get('scope')}, redirect_uri and that state.`);
    }
    return payload;
  });

  await app.register(fastifyConnect, {
    connect,
    stateSecret: db.secret('state-secret'),
    redirectUri: `${origin}/connect/callback`,
    scope: 'read_write',
    binding: ({ request }) => (who(request) ? String(who(request)?.driver.id) : undefined),
    authorize: ({ request }) => {
      // Prefills connectd's sign-up form with what the marketplace already knows.
      const driver = who(request)?.driver;
      return driver ? { stripeUser: { email: driver.email } } : {};
    },
    onConnected: (tokens: Tokens, { request }) => {
      const session = who(request);
      if (!session) return { status: 401, html: problemPage('Signed out', 'Your session ended while you were at connectd. Sign in and connect again.') };
      const id = session.driver.id;
      db.addStep(id, 'info', 'connectd sent you back', 'GET /connect/callback with a code and the state; the state matched your cookie (constant-time), so the code could be exchanged.');
      db.saveConnection({ driver_id: id, stripe_user_id: tokens.stripeUserId, scope: tokens.scope, livemode: tokens.livemode ? 1 : 0 });
      db.addStep(id, 'ok', `Connected ${tokens.stripeUserId}`, `POST /oauth/token (grant_type=authorization_code, with the platform's secret key) answered stripe_user_id=${tokens.stripeUserId}, scope=${tokens.scope}, livemode=${tokens.livemode}. The tokens are not stored: calls for you use the platform key with Stripe-Account.`);
      return { redirect: '/driver?done=connected' };
    },
    onDenied: (description, { request }) => {
      const session = who(request);
      if (session) db.addStep(session.driver.id, 'warn', 'You declined', `connectd redirected back with error=access_denied ("${description}"). No code, no token request.`);
      return { redirect: session ? '/driver?done=denied' : '/' };
    },
    onFailed: (failure, { request }) => {
      const session = who(request);
      const why = failure.state
        ? `The callback's state (${failure.state}) does not answer a connection this browser started, so no token request was made. This is what stops a forged link from connecting someone else's account to you.`
        : `connectd answered ${failure.error}: ${failure.description}`;
      if (session) db.addStep(session.driver.id, 'warn', failure.state ? 'Refused a callback' : 'Could not connect', why);
      return { status: 400, html: problemPage(failure.state ? 'This link cannot connect an account' : 'Could not connect', why, session) };
    },
    // The Accounts API path: a new account for the driver, onboarded through an Account Link.
    onboarding: {
      refreshUrl: `${origin}/payouts/refresh`,
      returnUrl: `${origin}/payouts/return`,
      accountFor: ({ request }) => {
        const session = who(request);
        const c = session ? db.connection(session.driver.id) : undefined;
        return c?.via === 'account_links' ? c.stripe_user_id : undefined;
      },
      newAccount: ({ request }) => {
        const driver = who(request)?.driver;
        // Prefilled: the onboarding pages do not ask again for what the platform already knows.
        return { email: driver?.email, business_profile: { name: driver?.name, product_description: 'Rides with Roadrunner Rides' }, metadata: { driver_id: String(driver?.id ?? '') } };
      },
      onAccountCreated: (account, { request }) => {
        const session = who(request);
        if (!session) return;
        db.saveConnection({ driver_id: session.driver.id, stripe_user_id: account.id, scope: 'read_write', livemode: config.secretKey.startsWith('sk_live_') ? 1 : 0, via: 'account_links' });
        db.addStep(session.driver.id, 'ok', `Created ${account.id}`, `POST /v1/accounts with the platform's secret key made a Standard account for you, connected to Roadrunner Rides at once (no OAuth), with your email and name prefilled. details_submitted=false until you finish onboarding.`);
      },
      onLink: (link, { request }) => {
        const session = who(request);
        if (!session) return;
        const lifetime = link.expiresAt - Math.floor(Date.now() / 1000);
        db.addStep(session.driver.id, 'info', link.refreshed ? 'Made you a new onboarding link' : 'Sent you to onboarding', `${link.refreshed ? 'connectd sent you to refresh_url (the last link was used or expired), so ' : ''}POST /v1/account_links made a single-use link to connectd's onboarding pages, valid for about ${Math.max(lifetime, 0)} seconds, and you were redirected to it.`);
      },
      onReturn: (account, { request }) => {
        const session = who(request);
        if (!session) return { redirect: '/' };
        db.addStep(session.driver.id, account.details_submitted ? 'ok' : 'warn', 'Back from onboarding', `connectd redirected to return_url, which carries nothing; GET /v1/account with Stripe-Account: ${account.id} answered details_submitted=${account.details_submitted}, charges_enabled=${account.charges_enabled}, payouts_enabled=${account.payouts_enabled}.`);
        return { redirect: account.details_submitted ? '/driver?done=onboarded' : '/driver?done=onboarding' };
      },
    },
    webhook: {
      secrets: config.webhookSecrets,
      // Each event once, by id, in the same transaction as its effect (db.ts handleDeauthorized).
      onEvent: (event) => {
        if (event.type === 'account.updated' && event.account) {
          const changed = Object.keys((event.data as { previous_attributes?: Record<string, unknown> }).previous_attributes ?? {});
          const a = event.data.object as { details_submitted?: boolean; charges_enabled?: boolean };
          db.handleAccountUpdated(event.id, event.account, 'connectd: account.updated', `Webhook ${event.id}, signature verified. Changed: ${changed.join(', ') || 'nothing'}; now details_submitted=${a.details_submitted}, charges_enabled=${a.charges_enabled}.`);
          return;
        }
        if (event.type !== 'account.application.deauthorized' || !event.account) return;
        const { driverId } = db.handleDeauthorized(event.id, event.created, event.account, event.livemode);
        if (driverId !== undefined) {
          db.addStep(driverId, 'warn', `Disconnected from connectd (${event.account})`, `Webhook ${event.type} (${event.id}), signature verified: the account revoked Roadrunner Rides' access, so the connection was removed here too.`);
        }
      },
    },
  });

  app.post('/disconnect', async (request, reply) => {
    const session = who(request);
    if (!session) return reply.redirect('/', 303);
    if (!csrfOk(request, session.csrf)) return page(reply, 403, problemPage('Refused', 'This form is out of date; reload the page and try again.', session));
    const connection = db.connection(session.driver.id);
    if (!connection) return reply.redirect('/driver', 303);
    let detail: string;
    try {
      await connect.deauthorize(connection.stripe_user_id);
      detail = `POST /oauth/deauthorize (client_id, stripe_user_id=${connection.stripe_user_id}) succeeded. connectd also sends account.application.deauthorized to the webhook; it finds nothing left to remove.`;
    } catch (err) {
      // "Not connected" means it is already over on connectd's side (its webhook may still be on
      // its way): done here too. Any other failure leaves the connection as it is.
      if (err instanceof ConnectOAuthError && err.code === 'invalid_client' && /not connected/.test(err.description)) {
        detail = `POST /oauth/deauthorize answered ${err.code}: ${err.description} The connection is removed here all the same.`;
      } else {
        const why = err instanceof ConnectOAuthError ? `${err.code}: ${err.description}` : `connectd could not be reached (${err instanceof Error ? err.message : String(err)})`;
        db.addStep(session.driver.id, 'warn', 'Could not disconnect', `POST /oauth/deauthorize failed, ${why}. Still connected; try again.`);
        return page(reply, 502, problemPage('Could not disconnect', `connectd did not end the connection (${why}). You are still connected; try again in a moment.`, session));
      }
    }
    db.removeConnection(connection.stripe_user_id, connection.livemode === 1);
    db.addStep(session.driver.id, 'ok', 'Disconnected here', detail);
    return reply.redirect('/driver?done=disconnected', 303);
  });

  return app;
}
