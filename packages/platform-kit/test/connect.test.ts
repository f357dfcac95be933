// platform-kit against a live connectd: real HTTP on loopback, both databases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { createConnect, InvalidGrantError, memoryStateStore, StateError, type Connect } from '../src/index.ts';
import { A } from '../../server/test/support/fixtures.ts';
import { connectNew, helperCode } from '../../server/test/support/flow.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../../server/test/support/server.ts';

for (const db of DB_KINDS) {
  describe(`platform-kit against connectd on ${db}`, () => {
    let server: TestServer;
    let connect: Connect;
    const calls: string[] = [];
    before(async () => {
      server = await startTestServer({ db });
      const counting: typeof fetch = (input, init) => {
        calls.push(String(input));
        return fetch(input, init);
      };
      connect = createConnect({ clientId: A.clientIdTest, secretKey: A.testSecret, connectBase: server.url, apiBase: server.url, fetch: counting });
    });
    after(() => server.close());

    it('builds an authorize URL connectd accepts, with the scheme and port of the base', async () => {
      const url = new URL(connect.authorizeUrl({ state: 's'.repeat(43), redirectUri: A.redirect, stripeUser: { email: 'driver@example.com' }, stripeLanding: 'register' }));
      assert.equal(url.origin, new URL(server.url).origin);
      assert.equal(url.searchParams.get('stripe_user[email]'), 'driver@example.com');
      const res = await fetch(url, { redirect: 'manual' });
      assert.equal(res.status, 303, await res.text());
      assert.match(res.headers.get('location') ?? '', /^\/oauth\/consent\//);
    });

    it('callback with the session state: connected; refresh rolls the tokens; deauthorize ends it', async () => {
      const states = memoryStateStore();
      const state = await states.issue('session-1');
      const { code, stripe_user_id } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest });
      const result = await connect.handleCallback({ code, scope: 'read_write', state }, { checkState: (s) => states.consume('session-1', s) });
      assert.equal(result.kind, 'connected');
      if (result.kind !== 'connected') return;
      assert.equal(result.stripeUserId, stripe_user_id);
      assert.equal(result.livemode, false);
      assert.match(result.accessToken, /^sk_test_/);
      assert.match(result.publishableKey, /^pk_test_/);
      // The access token works on /v1 as the connected account.
      const account = await fetch(`${server.url}/v1/account`, { headers: { authorization: `Bearer ${result.accessToken}` } });
      assert.equal(((await account.json()) as { id: string }).id, stripe_user_id);

      const rolled = await connect.refresh(result.refreshToken);
      assert.equal(rolled.stripeUserId, stripe_user_id);
      assert.notEqual(rolled.accessToken, result.accessToken);

      assert.deepEqual(await connect.deauthorize(stripe_user_id), { stripeUserId: stripe_user_id });
      const revoked = await fetch(`${server.url}/v1/account`, { headers: { authorization: `Bearer ${rolled.accessToken}` } });
      assert.equal(revoked.status, 401);
      await assert.rejects(connect.refresh(rolled.refreshToken), InvalidGrantError);
      // The code was single-use: exchanging it again is a typed invalid_grant.
      await assert.rejects(connect.exchange(code), (err: unknown) => err instanceof InvalidGrantError && err.status === 400);
    });

    it('callback with { expectedState }: the state the app kept for the session, compared in constant time', async () => {
      const { code, stripe_user_id } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, scope: 'read_only' });
      const before = calls.length;
      const fails = (reason: string) => (err: unknown) => err instanceof StateError && err.reason === reason;
      await assert.rejects(connect.handleCallback({ code, state: 'x'.repeat(43) }, { expectedState: 'y'.repeat(43) }), fails('mismatch'));
      await assert.rejects(connect.handleCallback({ code, state: 'x'.repeat(43) }, { expectedState: undefined }), fails('unknown'));
      await assert.rejects(connect.handleCallback({ code }, { expectedState: 'x'.repeat(43) }), fails('missing'));
      assert.equal(calls.length, before, 'no token request for a bad state');
      const result = await connect.handleCallback({ code, state: 'x'.repeat(43) }, { expectedState: 'x'.repeat(43) });
      assert.equal(result.kind === 'connected' && result.stripeUserId, stripe_user_id);
      assert.equal(result.kind === 'connected' && result.scope, 'read_only');
    });

    it('asAccount: calls carry Stripe-Account; reads and writes land in the connected account, within its scope', async () => {
      const rw = await connectNew(server.url, A);
      const asRw = connect.asAccount(rw.accountId);
      assert.equal((await asRw.accounts.retrieveCurrent()).id, rw.accountId);
      const customer = await asRw.customers.create({ email: 'rider@example.com' });
      assert.deepEqual((await asRw.customers.list()).data.map((c) => c.id), [customer.id]);
      // The platform's own key without the header sees neither.
      const platform = new Stripe(A.testSecret, { host: '127.0.0.1', port: new URL(server.url).port, protocol: 'http' });
      assert.equal((await platform.accounts.retrieveCurrent()).id, A.id);
      await assert.rejects(platform.customers.retrieve(customer.id), (err: unknown) => err instanceof Stripe.errors.StripeInvalidRequestError && err.statusCode === 404);

      const ro = await connectNew(server.url, A, 'read_only');
      const asRo = connect.asAccount(ro.accountId);
      assert.equal((await asRo.accounts.retrieveCurrent()).id, ro.accountId);
      await assert.rejects(asRo.customers.create({ email: 'x@example.com' }), (err: unknown) => err instanceof Stripe.errors.StripeError && err.statusCode === 403);

      // After deauthorize the platform may no longer act for the account.
      await connect.deauthorize(rw.accountId);
      await assert.rejects(asRw.accounts.retrieveCurrent(), (err: unknown) => err instanceof Stripe.errors.StripeError && [401, 403].includes(err.statusCode ?? 0));
      assert.throws(() => connect.asAccount('ca_notAnAccount'), TypeError);
    });

    it('Accounts API path: createAccount (Standard, connected at once), accountLink (single use), account', async () => {
      const created = await connect.createAccount({ email: 'driver-api@example.com', metadata: { driver: '7' } });
      assert.equal(created.type, 'standard');
      assert.equal(created.details_submitted, false);
      assert.equal(created.controller?.is_controller, true);
      const link = await connect.accountLink(created.id, { refreshUrl: 'http://127.0.0.1:4000/refresh', returnUrl: 'http://127.0.0.1:4000/return' });
      assert.ok(link.url.startsWith(`${server.url}/setup/s/${created.id}/`));
      assert.ok(link.expiresAt > Date.now() / 1000);
      const opened = await fetch(link.url, { redirect: 'manual' });
      assert.equal(opened.status, 303);
      assert.match(opened.headers.get('location') ?? '', /^\/setup\/onboarding\//);
      const again = await fetch(link.url, { redirect: 'manual' });
      assert.equal(again.headers.get('location'), 'http://127.0.0.1:4000/refresh');
      const read = await connect.account(created.id);
      assert.deepEqual(read.metadata, { driver: '7' });
      assert.deepEqual(read.requirements?.currently_due?.includes('external_account'), true);
      await assert.rejects(connect.accountLink('nope', { refreshUrl: 'http://x/r', returnUrl: 'http://x/y' }), TypeError);
    });

    it('a forged or replayed state makes no token request; a denial is reported as denied', async () => {
      const states = memoryStateStore();
      const state = await states.issue('session-2');
      const before = calls.length;
      await assert.rejects(connect.handleCallback({ code: 'ac_anything', state: 'forged' }, { checkState: (s) => states.consume('session-2', s) }), StateError);
      await assert.rejects(connect.handleCallback({ code: 'ac_anything', state }, { checkState: (s) => states.consume('session-2', s) }), StateError);
      assert.equal(calls.length, before, 'no request to connectd');

      const fresh = await states.issue('session-3');
      const denied = await connect.handleCallback({ error: 'access_denied', error_description: 'The user denied your request', state: fresh }, { checkState: (s) => states.consume('session-3', s) });
      assert.deepEqual(denied, { kind: 'denied', description: 'The user denied your request' });
      assert.equal(calls.length, before);
    });
  });
}
