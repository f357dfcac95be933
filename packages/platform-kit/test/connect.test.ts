// platform-kit against a live connectd: real HTTP on loopback, both databases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createConnect, InvalidGrantError, memoryStateStore, StateError, type Connect } from '../src/index.ts';
import { A } from '../../server/test/support/fixtures.ts';
import { helperCode } from '../../server/test/support/flow.ts';
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
      const result = await connect.handleCallback({ code, scope: 'read_write', state }, (s) => states.consume('session-1', s));
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

    it('a forged or replayed state makes no token request; a denial is reported as denied', async () => {
      const states = memoryStateStore();
      const state = await states.issue('session-2');
      const before = calls.length;
      await assert.rejects(connect.handleCallback({ code: 'ac_anything', state: 'forged' }, (s) => states.consume('session-2', s)), StateError);
      await assert.rejects(connect.handleCallback({ code: 'ac_anything', state }, (s) => states.consume('session-2', s)), StateError);
      assert.equal(calls.length, before, 'no request to connectd');

      const fresh = await states.issue('session-3');
      const denied = await connect.handleCallback({ error: 'access_denied', error_description: 'The user denied your request', state: fresh }, (s) => states.consume('session-3', s));
      assert.deepEqual(denied, { kind: 'denied', description: 'The user denied your request' });
      assert.equal(calls.length, before);
    });
  });
}
