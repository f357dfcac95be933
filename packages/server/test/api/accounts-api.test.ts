// The Accounts API and Account Links with stripe-node (docs/contract.md Part B §8): a platform
// creates Standard accounts (both spellings), reads, updates, links and deletes them; every refusal
// is the SDK's error class for it; account.updated reaches the platform's Connect endpoint signed,
// with previous_attributes matching the change. Both databases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { A, B, testSeed } from '../support/fixtures.ts';
import { Receiver } from '../support/receiver.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';
import { sdk, webhooks } from '../support/stripe.ts';
import { waitUntil } from '../support/wait.ts';

const WHSEC = 'whsec_AccountsApiTest00000000000000000';
const LONE = { id: 'acct_LoneMerchant000001', email: 'lone@example.com', testSecret: 'sk_test_LoneMerchant000000000000000000000000' };
const STANDARD_CONTROLLER = { fees: { payer: 'account' as const }, losses: { payments: 'stripe' as const }, requirement_collection: 'stripe' as const, stripe_dashboard: { type: 'full' as const } };

const invalid = (param: string) => (err: unknown) => err instanceof Stripe.errors.StripeInvalidRequestError && err.param === param;

for (const db of DB_KINDS) {
  describe(`Accounts API and Account Links with stripe-node (${db})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let stripe: Stripe;

    before(async () => {
      receiver = new Receiver();
      const hook = await receiver.start();
      const seed = testSeed();
      const platformA = seed.accounts.find((a) => a.id === A.id)?.platform;
      assert.ok(platformA);
      platformA.webhook_endpoints = [{ url: `${hook}/a`, secret: WHSEC }];
      seed.accounts.push({ id: LONE.id, email: LONE.email, password: 'lone-merchant-password', keys: { test_secret: LONE.testSecret } });
      server = await startTestServer({ db, seed });
      stripe = sdk(server, A.testSecret);
    });
    after(async () => {
      await server?.close();
      await receiver?.stop();
    });

    const events = (type: string, account: string) =>
      receiver.received.map((r) => webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), WHSEC)).filter((e) => e.type === type && e.account === account);

    it('creates a Standard account with type=standard: connected at once, nothing enabled, requirements due', async () => {
      const account = await stripe.accounts.create({
        type: 'standard',
        email: 'Rider@Example.com',
        country: 'FR',
        business_profile: { name: 'Rider Rentals', url: 'https://rider.example' },
        metadata: { driver_id: '42' },
      });
      assert.match(account.id, /^acct_/);
      assert.equal(account.object, 'account');
      assert.equal(account.type, 'standard');
      assert.equal(account.email, 'rider@example.com');
      assert.equal(account.country, 'FR');
      assert.equal(account.default_currency, 'eur');
      assert.deepEqual(account.metadata, { driver_id: '42' });
      assert.equal(account.details_submitted, false);
      assert.equal(account.charges_enabled, false);
      assert.equal(account.payouts_enabled, false);
      assert.deepEqual(account.requirements?.currently_due, ['business_profile.product_description', 'business_profile.support_phone', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip']);
      assert.equal(account.requirements?.disabled_reason, 'requirements.past_due');
      assert.deepEqual(account.controller, { ...STANDARD_CONTROLLER, is_controller: true, type: 'application' });
      // Connected to its creator: readable with Stripe-Account, listed beside OAuth connections.
      assert.equal((await stripe.accounts.retrieve(account.id)).id, account.id);
      assert.ok((await stripe.accounts.list({ limit: 100 })).data.some((a) => a.id === account.id));
      const customer = await stripe.customers.create({ email: 'c@example.com' }, { stripeAccount: account.id });
      assert.match(customer.id, /^cus_/);
    });

    it('creates the same with controller properties, or with nothing at all', async () => {
      const viaController = await stripe.accounts.create({ controller: STANDARD_CONTROLLER, email: 'c@example.com' });
      assert.equal(viaController.type, 'standard');
      assert.deepEqual(viaController.controller, { ...STANDARD_CONTROLLER, is_controller: true, type: 'application' });
      // Every controller default is a Standard value; the account takes the platform's country.
      const bare = await stripe.accounts.create();
      assert.equal(bare.type, 'standard');
      assert.equal(bare.country, 'US');
      assert.equal(bare.email, null);
    });

    it('refuses what is not a Standard account, both spellings at once, terms accepted for the holder, non-platforms', async () => {
      await assert.rejects(stripe.accounts.create({ type: 'standard', controller: STANDARD_CONTROLLER }), invalid('type'));
      await assert.rejects(stripe.accounts.create({ type: 'express' }), invalid('type'));
      await assert.rejects(stripe.accounts.create({ controller: { fees: { payer: 'application' } } }), invalid('controller[fees][payer]'));
      await assert.rejects(stripe.accounts.create({ controller: { stripe_dashboard: { type: 'none' } } }), invalid('controller[stripe_dashboard][type]'));
      await assert.rejects(stripe.accounts.create({ tos_acceptance: { date: 1, ip: '127.0.0.1' } }), invalid('tos_acceptance'));
      await assert.rejects(stripe.accounts.create({ business_profile: { url: 'not a url' } }), invalid('business_profile[url]'));
      await assert.rejects(stripe.accounts.create({ email: 'nope' }), invalid('email'));
      const some = await stripe.accounts.create({ type: 'standard' });
      await assert.rejects(stripe.accounts.create({ type: 'standard' }, { stripeAccount: some.id }), (err: unknown) => err instanceof Stripe.errors.StripePermissionError && /on behalf of their connected accounts/.test(err.message));
      await assert.rejects(sdk(server, LONE.testSecret).accounts.create({ type: 'standard' }), (err: unknown) => err instanceof Stripe.errors.StripeInvalidRequestError && /signed up for Connect/.test(err.message));
    });

    it('updates what a platform may change, and account.updated carries previous_attributes of exactly that', async () => {
      const account = await stripe.accounts.create({ type: 'standard', email: 'up@example.com', metadata: { tier: 'bronze' } });
      const updated = await stripe.accounts.update(account.id, { metadata: { tier: 'gold' }, business_profile: { product_description: 'Rides', support_phone: '+15555550100' } });
      assert.deepEqual(updated.metadata, { tier: 'gold' });
      assert.equal(updated.business_profile?.product_description, 'Rides');
      assert.deepEqual(updated.requirements?.currently_due, ['business_profile.url', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip']);
      await receiver.waitFor(1, 15_000, '/a');
      const event = await waitForEvent(() => events('account.updated', account.id)[0]);
      assert.equal((event.data.object as Stripe.Account).id, account.id);
      assert.deepEqual(event.data.previous_attributes, {
        business_profile: { product_description: null, support_phone: null },
        metadata: { tier: 'bronze' },
        requirements: {
          currently_due: ['business_profile.product_description', 'business_profile.support_phone', 'business_profile.url', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'],
          eventually_due: ['business_profile.product_description', 'business_profile.support_phone', 'business_profile.url', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'],
          past_due: ['business_profile.product_description', 'business_profile.support_phone', 'business_profile.url', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'],
        },
      });
      // Nothing visible changed: no event.
      await stripe.accounts.update(account.id, { metadata: { tier: 'gold' } });
      await assert.rejects(stripe.accounts.update(account.id, { tos_acceptance: { date: 1 } }), invalid('tos_acceptance'));
      // Another platform, or the account's own key, may not.
      await assert.rejects(sdk(server, B.testSecret).accounts.update(account.id, { metadata: { x: '1' } }), (err: unknown) => err instanceof Stripe.errors.StripePermissionError);
      assert.equal(events('account.updated', account.id).length, 1);
    });

    it('creates an Account Link: single-use URL for five minutes; business_type frozen from then on', async () => {
      const account = await stripe.accounts.create({ type: 'standard', business_type: 'individual' });
      const link = await stripe.accountLinks.create({ account: account.id, type: 'account_onboarding', refresh_url: 'http://127.0.0.1:4000/reauth', return_url: 'http://127.0.0.1:4000/return' });
      assert.equal(link.object, 'account_link');
      assert.equal(link.expires_at - link.created, 300);
      assert.ok(link.url.startsWith(`${server.url}/setup/s/${account.id}/`), link.url);
      await assert.rejects(stripe.accounts.update(account.id, { business_type: 'company' }), invalid('business_type'));
      // Still allowed after the link: metadata, business profile.
      await stripe.accounts.update(account.id, { metadata: { after: 'link' } });
    });

    it('refuses account_update links, http URLs in live mode, bad URLs and accounts not connected', async () => {
      const account = await stripe.accounts.create({ type: 'standard' });
      const urls = { refresh_url: 'https://p.example/reauth', return_url: 'https://p.example/return' };
      await assert.rejects(stripe.accountLinks.create({ account: account.id, type: 'account_update', ...urls }), (err: unknown) => invalid('type')(err) && /Stripe-hosted Dashboard/.test((err as Error).message));
      await assert.rejects(stripe.accountLinks.create({ account: account.id, type: 'account_onboarding', ...urls, return_url: 'nope' }), (err: unknown) => invalid('return_url')(err) && (err as Stripe.errors.StripeError).code === 'url_invalid');
      await assert.rejects(stripe.accountLinks.create({ account: 'acct_NotConnected0000', type: 'account_onboarding', ...urls }), (err: unknown) => invalid('account')(err) && /not connected to your platform/.test((err as Error).message));
      await assert.rejects(sdk(server, B.testSecret).accountLinks.create({ account: account.id, type: 'account_onboarding', ...urls }), invalid('account'));
      const live = sdk(server, A.liveSecret);
      const liveAccount = await live.accounts.create({ type: 'standard' });
      await assert.rejects(live.accountLinks.create({ account: liveAccount.id, type: 'account_onboarding', refresh_url: 'http://p.example/r', return_url: 'https://p.example/x' }), (err: unknown) => invalid('refresh_url')(err) && /via HTTPS/.test((err as Error).message));
      // A test-mode account is not the live key's.
      await assert.rejects(live.accountLinks.create({ account: account.id, type: 'account_onboarding', ...urls }), invalid('account'));
      const ok = await live.accountLinks.create({ account: liveAccount.id, type: 'account_onboarding', ...urls });
      assert.equal(ok.object, 'account_link');
      // Live Standard accounts cannot be deleted by their platform.
      await assert.rejects(live.accounts.del(liveAccount.id), (err: unknown) => err instanceof Stripe.errors.StripeInvalidRequestError && /not authorized to delete/.test((err as Error).message));
    });

    it('deletes a test account: deleted, connection ended with account.application.deauthorized, gone for the API', async () => {
      const account = await stripe.accounts.create({ type: 'standard', email: 'bye@example.com' });
      const deleted = await stripe.accounts.del(account.id);
      assert.deepEqual(deleted, { id: account.id, object: 'account', deleted: true });
      const event = await waitForEvent(() => events('account.application.deauthorized', account.id)[0]);
      assert.equal((event.data.object as { id: string }).id, A.clientIdTest);
      await assert.rejects(stripe.accounts.retrieve(account.id), (err: unknown) => err instanceof Stripe.errors.StripePermissionError);
      assert.ok(!(await stripe.accounts.list({ limit: 100 })).data.some((a) => a.id === account.id));
      await assert.rejects(stripe.accounts.del(account.id), (err: unknown) => err instanceof Stripe.errors.StripePermissionError);
      // An account connected through OAuth is not the platform's to delete.
      await assert.rejects(sdk(server, B.testSecret).accounts.del(account.id), (err: unknown) => err instanceof Stripe.errors.StripeError);
    });
  });
}

const waitForEvent = <T>(probe: () => T | undefined): Promise<T> => waitUntil('the event', probe);
