// End to end in headless Chromium: `npm run demo` (scripts/demo.mjs) starts connectd and Roadrunner
// Rides as two processes wired by the seed file; a driver connects through the demo (registering on
// connectd), disconnects from connectd's dashboard (the demo learns it from the webhook), connects
// again and disconnects from the demo. Another driver onboards a new account through an Account
// Link. A callback with a forged state is refused with no token request: the code it carried is
// still unused afterwards.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../server/test/support/browser.ts';
import Stripe from 'stripe';
import { freePort } from '../../server/test/support/server.ts';
import { waitUntil } from '../../server/test/support/wait.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const SEED = JSON.parse(readFileSync(join(ROOT, 'packages/demo-platform/connectd-seed.json'), 'utf8')) as {
  accounts: { keys?: { test_secret?: string }; platform?: { name: string; client_id_test: string } }[];
};
const PLATFORM = SEED.accounts.find((a) => a.platform);
const unique = () => Math.random().toString(36).slice(2, 10);

let launcher: ChildProcess | undefined;
// The launcher stops both servers on SIGTERM; if this file ends early, they must not outlive it.
process.on('exit', () => launcher?.kill('SIGTERM'));

describe('the demo platform in a real browser (npm run demo)', () => {
  let data: string;
  let demoUrl: string;
  let connectdUrl: string;
  let browser: Browser;
  let output = '';

  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'connectd-demo-'));
    const [port, connectdPort] = [await freePort(), await freePort()];
    demoUrl = `http://127.0.0.1:${port}`;
    connectdUrl = `http://127.0.0.1:${connectdPort}`;
    launcher = spawn(process.execPath, ['scripts/demo.mjs', '--port', String(port), '--connectd-port', String(connectdPort), '--data', data], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    launcher.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    launcher.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitUntil('npm run demo to print its banner', () => (output.includes('Ctrl-C stops both') ? true : launcher?.exitCode !== null ? Promise.reject(new Error(`the demo stopped:\n${output}`)) : undefined), 90_000);
    assert.match(output, new RegExp(`Roadrunner Rides \\(demo platform\\)\\s+${demoUrl}`));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (launcher && launcher.exitCode === null) {
      const exited = new Promise((resolve) => launcher?.once('exit', resolve));
      launcher.kill('SIGTERM');
      await exited;
    }
    if (data) rmSync(data, { recursive: true, force: true });
  });

  async function signInToDemo(page: Page, name: string, email: string): Promise<void> {
    await page.goto(demoUrl);
    await page.getByLabel('Your name').fill(name);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Sign in as a driver' }).click();
    await page.getByRole('heading', { name: `Hi ${name}` }).waitFor();
  }

  const steps = (page: Page) => page.locator('ol.steps .title').allInnerTexts();

  it('a driver connects, is disconnected from the connectd dashboard (webhook), connects again and disconnects from the demo', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    try {
      const page = await context.newPage();
      const email = `dana-${unique()}@example.com`;
      await signInToDemo(page, 'Dana Driver', email);
      await page.getByText('Not connected').waitFor();

      // Connect with Stripe: to connectd, where the driver registers (email prefilled by the demo).
      await page.getByRole('link', { name: 'Connect with Stripe' }).click();
      await page.getByRole('heading', { name: 'Create an account to connect' }).waitFor();
      assert.ok(page.url().startsWith(`${connectdUrl}/oauth/consent/`));
      assert.equal(await page.getByLabel('Email').inputValue(), email);
      await page.getByLabel('Password').fill('a long enough passphrase');
      await page.getByLabel('Business name').fill("Dana's Rides");
      await page.getByRole('button', { name: 'Create account' }).click();
      assert.equal(await page.getByRole('heading', { name: PLATFORM?.platform?.name ?? '' }).count(), 1);
      await page.getByRole('button', { name: 'Connect my account' }).click();

      // Back on the demo: connected, with the account fetched through Stripe-Account.
      await page.waitForURL(`${demoUrl}/driver?done=connected`);
      await page.getByText('Connected', { exact: true }).waitFor();
      const accountId = await page.getByTestId('account-id').innerText();
      assert.match(accountId, /^acct_[A-Za-z0-9]+$/);
      assert.equal(await page.locator('dt:has-text("Business name") + dd').innerText(), "Dana's Rides");
      assert.equal(await page.locator('dt:has-text("Email") + dd').innerText(), email);
      assert.deepEqual((await steps(page)).slice(0, 3), [`Connected ${accountId}`, 'connectd sent you back', 'Sent you to connectd']);

      // Disconnect from connectd's dashboard (the driver is signed in there since registering).
      await page.goto(`${connectdUrl}/dashboard`);
      await page.getByRole('button', { name: `Disconnect ${PLATFORM?.platform?.name}` }).click();
      await page.getByText('No platform is connected to this account.').waitFor();
      // The demo learns it from account.application.deauthorized.
      await waitUntil('the demo to show the webhook', async () => {
        await page.goto(`${demoUrl}/driver`);
        return (await page.getByText('Not connected').count()) ? true : undefined;
      });
      assert.equal((await steps(page))[0], `Disconnected from connectd (${accountId})`);

      // Connect again: signed in on connectd already, so straight to consent.
      await page.getByRole('link', { name: 'Connect with Stripe' }).click();
      await page.getByRole('button', { name: 'Connect my account' }).click();
      await page.waitForURL(`${demoUrl}/driver?done=connected`);
      assert.equal(await page.getByTestId('account-id').innerText(), accountId);

      // Disconnect from the demo: deauthorize at connectd; its webhook then finds nothing to remove.
      const handled = () => {
        const db = new Database(join(data, 'platform.sqlite'), { readonly: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM handled_events').get() as { n: number }).n;
        } finally {
          db.close();
        }
      };
      const handledBefore = handled();
      await page.getByRole('button', { name: 'Disconnect' }).click();
      await page.waitForURL(`${demoUrl}/driver?done=disconnected`);
      await page.getByText('Not connected').waitFor();
      assert.equal((await steps(page))[0], 'Disconnected here');
      const platform = new Stripe(PLATFORM?.keys?.test_secret ?? '', { host: '127.0.0.1', port: new URL(connectdUrl).port, protocol: 'http' });
      await assert.rejects(platform.accounts.retrieveCurrent({}, { stripeAccount: accountId }), (err: unknown) => err instanceof Stripe.errors.StripeError && [401, 403].includes(err.statusCode ?? 0));
      // connectd's webhook for this deauthorization arrives and is handled; it changes nothing on the page.
      await waitUntil('the second deauthorization webhook', () => (handled() > handledBefore ? true : undefined));
      await page.goto(`${demoUrl}/driver`);
      assert.equal((await steps(page)).filter((s) => s.startsWith('Disconnected from connectd')).length, 1);
    } finally {
      await context.close();
    }
  });

  it('a driver onboards through an Account Link (the Accounts API path) and lands back set up', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    try {
      const page = await context.newPage();
      const email = `olivia-${unique()}@example.com`;
      await signInToDemo(page, 'Olivia Onboard', email);
      await page.getByRole('button', { name: 'Set up payouts' }).click();
      // connectd's onboarding pages, branded for the platform, with what the demo prefilled.
      await page.getByRole('heading', { name: `Set up your account for ${PLATFORM?.platform?.name}` }).waitFor();
      assert.ok(page.url().startsWith(`${connectdUrl}/setup/onboarding/`));
      assert.equal(await page.getByLabel('Email').inputValue(), email);
      await page.getByLabel('Password').fill('a long enough passphrase');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Your business' }).waitFor();
      assert.equal(await page.getByLabel('Business name').inputValue(), 'Olivia Onboard');
      assert.equal(await page.getByLabel('What do you sell?').inputValue(), 'Rides with Roadrunner Rides');
      await page.getByLabel('Business website').fill('https://olivia.example');
      await page.getByLabel('Support phone number').fill('+1 555 555 0199');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Payouts' }).waitFor();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByLabel(/I agree to the connectd Services Agreement/).check();
      await page.getByRole('button', { name: 'Agree and submit' }).click();

      // Back on the demo (return_url): the account read with Stripe-Account says it is set up.
      await page.waitForURL(`${demoUrl}/driver?done=onboarded`);
      await page.getByText('Connected', { exact: true }).waitFor();
      const accountId = await page.getByTestId('account-id').innerText();
      assert.match(accountId, /^acct_/);
      assert.equal(await page.locator('dt:has-text("Connected through") + dd').innerText(), 'the Accounts API and an Account Link');
      assert.equal(await page.locator('dt:has-text("Details submitted") + dd').innerText(), 'yes');
      assert.equal(await page.locator('dt:has-text("Charges enabled") + dd').innerText(), 'yes');
      // The platform's own steps, newest first (connectd's webhooks interleave with them).
      const own = (await steps(page)).filter((t) => t !== 'connectd: account.updated');
      assert.deepEqual(own.slice(0, 3), ['Back from onboarding', 'Sent you to onboarding', `Created ${accountId}`]);
      // connectd's account.updated webhooks (one per onboarding step) show up too.
      await waitUntil('account.updated on the demo', async () => {
        await page.goto(`${demoUrl}/driver`);
        return (await steps(page)).filter((t) => t === 'connectd: account.updated').length >= 3 ? true : undefined;
      });
    } finally {
      await context.close();
    }
  });

  it('a callback with a forged state is refused, and no token request is made', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    try {
      const page = await context.newPage();
      await signInToDemo(page, 'Mallory Victim', `victim-${unique()}@example.com`);
      // The driver starts connecting: the demo sets its state cookie and sends them to connectd.
      await page.getByRole('link', { name: 'Connect with Stripe' }).click();
      await page.getByRole('heading', { name: 'Create an account to connect' }).waitFor();
      // An attacker's link lands on the demo's callback instead: a real, unused code of this
      // platform (connectd's test helper mints one) with a state the demo never issued.
      const platform = new Stripe(PLATFORM?.keys?.test_secret ?? '', { host: '127.0.0.1', port: new URL(connectdUrl).port, protocol: 'http' });
      const minted = await fetch(`${connectdUrl}/v1/test_helpers/oauth/authorize`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PLATFORM?.keys?.test_secret}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: PLATFORM?.platform?.client_id_test ?? '' }),
      });
      assert.equal(minted.status, 200);
      const { code } = (await minted.json()) as { code: string };
      assert.match(code, /^ac_/);
      const forged = new URL(`${demoUrl}/connect/callback`);
      forged.search = new URLSearchParams({ code, scope: 'read_write', state: `forged-${unique()}` }).toString();
      const res = await page.goto(forged.href);
      assert.equal(res?.status(), 400);
      await page.getByRole('heading', { name: 'This link cannot connect an account' }).waitFor();

      await page.goto(`${demoUrl}/driver`);
      await page.getByText('Not connected').waitFor();
      assert.equal((await steps(page))[0], 'Refused a callback');
      // The browser held the demo's state cookie: the forged state was compared with it and differed.
      assert.match(await page.locator('ol.steps .detail').first().innerText(), /state \(mismatch\)/);
      // No token request was made: the code is still unused, so the platform can exchange it now.
      const token = await platform.oauth.token({ grant_type: 'authorization_code', code });
      assert.match(token.stripe_user_id ?? '', /^acct_/);
    } finally {
      await context.close();
    }
  });
});
