// Onboarding through an Account Link in a real headless Chromium (docs/contract.md Part B §8.3,
// §8.4): the full form step by step (progress kept, currently_due shrinking, account.updated at each
// change), the test-data button, a reused and an expired link landing on refresh_url, and the
// finished account signing in to its own dashboard.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import type Stripe from 'stripe';
import { ManualClock } from '../../src/domain/clock.ts';
import { A, testSeed } from '../support/fixtures.ts';
import { Receiver } from '../support/receiver.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';
import { sdk, webhooks } from '../support/stripe.ts';
import { waitUntil } from '../support/wait.ts';

const WHSEC = 'whsec_OnboardingBrowser0000000000000000';

for (const db of DB_KINDS) describe(`onboarding through an Account Link in a real browser (${db})`, () => {
  let server: TestServer;
  let receiver: Receiver;
  let platformUrl: string;
  let browser: Browser;
  let stripe: Stripe;
  const clock = new ManualClock(Math.floor(Date.now() / 1000));

  before(async () => {
    receiver = new Receiver();
    platformUrl = await receiver.start();
    const seed = testSeed();
    const platformA = seed.accounts.find((a) => a.id === A.id)?.platform;
    assert.ok(platformA);
    platformA.webhook_endpoints = [{ url: `${platformUrl}/hooks`, secret: WHSEC }];
    server = await startTestServer({ db, seed, clock });
    stripe = sdk(server, A.testSecret);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.stop();
  });

  const link = (account: string) => stripe.accountLinks.create({ account, type: 'account_onboarding', refresh_url: `${platformUrl}/refresh`, return_url: `${platformUrl}/return` });
  const updates = (account: string) =>
    receiver.received
      .filter((r) => r.path === '/hooks')
      .map((r) => webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), WHSEC))
      .filter((e) => e.type === 'account.updated' && e.account === account);

  async function withPage(fn: (page: Page) => Promise<void>): Promise<void> {
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    try {
      await fn(await context.newPage());
    } finally {
      await context.close();
    }
  }

  it('the full form: sign-in, business, bank, terms; progress kept, requirements shrinking, then return_url', async () => {
    const email = `onboard-${db}@example.com`;
    const account = await stripe.accounts.create({ type: 'standard', email });
    const { url } = await link(account.id);
    await withPage(async (page) => {
      await page.goto(url);
      await page.getByRole('heading', { name: 'Set up your account for Platform A' }).waitFor();
      assert.equal(await page.getByRole('heading', { name: 'Your sign-in' }).count(), 1);
      assert.equal(await page.getByLabel('Email').inputValue(), email);
      await page.getByLabel('Password').fill('a long enough passphrase');
      await page.getByRole('button', { name: 'Continue' }).click();

      await page.getByRole('heading', { name: 'Your business' }).waitFor();
      await page.getByLabel('Company').check();
      await page.getByLabel('Business name').fill('Onboard Bikes');
      await page.getByLabel('Business website').fill('https://bikes.example');
      await page.getByLabel('What do you sell?').fill('Bike rentals');
      // A bad phone number is refused with the form kept.
      await page.getByLabel('Support phone number').fill('call me');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('alert').waitFor();
      assert.equal(await page.getByLabel('Business name').inputValue(), 'Onboard Bikes');
      await page.getByLabel('Support phone number').fill('+1 555 555 0100');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Payouts' }).waitFor();

      // Progress is kept: the platform sees what is still due.
      const midway = await stripe.accounts.retrieve(account.id);
      assert.deepEqual(midway.requirements?.currently_due, ['external_account', 'tos_acceptance.date', 'tos_acceptance.ip']);
      assert.equal(midway.business_type, 'company');
      assert.equal(midway.details_submitted, false);

      await page.getByRole('button', { name: 'Continue' }).click(); // the test numbers are prefilled
      await page.getByRole('heading', { name: 'Review and submit' }).waitFor();
      await page.getByLabel(/I agree to the connectd Services Agreement/).check();
      await page.getByRole('button', { name: 'Agree and submit' }).click();
      await page.waitForURL(`${platformUrl}/return`);
    });
    const done = await stripe.accounts.retrieve(account.id);
    assert.equal(done.details_submitted, true);
    assert.equal(done.charges_enabled, true);
    assert.equal(done.payouts_enabled, true);
    assert.deepEqual(done.requirements?.currently_due, []);
    assert.equal(done.tos_acceptance?.ip, '127.0.0.1');
    assert.equal(done.external_accounts?.data[0]?.last4, '6789');
    // account.updated at each change, the last one with what finishing changed.
    // The business, the bank account, the submission (the sign-in step changed nothing the platform sees).
    const events = await waitUntil('account.updated events', () => (updates(account.id).length >= 3 ? updates(account.id) : undefined));
    assert.equal(events.length, 3);
    const last = events.find((e) => (e.data.object as Stripe.Account).details_submitted);
    assert.ok(last);
    assert.deepEqual(last.data.previous_attributes, {
      capabilities: { card_payments: 'inactive', transfers: 'inactive' },
      charges_enabled: false,
      details_submitted: false,
      payouts_enabled: false,
      requirements: { currently_due: ['tos_acceptance.date', 'tos_acceptance.ip'], disabled_reason: 'requirements.past_due', eventually_due: ['tos_acceptance.date', 'tos_acceptance.ip'], past_due: ['tos_acceptance.date', 'tos_acceptance.ip'] },
      tos_acceptance: { date: null, ip: null, user_agent: null },
    });

    // The finished account signs in to its own dashboard, where the platform is listed.
    await withPage(async (page) => {
      await page.goto(`${server.url}/login`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('a long enough passphrase');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#account-id').waitFor();
      assert.equal(await page.locator('#account-id').innerText(), account.id);
      assert.equal(await page.getByRole('button', { name: 'Disconnect Platform A' }).count(), 1);
    });
  });

  it('the test-data button fills everything and finishes at once', async () => {
    const account = await stripe.accounts.create({ type: 'standard' });
    const { url } = await link(account.id);
    await withPage(async (page) => {
      await page.goto(url);
      await page.getByRole('button', { name: 'Use test data and finish' }).click();
      await page.waitForURL(`${platformUrl}/return`);
    });
    const done = await stripe.accounts.retrieve(account.id);
    assert.equal(done.details_submitted, true);
    assert.equal(done.charges_enabled, true);
    assert.deepEqual(done.requirements?.currently_due, []);
  });

  it('a reused link, an expired link and an ended session all land on refresh_url', async () => {
    const account = await stripe.accounts.create({ type: 'standard' });
    const first = await link(account.id);
    const token = first.url.split('/').at(-1) ?? '';
    await withPage(async (page) => {
      await page.goto(first.url);
      await page.getByRole('heading', { name: 'Your sign-in' }).waitFor();
      // A second visit (a refresh of the link, another tab) is over.
      await page.goto(first.url);
      await page.waitForURL(`${platformUrl}/refresh`);
    });
    // The link's token is a secret: the request log has the path with it redacted.
    assert.ok(token.length === 32 && !server.logs.some((l) => l.includes(token)), 'the link token is not logged');
    assert.ok(server.logs.some((l) => l.includes(`/setup/s/${account.id}/[redacted]`)));
    // Another browser cannot use the onboarding pages the first one opened.
    const second = await link(account.id);
    let onboardingUrl = '';
    await withPage(async (page) => {
      await page.goto(second.url);
      await page.getByRole('heading', { name: 'Your sign-in' }).waitFor();
      onboardingUrl = page.url();
    });
    await withPage(async (page) => {
      await page.goto(onboardingUrl);
      await page.waitForURL(`${platformUrl}/refresh`);
    });
    // Five minutes later an unopened link has expired.
    const third = await link(account.id);
    clock.advance(301);
    await withPage(async (page) => {
      await page.goto(third.url);
      await page.waitForURL(`${platformUrl}/refresh`);
    });
    // A link that was never issued is an error page, not a redirect.
    await withPage(async (page) => {
      const res = await page.goto(`${server.url}/setup/s/${account.id}/${'x'.repeat(32)}`);
      assert.equal(res?.status(), 404);
      await page.getByRole('heading', { name: 'Link not valid' }).waitFor();
    });
  });
});
