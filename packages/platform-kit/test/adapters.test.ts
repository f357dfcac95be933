// The Express and Fastify adapters against a live connectd: start sets the state cookie and sends
// the user to the authorize page; the callback exchanges the code only with the right state and
// cookie; the webhook route takes connectd's real, signed account.application.deauthorized
// delivery once, and refuses a forged one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { mountConnect } from '../src/adapters/express.ts';
import { fastifyConnect } from '../src/adapters/fastify.ts';
import { createConnect, eventDeduper, type ConnectRoutesOptions, type Tokens, type WebhookEvent } from '../src/index.ts';
import { A, testSeed } from '../../server/test/support/fixtures.ts';
import { helperCode } from '../../server/test/support/flow.ts';
import { freePort, startTestServer, type TestServer } from '../../server/test/support/server.ts';
import { waitUntil } from '../../server/test/support/wait.ts';

const WEBHOOK_SECRET = 'whsec_AdapterTest0000000000000000000000';
const STATE_SECRET = 's'.repeat(40);

interface Harness {
  created?: string;
  links: string[];
  connected: Tokens[];
  failures: string[];
  events: WebhookEvent[];
  tokenRequests: () => number;
}

type Mount = (port: number, options: ConnectRoutesOptions<unknown>) => Promise<() => Promise<void>>;

