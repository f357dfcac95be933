// The official stripe npm SDK as an oracle against a live connectd (issue 2, "Tests that must exist").
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { A, B, M } from '../support/fixtures.ts';
import { codeFrom, FormClient, helperCode } from '../support/flow.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { sdk } from '../support/stripe.ts';
import { ManualClock } from '../../src/domain/clock.ts';

describe('stripe-node against connectd', () => {
  let server: TestServer;
  const clock = new ManualClock(Math.floor(Date.now() / 1000));
  before(async () => {
    server = await startTestServer({ clock });
  });
  after(() => server.close());

  it('exchanges a code, refreshes, and deauthorizes', async () => {
    const stripe = sdk(server, A.testSecret);
    stripe.setClientId(A.clientIdTest);
    const { code, stripe_user_id } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, scope: 'read_write' });

    const token = await stripe.oauth.token({ grant_type: 'authorization_code', code });
    assert.equal(token.stripe_user_id, stripe_user_id);
    assert.equal(token.scope, 'read_write');
    assert.equal(token.livemode, false);
    assert.equal(token.token_type, 'bearer');
    assert.match(token.access_token ?? '', /^sk_test_/);
    assert.match(token.refresh_token ?? '', /^rt_[A-Za-z0-9]{48}$/);
    assert.match(token.stripe_publishable_key ?? '', /^pk_test_/);
    assert.deepEqual(Object.keys(token).filter((k) => k !== 'lastResponse'), [
      'access_token', 'livemode', 'refresh_token', 'token_type', 'stripe_publishable_key', 'stripe_user_id', 'scope',
    ]);

    // The access token acts as the connected account.
    const asAccount = await sdk(server, token.access_token ?? '').accounts.retrieveCurrent();
    assert.equal(asAccount.id, stripe_user_id);

    const refreshed = await stripe.oauth.token({ grant_type: 'refresh_token', refresh_token: token.refresh_token ?? '', scope: 'read_only' });
    assert.equal(refreshed.scope, 'read_only');
    assert.equal(refreshed.refresh_token, token.refresh_token, 'refresh tokens are not rotated');
    assert.notEqual(refreshed.access_token, token.access_token);

    const res = await stripe.oauth.deauthorize({ stripe_user_id });
    assert.equal(res.stripe_user_id, stripe_user_id);
    await assert.rejects(sdk(server, token.access_token ?? '').accounts.retrieveCurrent(), (e: unknown) => e instanceof Stripe.errors.StripeAuthenticationError);
    await assert.rejects(
      stripe.oauth.deauthorize({ stripe_user_id }),
      (e: unknown) => e instanceof Stripe.errors.StripeInvalidClientError && /is not connected to stripe account/.test(e.message),
    );
  });

  it('authorizeUrl() works once the origin is repaired (it drops port and scheme)', async () => {
    const stripe = sdk(server, A.testSecret);
    stripe.setClientId(A.clientIdTest);
    const url = new URL(stripe.oauth.authorizeUrl({ state: 'xyz', redirect_uri: A.redirect }));
    assert.equal(url.protocol, 'https:');
    const base = new URL(server.url);
    url.protocol = 'http:';
    url.port = base.port;
    const client = new FormClient(server.url);
    await client.login(M.email, M.password);
    const location = await client.connect(Object.fromEntries(url.searchParams));
    const back = new URL(location);
    assert.equal(back.origin + back.pathname, A.redirect);
    assert.equal(back.searchParams.get('scope'), 'read_write');
    assert.equal(back.searchParams.get('state'), 'xyz');
    const token = await stripe.oauth.token({ grant_type: 'authorization_code', code: codeFrom(location) });
    assert.equal(token.stripe_user_id, M.id);
  });

  describe('error classes', () => {
    const platform = () => sdk(server, A.testSecret);

    it('StripeInvalidGrantError for an unknown code', async () => {
      await assert.rejects(platform().oauth.token({ grant_type: 'authorization_code', code: 'ac_doesnotexist' }), (e: unknown) => {
        assert.ok(e instanceof Stripe.errors.StripeInvalidGrantError);
        assert.equal(e.message, 'Authorization code does not exist: ac_doesnotexist');
        assert.equal(e.statusCode, 400);
        assert.match(e.requestId ?? '', /^req_[A-Za-z0-9]{14}$/);
        return true;
      });
    });

    it('StripeInvalidGrantError for a foreign code, which is not burnt', async () => {
      const { code } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest });
      await assert.rejects(sdk(server, B.testSecret).oauth.token({ grant_type: 'authorization_code', code }), (e: unknown) =>
        e instanceof Stripe.errors.StripeInvalidGrantError && e.message === 'Authorization code provided does not belong to you',
      );
      const ok = await platform().oauth.token({ grant_type: 'authorization_code', code });
      assert.equal(ok.scope, 'read_only');
    });

    it('StripeInvalidGrantError for a replayed code, and the first tokens are revoked', async () => {
      const { code } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, scope: 'read_write' });
      const first = await platform().oauth.token({ grant_type: 'authorization_code', code });
      await assert.rejects(platform().oauth.token({ grant_type: 'authorization_code', code }), (e: unknown) =>
        e instanceof Stripe.errors.StripeInvalidGrantError &&
        e.message === 'This authorization code has already been used. All tokens issued with this code have been revoked.',
      );
      await assert.rejects(sdk(server, first.access_token ?? '').accounts.retrieveCurrent(), Stripe.errors.StripeAuthenticationError);
      await assert.rejects(
        platform().oauth.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token ?? '' }),
        Stripe.errors.StripeInvalidGrantError,
      );
    });

    it('StripeInvalidGrantError for an expired code', async () => {
      const { code } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest });
      clock.advance(301);
      await assert.rejects(platform().oauth.token({ grant_type: 'authorization_code', code }), (e: unknown) =>
        e instanceof Stripe.errors.StripeInvalidGrantError && e.message === 'Authorization code expired',
      );
    });

    it('StripeInvalidGrantError for a test code with a live key', async () => {
      const { code } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest });
      await assert.rejects(sdk(server, A.liveSecret).oauth.token({ grant_type: 'authorization_code', code }), (e: unknown) =>
        e instanceof Stripe.errors.StripeInvalidGrantError &&
        e.message === 'Passed in livemode API key but authorization code only supports returning test keys',
      );
    });

    it('StripeInvalidClientError for an unknown key', async () => {
      await assert.rejects(sdk(server, 'sk_test_unknownkey1234').oauth.token({ grant_type: 'authorization_code', code: 'ac_x' }), (e: unknown) => {
        assert.ok(e instanceof Stripe.errors.StripeInvalidClientError);
        assert.equal(e.statusCode, 401);
        assert.ok(!e.message.includes('unknownkey'), 'the key is masked');
        return true;
      });
    });

    it('StripeInvalidScopeError when a refresh widens the scope', async () => {
      const { code } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, scope: 'read_only' });
      const t = await platform().oauth.token({ grant_type: 'authorization_code', code });
      await assert.rejects(
        platform().oauth.token({ grant_type: 'refresh_token', refresh_token: t.refresh_token ?? '', scope: 'read_write' }),
        Stripe.errors.StripeInvalidScopeError,
      );
    });

    it('StripeUnsupportedGrantTypeError', async () => {
      await assert.rejects(
        platform().oauth.token({ grant_type: 'password' as 'authorization_code', code: 'x' }),
        (e: unknown) => e instanceof Stripe.errors.StripeUnsupportedGrantTypeError && e.message === 'Unsupported grant_type: password',
      );
    });

    it('StripeOAuthInvalidRequestError for a missing code', async () => {
      await assert.rejects(
        platform().oauth.token({ grant_type: 'authorization_code' } as Stripe.OAuthTokenParams),
        (e: unknown) => e instanceof Stripe.errors.StripeOAuthInvalidRequestError && e.message === 'No code provided',
      );
    });
  });
});
