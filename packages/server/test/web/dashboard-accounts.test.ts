// The platform dashboard's "Accounts you created" (docs/contract.md Part B §8.3): the accounts a
// platform made with POST /v1/accounts, their onboarding state, and "Create onboarding link", whose
// single-use URL is shown once and leads through onboarding back to the dashboard; the account
// holder's side (the platform under connected platforms, Disconnect with
// account.application.deauthorized); another platform refused. Real HTTP and a headless Chromium,
// on both databases.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import Stripe from 'stripe';
import { A, B, testSeed } from '../support/fixtures.ts';
import { FormClient } from '../support/flow.ts';
import { Receiver } from '../support/receiver.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';
import { sdk, webhooks } from '../support/stripe.ts';
import { waitUntil } from '../support/wait.ts';

const WHSEC = 'whsec_DashboardAccounts000000000000000';
const HOLDER_PASSWORD = 'the holder chose this passphrase';

for (const db of DB_KINDS) {
  describe(`platform dashboard: accounts created through the API (${db})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let browser: Browser;
    let stripe: Stripe;

    before(async () => {
      receiver = new Receiver();
      const hook = await receiver.start();
      const seed = testSeed();
      const platformA = seed.accounts.find((a) => a.id === A.id)?.platform;
      assert.ok(platformA);
      platformA.webhook_endpoints = [{ url: `${hook}/a`, secret: WHSEC }];
      server = await startTestServer({ db, seed });
      stripe = sdk(server, A.testSecret);
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await receiver?.stop();
    });

    async function withPage(fn: (page: Page) => Promise<void>): Promise<void> {
      const context = await browser.newContext();
      context.setDefaultTimeout(10_000);
      try {
        await fn(await context.newPage());
      } finally {
        await context.close();
      }
    }

    async function signIn(page: Page, email: string, password: string): Promise<void> {
      await page.goto(`${server.url}/login`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#account-id').waitFor();
    }

    const createdSection = (page: Page) => page.getByRole('region', { name: 'Accounts you created' });
    const rowOf = (page: Page, accountId: string): Locator => createdSection(page).getByRole('row').filter({ has: page.getByRole('rowheader', { name: accountId, exact: true }) });

    /** Clicks the row's button and returns the link the answer shows. */
    async function createLinkFor(page: Page, accountId: string): Promise<string> {
      await rowOf(page, accountId).getByRole('button', { name: 'Create onboarding link' }).click();
      const href = await page.locator('#onboarding-link').getAttribute('href');
      assert.ok(href);
      return href;
    }

    const deauthorizations = (account: string) =>
      receiver.received
        .filter((r) => r.path === '/a')
        .map((r) => webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), WHSEC))
        .filter((e) => e.type === 'account.application.deauthorized' && e.account === account);

    it('lists the accounts the platform created; a link made there onboards one in the browser and comes back', async () => {
      const first = await stripe.accounts.create({ type: 'standard', email: 'first@example.com', business_profile: { name: 'First Bikes' } });
      const second = await stripe.accounts.create({ type: 'standard' });
      const live = await sdk(server, A.liveSecret).accounts.create({ type: 'standard' });

      await withPage(async (page) => {
        await signIn(page, A.email, A.password);
        await page.goto(`${server.url}/dashboard/platform`);
        const one = rowOf(page, first.id);
        const two = rowOf(page, second.id);
        assert.equal(await one.count(), 1);
        assert.equal(await two.count(), 1);
        const firstCells = await one.getByRole('cell').allInnerTexts();
        assert.deepEqual(firstCells.slice(0, 5), ['first@example.com', 'First Bikes', 'Test', new Date((first.created ?? 0) * 1000).toISOString().slice(0, 10), 'Onboarding not started']);
        assert.match(await two.innerText(), /\(no email yet\)/);
        assert.match(await two.innerText(), /Onboarding not started/);
        assert.match(await rowOf(page, live.id).getByRole('cell').nth(2).innerText(), /^live$/i);

        const url = await createLinkFor(page, first.id);
        assert.match(url, new RegExp(`^${server.url}/setup/s/${first.id}/[A-Za-z0-9]{32}$`));
        const token = url.slice(url.lastIndexOf('/') + 1);
        assert.match(await page.locator('#new-link').innerText(), /valid for 5 minutes, opens once/);
        // Shown in the answer to the POST, never in a dashboard URL, a log line or the database.
        assert.equal(page.url(), `${server.url}/dashboard/platform/accounts/${first.id}/link`);
        assert.ok(!server.logs.some((l) => l.includes(token)), 'the token is not logged');
        if (server.sqlitePath) {
          const stored = ['', '-wal'].map((x) => `${server.sqlitePath}${x}`).filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')).join('');
          assert.ok(stored.length > 0 && !stored.includes(token), 'the token is not stored');
        }
        assert.match(await one.innerText(), /In progress \u2014 6 details due/);
        assert.match(await two.innerText(), /Onboarding not started/);

        // The platform opens it (or hands it on): the onboarding pages, then back to its settings.
        await page.getByRole('link', { name: url }).click();
        await page.getByRole('heading', { name: 'Set up your account for Platform A' }).waitFor();
        await page.getByRole('button', { name: 'Use test data and finish' }).click();
        await page.waitForURL(`${server.url}/dashboard/platform`);
        assert.match(await rowOf(page, first.id).innerText(), /Details submitted \u2014 charges and payouts enabled/);
        assert.match(await rowOf(page, second.id).innerText(), /Onboarding not started/);

        // Single use: a second visit goes to refresh_url, the same page.
        await page.goto(url);
        await page.waitForURL(`${server.url}/dashboard/platform`);
        assert.equal(await page.locator('#onboarding-link').count(), 0);
      });
      const done = await stripe.accounts.retrieve(first.id);
      assert.equal(done.details_submitted, true);
      assert.equal(done.charges_enabled, true);
    });

    it('the account holder sees the platform under connected platforms and disconnects it', async () => {
      const account = await stripe.accounts.create({ type: 'standard', email: 'holder@example.com' });
      await withPage(async (platform) => {
        await signIn(platform, A.email, A.password);
        await platform.goto(`${server.url}/dashboard/platform`);
        const url = await createLinkFor(platform, account.id);

        await withPage(async (holder) => {
          await holder.goto(url);
          await holder.getByRole('heading', { name: 'Your sign-in' }).waitFor();
          await holder.getByLabel('Password').fill(HOLDER_PASSWORD);
          await holder.getByRole('button', { name: 'Continue' }).click();
          await holder.getByRole('heading', { name: 'Your business' }).waitFor();
          await holder.getByRole('button', { name: 'Use test data and finish' }).click();
          // return_url is the platform's settings page, which sends a stranger to sign in.
          await holder.waitForURL(/\/login\?next=/);
          await signIn(holder, 'holder@example.com', HOLDER_PASSWORD);
          await holder.goto(`${server.url}/dashboard`);
          assert.equal(await holder.locator('#account-id').innerText(), account.id);
          const connected = holder.getByRole('region', { name: 'Connected platforms' });
          await connected.getByRole('button', { name: 'Disconnect Platform A' }).click();
          await holder.waitForURL(`${server.url}/dashboard?done=disconnected`);
          assert.match(await connected.innerText(), /No platform is connected to this account/);
        });

        const [event] = await waitUntil('account.application.deauthorized', () => (deauthorizations(account.id).length > 0 ? deauthorizations(account.id) : undefined));
        assert.equal((event?.data.object as { id: string }).id, A.clientIdTest);
        assert.equal(deauthorizations(account.id).length, 1);

        // The platform still lists the account it created, disconnected, with no link to make.
        await platform.goto(`${server.url}/dashboard/platform`);
        const row = rowOf(platform, account.id);
        assert.match(await row.innerText(), /Details submitted/);
        assert.match(await row.innerText(), /Disconnected/);
        assert.equal(await row.getByRole('button').count(), 0);
      });

      // Posting the form anyway is refused, with no link.
      const c = new FormClient(server.url);
      await c.login(A.email, A.password);
      const csrf = FormClient.csrfFrom((await c.get('/dashboard/platform')).text);
      const res = await c.post(`/dashboard/platform/accounts/${account.id}/link`, { _csrf: csrf });
      assert.equal(res.status, 400);
      assert.match(res.text, /no longer connected to your platform/);
      assert.doesNotMatch(res.text, /\/setup\/s\//);
    });

    it('another platform cannot make a link for an account this one created', async () => {
      const account = await stripe.accounts.create({ type: 'standard', email: 'not-for-b@example.com' });
      const b = new FormClient(server.url);
      await b.login(B.email, B.password);
      const page = await b.get('/dashboard/platform');
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.text, new RegExp(account.id), "B's page does not list A's accounts");
      const csrf = FormClient.csrfFrom(page.text);
      for (const id of [account.id, 'acct_NoSuchAccount0000', 'not-an-id']) {
        const res = await b.post(`/dashboard/platform/accounts/${id}/link`, { _csrf: csrf });
        assert.equal(res.status, 400, id);
        assert.match(res.text, /role="alert">No link was created: onboarding links can be made here only for accounts your platform created/);
        assert.doesNotMatch(res.text, /\/setup\/s\//);
      }
      // Without the form's token, nothing is even looked at.
      assert.equal((await b.post(`/dashboard/platform/accounts/${account.id}/link`, {})).status, 403);
      // No link was made: the platform may still set what the holder gives once a link exists (docs/contract.md Part B §8.2).
      await stripe.accounts.update(account.id, { business_type: 'company' });

      // The same form from A makes one, after which business_type is the holder's.
      const a = new FormClient(server.url);
      await a.login(A.email, A.password);
      const own = await a.post(`/dashboard/platform/accounts/${account.id}/link`, { _csrf: FormClient.csrfFrom((await a.get('/dashboard/platform')).text) });
      assert.equal(own.status, 200);
      assert.match(own.text, new RegExp(`id="onboarding-link" href="${server.url}/setup/s/${account.id}/[A-Za-z0-9]{32}"`));
      await assert.rejects(stripe.accounts.update(account.id, { business_type: 'individual' }), (err: unknown) => err instanceof Stripe.errors.StripeInvalidRequestError && err.param === 'business_type');
    });
  });
}