const ADAPTERS: Record<string, Mount> = {
  express: async (port, options) => {
    const app = express();
    mountConnect(app, options);
    const server = app.listen(port, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return () => new Promise<void>((resolve) => server.close(() => resolve()));
  },
  fastify: async (port, options) => {
    const app = Fastify();
    await app.register(fastifyConnect, options);
    await app.listen({ port, host: '127.0.0.1' });
    return () => app.close();
  },
};

for (const [name, mount] of Object.entries(ADAPTERS)) {
  describe(`platform-kit ${name} adapter against connectd`, () => {
    let server: TestServer;
    let appUrl: string;
    let close: () => Promise<void>;
    const h: Harness = { links: [], connected: [], failures: [], events: [], tokenRequests: () => 0 };

    before(async () => {
      const port = await freePort();
      appUrl = `http://127.0.0.1:${port}`;
      const seed = testSeed();
      const platform = seed.accounts[0]?.platform;
      assert.ok(platform);
      platform.redirect_uris = [...(platform.redirect_uris ?? []), `${appUrl}/connect/callback`];
      platform.webhook_endpoints = [{ url: `${appUrl}/connect/webhooks`, secret: WEBHOOK_SECRET }];
      server = await startTestServer({ seed, args: ['--webhook-retry', 'fast'] });
      let tokenRequests = 0;
      h.tokenRequests = () => tokenRequests;
      const connect = createConnect({
        clientId: A.clientIdTest,
        secretKey: A.testSecret,
        connectBase: server.url,
        apiBase: server.url,
        fetch: (input, init) => {
          tokenRequests++;
          return fetch(input, init);
        },
      });
      close = await mount(port, {
        connect,
        stateSecret: STATE_SECRET,
        redirectUri: `${appUrl}/connect/callback`,
        authorize: () => ({ stripeUser: { email: 'driver@example.com' } }),
        onConnected: (tokens) => {
          h.connected.push(tokens);
          return { redirect: '/done' };
        },
        onFailed: (f) => {
          h.failures.push(f.state ?? f.error);
          return { status: 400, html: `<p>${f.error}</p>` };
        },
        onboarding: {
          refreshUrl: `${appUrl}/payouts/refresh`,
          returnUrl: `${appUrl}/payouts/return`,
          accountFor: () => h.created,
          newAccount: () => ({ email: 'onboarding@example.com' }),
          onAccountCreated: (account) => {
            h.created = account.id;
          },
          onLink: (link) => {
            h.links.push(link.refreshed ? 'refreshed' : 'first');
          },
          onReturn: (account) => ({ html: `<p>${account.id} details_submitted=${account.details_submitted}</p>` }),
        },
        webhook: {
          secrets: ['whsec_OldSecret0000000000000000000000', WEBHOOK_SECRET],
          seen: eventDeduper(),
          onEvent: (event) => {
            h.events.push(event);
          },
        },
      });
    });
    after(async () => {
      await close?.();
      await server?.close();
    });

    async function start(): Promise<{ state: string; cookie: string; location: URL; setCookie: string }> {
      const res = await fetch(`${appUrl}/connect/start`, { redirect: 'manual' });
      assert.equal(res.status, 303);
      const location = new URL(res.headers.get('location') ?? '');
      const setCookie = res.headers.get('set-cookie') ?? '';
      return { state: location.searchParams.get('state') ?? '', cookie: setCookie.split(';')[0] ?? '', location, setCookie };
    }

    it('start: a 303 to connectd with a fresh state in an HttpOnly cookie scoped to the callback', async () => {
      const a = await start();
      const b = await start();
      assert.equal(a.location.origin + a.location.pathname, `${server.url}/oauth/authorize`);
      assert.equal(a.location.searchParams.get('client_id'), A.clientIdTest);
      assert.equal(a.location.searchParams.get('redirect_uri'), `${appUrl}/connect/callback`);
      assert.equal(a.location.searchParams.get('stripe_user[email]'), 'driver@example.com');
      assert.ok(a.state.length >= 22, 'at least 128 bits');
      assert.notEqual(a.state, b.state);
      assert.match(a.setCookie, /^connect_state=[^;]+; Max-Age=600; Path=\/connect\/callback; HttpOnly; SameSite=Lax$/);
      // connectd accepts the URL as built.
      const authorize = await fetch(a.location, { redirect: 'manual' });
      assert.equal(authorize.status, 303);
    });

    it('callback: a forged state, or no cookie, is refused without a token request; the right one connects once', async () => {
      const { state, cookie } = await start();
      const { code, stripe_user_id } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest });
      const before = h.tokenRequests();
      const forged = await fetch(`${appUrl}/connect/callback?code=${code}&scope=read_write&state=forged${state.slice(6)}`, { headers: { cookie }, redirect: 'manual' });
      assert.equal(forged.status, 400);
      const noCookie = await fetch(`${appUrl}/connect/callback?code=${code}&scope=read_write&state=${state}`, { redirect: 'manual' });
      assert.equal(noCookie.status, 400);
      assert.deepEqual(h.failures.slice(-2), ['mismatch', 'unknown']);
      assert.equal(h.tokenRequests(), before, 'no token request');

      const ok = await fetch(`${appUrl}/connect/callback?code=${code}&scope=read_write&state=${state}`, { headers: { cookie }, redirect: 'manual' });
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.get('location'), '/done');
      assert.match(ok.headers.get('set-cookie') ?? '', /^connect_state=; Max-Age=0;/);
      assert.equal(h.connected.at(-1)?.stripeUserId, stripe_user_id);
      // The state was used up: the same callback again is refused before any token request.
      const again = await fetch(`${appUrl}/connect/callback?code=${code}&scope=read_write&state=${state}`, { headers: { cookie }, redirect: 'manual' });
      assert.equal(again.status, 400);
      assert.equal(h.failures.at(-1), 'unknown');
      assert.equal(h.tokenRequests(), before + 1);
    });

    it('callback: a denial reaches onDenied (default page), with no token request', async () => {
      const { state, cookie } = await start();
      const before = h.tokenRequests();
      const res = await fetch(`${appUrl}/connect/callback?error=access_denied&error_description=The+user+denied+your+request&state=${state}`, { headers: { cookie } });
      assert.equal(res.status, 200);
      assert.match(await res.text(), /The user denied your request/);
      assert.equal(h.tokenRequests(), before);
    });

    it('onboarding: start creates the account once and sends to a link; refresh makes another; return reads the account', async () => {
      const noAccount = await fetch(`${appUrl}/payouts/return`);
      assert.equal(noAccount.status, 400);
      const first = await fetch(`${appUrl}/connect/onboard`, { method: 'POST', redirect: 'manual' });
      assert.equal(first.status, 303);
      assert.match(h.created ?? '', /^acct_/);
      assert.ok(first.headers.get('location')?.startsWith(`${server.url}/setup/s/${h.created}/`));
      const created = h.created;
      const second = await fetch(`${appUrl}/connect/onboard`, { method: 'POST', redirect: 'manual' });
      assert.equal(h.created, created, 'the same account, a new link');
      assert.notEqual(second.headers.get('location'), first.headers.get('location'));
      // connectd sends a used link to refresh_url; the app answers with a fresh link.
      await fetch(first.headers.get('location') ?? '', { redirect: 'manual' });
      const used = await fetch(first.headers.get('location') ?? '', { redirect: 'manual' });
      assert.equal(used.headers.get('location'), `${appUrl}/payouts/refresh`);
      const refreshed = await fetch(`${appUrl}/payouts/refresh`, { redirect: 'manual' });
      assert.equal(refreshed.status, 303);
      assert.ok(refreshed.headers.get('location')?.startsWith(`${server.url}/setup/s/${created}/`));
      assert.deepEqual(h.links, ['first', 'first', 'refreshed']);
      const back = await fetch(`${appUrl}/payouts/return`);
      assert.equal(await back.text(), `<p>${created} details_submitted=false</p>`);
    });

    it("webhook: connectd's signed deauthorization is taken once; a forged or unsigned one is refused", async () => {
      const account = h.connected.at(-1)?.stripeUserId;
      assert.ok(account);
      await createConnect({ clientId: A.clientIdTest, secretKey: A.testSecret, connectBase: server.url }).deauthorize(account);
      const event = await waitUntil('the deauthorization webhook', () => h.events.find((e) => e.type === 'account.application.deauthorized' && e.account === account));
      assert.equal(event.livemode, false);

      const body = JSON.stringify({ id: 'evt_forged', type: 'account.application.deauthorized', account });
      const forged = await fetch(`${appUrl}/connect/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` }, body });
      assert.equal(forged.status, 400);
      assert.equal(((await forged.json()) as { reason: string }).reason, 'no_match');
      const unsigned = await fetch(`${appUrl}/connect/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(unsigned.status, 400);
      assert.equal(h.events.filter((e) => e.id === 'evt_forged').length, 0);
      // Beyond 1 MiB the body is not read: 413 from Express, as from Fastify's default limit.
      const huge = await fetch(`${appUrl}/connect/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' }, body: 'x'.repeat(1024 * 1024 + 1) });
      assert.equal(huge.status, 413);
      assert.equal(h.events.filter((e) => e.id === event.id).length, 1);
    });
  });
}
