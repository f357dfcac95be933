// End-to-end through a real headless Chromium: the authorize interaction (sign up, sign in, consent,
// deny, "Skip this form", the already-connected shortcut), the dashboard's Disconnect, and the
// browser-side defences (framing refused, CSRF refused: docs/security-model.md UI-01, UI-02); docs/contract.md Part A.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import { randomBase62 } from '../../src/domain/ids.ts';
import { A, M, testSeed } from '../support/fixtures.ts';
import { call } from '../support/api.ts';
import { exchange, type Connected } from '../support/flow.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// <repo>/.tmp/consent.png, for a human to look at; nothing asserts on it.
const SCREENSHOT_DIR = fileURLToPath(new URL('../../../../.tmp/', import.meta.url));
const SCREENSHOT = join(SCREENSHOT_DIR, 'consent.png');

/**
 * A tiny server on another loopback origin: the platform's redirect URI (`/callback`, every hit
 * recorded), and pages for the framing and cross-origin form tests. A real listener rather than
 * `route()` interception: with this Chromium, Playwright does not intercept the target of a
 * redirect answering a GET navigation, so the already-connected 302 would escape a route.
 */
interface OtherOrigin {
  url: string;
  pages: Map<string, string>;
  callbacks: string[];
  close: () => Promise<void>;
}

async function startOtherOrigin(): Promise<OtherOrigin> {
  const pages = new Map<string, string>();
  const callbacks: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/callback') {
      callbacks.push(`${origin}${req.url ?? ''}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const body = pages.get(path);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    pages,
    callbacks,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

describe('the authorize flow and dashboard in a real browser', () => {
  let server: TestServer;
  let other: OtherOrigin;
  let browser: Browser;
  let CALLBACK: string;

  before(async () => {
    other = await startOtherOrigin();
    CALLBACK = `${other.url}/callback`;
    // Platform A also accepts this run's real callback listener as a redirect URI.
    const seed = testSeed();
    const platformA = seed.accounts.find((a) => a.id === A.id)?.platform;
    assert.ok(platformA?.redirect_uris);
    platformA.redirect_uris.push(CALLBACK);
    // One at a time, each assigned as soon as it exists: if the browser cannot start, `after`
    // still closes the server, and the file ends with the launch error instead of hanging.
    server = await startTestServer({ seed });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await other?.close();
    await server?.close();
  });

  /** A fresh browser context per test; `callbacks` are the platform callback hits during the test. */
  interface Harness {
    context: BrowserContext;
    page: Page;
    callbacks: string[];
  }

  async function withBrowser(fn: (h: Harness) => Promise<void>): Promise<void> {
    const context = await browser.newContext({ baseURL: server.url });
    context.setDefaultTimeout(10_000);
    other.callbacks.length = 0;
    try {
      await fn({ context, page: await context.newPage(), callbacks: other.callbacks });
    } finally {
      await context.close();
    }
  }

  function authorizeUrl(state: string, extra: Record<string, string> = {}): string {
    const q = new URLSearchParams({ response_type: 'code', client_id: A.clientIdTest, scope: 'read_write', redirect_uri: CALLBACK, state, ...extra });
    return `${server.url}/oauth/authorize?${q.toString()}`;
  }

  const newState = () => `st_${randomBase62(16)}`;

  function callbackParams(url: string): URLSearchParams {
    const u = new URL(url);
    assert.equal(`${u.origin}${u.pathname}`, CALLBACK, `expected the platform callback, got ${url}`);
    return u.searchParams;
  }

  async function waitForCallback(page: Page): Promise<URLSearchParams> {
    await page.waitForURL((u) => u.href.startsWith(`${CALLBACK}?`));
    return callbackParams(page.url());
  }

  const getAccount = (token: string) => call(server.url, 'GET', '/v1/account', { key: token });

  async function signInAtLogin(page: Page): Promise<void> {
    await page.goto('/login');
    await page.getByLabel('Email').fill(M.email);
    await page.getByLabel('Password').fill(M.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/dashboard`);
  }

  /** Signed in as M: authorize with always_prompt=true, click Connect, exchange the code. */
  async function connectM(page: Page): Promise<Connected> {
    const state = newState();
    await page.goto(authorizeUrl(state, { always_prompt: 'true' }));
    await page.getByRole('button', { name: 'Connect my account' }).click();
    const cb = await waitForCallback(page);
    assert.equal(cb.get('state'), state);
    const token = await exchange(server.url, A.testSecret, cb.get('code') ?? '');
    assert.equal(token.accountId, M.id);
    return token;
  }

  it('registers a new account on the authorize page and connects it', async () => {
    await withBrowser(async ({ page }) => {
      const state = newState();
      const email = `new-${randomBase62(8).toLowerCase()}@example.com`;
      await page.goto(authorizeUrl(state));
      assert.match(page.url(), /\/oauth\/consent\/[A-Za-z0-9]{32}$/);
      // read_write lands on the sign-up form by default.
      await page.getByRole('heading', { name: 'Create an account to connect' }).waitFor();
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('a long enough passphrase');
      await page.getByLabel('Business name').fill('Browser Bakery');
      await page.getByLabel('Country').selectOption('FR');
      await page.getByRole('button', { name: 'Create account' }).click();

      const connect = page.getByRole('button', { name: 'Connect my account' });
      await connect.waitFor();
      assert.match(page.url(), /\/oauth\/consent\/[A-Za-z0-9]{32}$/);
      const consentText = await page.locator('#consent-title').innerText();
      assert.match(consentText, /Browser Bakery/);
      assert.ok(consentText.includes(email));
      const newId = await page.locator('#consent-title code').innerText();
      assert.match(newId, /^acct_[A-Za-z0-9]+$/);
      assert.notEqual(newId, M.id);
      assert.equal(await page.getByRole('heading', { name: 'Platform A' }).count(), 1);
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      await connect.click();
      const cb = await waitForCallback(page);
      assert.match(cb.get('code') ?? '', /^ac_[A-Za-z0-9]{32}$/);
      assert.equal(cb.get('scope'), 'read_write');
      assert.equal(cb.get('state'), state);

      const token = await exchange(server.url, A.testSecret, cb.get('code') ?? '');
      assert.equal(token.accountId, newId);
      assert.equal(token.scope, 'read_write');
      assert.equal(token.livemode, false);
      const account = await getAccount(token.accessToken);
      assert.equal(account.status, 200);
      assert.equal(account.json.id, newId);
      assert.equal(account.json.email, email);
    });
  });

  it('signs in an existing merchant on the authorize page and connects it', async () => {
    await withBrowser(async ({ page }) => {
      const state = newState();
      // always_prompt: M may already be connected by another test; the sign-in form is shown either way.
      await page.goto(authorizeUrl(state, { always_prompt: 'true' }));
      await page.getByRole('link', { name: 'Sign in' }).and(page.locator('main a')).click();
      await page.waitForURL(/\?view=login&switch=1$/);
      await page.getByRole('heading', { name: 'Sign in to connect your account' }).waitFor();
      await page.getByLabel('Email').fill(M.email);
      await page.getByLabel('Password').fill(M.password);
      await page.getByRole('button', { name: 'Sign in' }).click();

      await page.getByRole('button', { name: 'Connect my account' }).click();
      const cb = await waitForCallback(page);
      assert.equal(cb.get('state'), state);
      assert.equal(cb.get('scope'), 'read_write');
      const token = await exchange(server.url, A.testSecret, cb.get('code') ?? '');
      assert.equal(token.accountId, M.id);
    });
  });

  it('shows the sign-in form first with stripe_landing=login, and refuses a wrong password on the page', async () => {
    await withBrowser(async ({ page, callbacks }) => {
      await page.goto(authorizeUrl(newState(), { stripe_landing: 'login', always_prompt: 'true' }));
      await page.getByRole('heading', { name: 'Sign in to connect your account' }).waitFor();
      await page.getByLabel('Email').fill(M.email);
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Connect my account' }).count(), 0);
      assert.equal(await page.getByLabel('Email').inputValue(), M.email);
      assert.deepEqual(callbacks, []);
    });
  });

  it('sends access_denied with the state and no code when the user clicks Deny', async () => {
    await withBrowser(async ({ page }) => {
      await signInAtLogin(page);
      const state = newState();
      await page.goto(authorizeUrl(state, { always_prompt: 'true' }));
      await page.getByRole('button', { name: 'Deny' }).click();
      const cb = await waitForCallback(page);
      assert.equal(cb.get('error'), 'access_denied');
      assert.equal(cb.get('error_description'), 'The user denied your request');
      assert.equal(cb.get('state'), state);
      assert.equal(cb.get('code'), null);
    });
  });

  it('"Skip this form" creates and connects a fresh test account, with stripe_user[...] prefilled', async () => {
    await withBrowser(async ({ page }) => {
      // Signed in as M: the skip must still create a new account, never connect M.
      await signInAtLogin(page);
      const state = newState();
      const email = `prefill-${randomBase62(8).toLowerCase()}@example.com`;
      await page.goto(
        authorizeUrl(state, { always_prompt: 'true', 'stripe_user[email]': email, 'stripe_user[business_name]': 'Prefilled Pottery', 'stripe_user[country]': 'DE' }),
      );
      // Signed in, the consent page is shown; "Use another account" leads to the forms.
      await page.getByRole('link', { name: 'Use another account' }).click();
      await page.getByRole('link', { name: 'Create an account' }).click();
      await page.getByRole('heading', { name: 'Create an account to connect' }).waitFor();
      assert.equal(await page.getByLabel('Email').inputValue(), email);
      assert.equal(await page.getByLabel('Business name').inputValue(), 'Prefilled Pottery');
      assert.equal(await page.getByLabel('Country').inputValue(), 'DE');

      await page.getByRole('button', { name: 'Skip this form' }).click();
      const cb = await waitForCallback(page);
      assert.match(cb.get('code') ?? '', /^ac_[A-Za-z0-9]{32}$/);
      assert.equal(cb.get('state'), state);
      const token = await exchange(server.url, A.testSecret, cb.get('code') ?? '');
      assert.match(token.accountId, /^acct_[A-Za-z0-9]+$/);
      assert.notEqual(token.accountId, M.id);
      assert.notEqual(token.accountId, A.id);
      const account = await getAccount(token.accessToken);
      assert.equal(account.status, 200);
      assert.equal(account.json.email, email);
    });
  });

  it('shows the prefilled sign-up form to a signed-out user and skips from there', async () => {
    await withBrowser(async ({ page }) => {
      const state = newState();
      await page.goto(authorizeUrl(state, { 'stripe_user[email]': 'shop@example.com', 'stripe_user[business_name]': 'Shop & "Co"' }));
      assert.equal(await page.getByLabel('Email').inputValue(), 'shop@example.com');
      assert.equal(await page.getByLabel('Business name').inputValue(), 'Shop & "Co"');
      await page.getByRole('button', { name: 'Skip this form' }).click();
      const cb = await waitForCallback(page);
      const token = await exchange(server.url, A.testSecret, cb.get('code') ?? '');
      assert.notEqual(token.accountId, M.id);
    });
  });

  it('skips the confirmation when already connected, unless always_prompt=true', async () => {
    await withBrowser(async ({ page }) => {
      await signInAtLogin(page);
      const first = await connectM(page);
      assert.equal(first.accountId, M.id);

      const navigations: string[] = [];
      page.on('request', (r) => {
        if (r.isNavigationRequest()) navigations.push(r.url());
      });
      const state = newState();
      await page.goto(authorizeUrl(state));
      const cb = callbackParams(page.url());
      assert.equal(cb.get('state'), state);
      const code = cb.get('code') ?? '';
      assert.match(code, /^ac_[A-Za-z0-9]{32}$/);
      assert.ok(!navigations.some((u) => u.includes('/oauth/consent/')), `consent was shown: ${navigations.join(', ')}`);
      const again = await exchange(server.url, A.testSecret, code);
      assert.equal(again.accountId, M.id);

      navigations.length = 0;
      await page.goto(authorizeUrl(newState(), { always_prompt: 'true' }));
      assert.match(page.url(), /\/oauth\/consent\/[A-Za-z0-9]{32}$/);
      await page.getByRole('button', { name: 'Connect my account' }).waitFor();
    });
  });

  it('disconnects a platform from the dashboard and revokes its tokens', async () => {
    await withBrowser(async ({ page }) => {
      await signInAtLogin(page);
      const token = await connectM(page);
      assert.equal((await getAccount(token.accessToken)).status, 200);

      await page.goto('/dashboard');
      const section = page.locator('section', { has: page.getByRole('heading', { name: 'Connected platforms' }) });
      const platformRows = () => section.getByRole('row').filter({ has: page.getByRole('cell', { name: 'Platform A', exact: true }) });
      const row = platformRows();
      assert.equal(await row.count(), 1);
      await row.getByRole('button', { name: 'Disconnect Platform A' }).click();
      await page.waitForURL(`${server.url}/dashboard?done=disconnected`);
      await page.getByRole('status').filter({ hasText: 'The platform was disconnected' }).waitFor();
      assert.equal(await platformRows().count(), 0);
      assert.match(await section.innerText(), /No platform is connected to this account/);

      const after = await getAccount(token.accessToken);
      assert.equal(after.status, 401);
    });
  });

  it('refuses to be framed by another origin (UI-01)', async () => {
    const login = await fetch(`${server.url}/login`);
    assert.equal(login.status, 200);
    assert.match(login.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(login.headers.get('x-frame-options'), 'DENY');

    await withBrowser(async ({ page }) => {
      const consent = await page.goto(authorizeUrl(newState()));
      assert.ok(consent);
      assert.match(consent.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
      assert.equal(consent.headers()['x-frame-options'], 'DENY');
      const consentUrl = page.url();
      assert.match(consentUrl, /\/oauth\/consent\/[A-Za-z0-9]{32}$/);

      const path = `/frame-${randomBase62(8)}`;
      other.pages.set('/control', '<!doctype html><p id="control">control frame</p>');
      other.pages.set(
        path,
        `<!doctype html><title>evil</title>
<iframe id="f-login" name="f-login" src="${server.url}/login"></iframe>
<iframe id="f-consent" name="f-consent" src="${consentUrl}"></iframe>
<iframe id="f-authorize" name="f-authorize" src="${authorizeUrl(newState())}"></iframe>
<iframe id="f-control" name="f-control" src="${other.url}/control"></iframe>`,
      );
      await page.goto(`${other.url}${path}`, { waitUntil: 'load' });

      // The control frame proves frames are inspected correctly: same content, other origin, renders.
      const control = page.frame({ name: 'f-control' });
      assert.ok(control, 'control frame exists');
      assert.equal(await control.locator('#control').count(), 1);

      for (const name of ['f-login', 'f-consent', 'f-authorize']) {
        const frame = page.frame({ name });
        assert.ok(frame, `${name} exists`);
        assert.ok(!frame.url().startsWith(server.url), `${name} rendered our page: ${frame.url()}`);
        assert.equal(await frame.locator('input[name="_csrf"]').count(), 0, `${name} shows a form`);
        assert.equal(await frame.locator('#email').count(), 0);
        assert.equal(await frame.getByRole('button').count(), 0, `${name} shows buttons`);
        assert.doesNotMatch(await frame.content(), /connectd|Sign in|Connect my account/);
      }
    });
  });

  it('refuses form posts without the CSRF token or from another origin (UI-02)', async () => {
    await withBrowser(async ({ page, callbacks }) => {
      await signInAtLogin(page);
      const state = newState();
      await page.goto(authorizeUrl(state, { always_prompt: 'true' }));
      const consentUrl = page.url();
      assert.match(consentUrl, /\/oauth\/consent\/[A-Za-z0-9]{32}$/);
      await page.getByRole('button', { name: 'Connect my account' }).waitFor();
      const csrf = await page.locator('form[action$="/decision"] input[name="_csrf"]').inputValue();
      assert.ok(csrf.length > 0);

      // 1. With the session cookie but no token.
      const noToken = await page.request.post(`${consentUrl}/decision`, { form: { decision: 'allow' }, maxRedirects: 0 });
      assert.equal(noToken.status(), 403);
      assert.equal(noToken.headers().location, undefined);

      // 2. With a wrong token.
      const wrong = `${csrf.startsWith('x') ? 'y' : 'x'}${csrf.slice(1)}`;
      const wrongToken = await page.request.post(`${consentUrl}/decision`, { form: { decision: 'allow', _csrf: wrong }, maxRedirects: 0 });
      assert.equal(wrongToken.status(), 403);

      // 3. With the right token but from another origin (defence in depth).
      const crossOrigin = await page.request.post(`${consentUrl}/decision`, {
        form: { decision: 'allow', _csrf: csrf },
        headers: { origin: other.url },
        maxRedirects: 0,
      });
      assert.equal(crossOrigin.status(), 403);

      // 4. A real cross-origin HTML form that auto-submits in the signed-in browser.
      const path = `/csrf-${randomBase62(8)}`;
      other.pages.set(
        path,
        `<!doctype html><title>win a prize</title>
<form id="f" method="post" action="${consentUrl}/decision"><input type="hidden" name="decision" value="allow"></form>
<script>document.getElementById('f').submit();</script>`,
      );
      const [forged] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${consentUrl}/decision` && r.request().method() === 'POST'),
        page.goto(`${other.url}${path}`),
      ]);
      assert.equal(forged.status(), 403);
      await page.waitForLoadState('load');
      assert.equal(page.url(), `${consentUrl}/decision`);
      await page.getByRole('heading', { name: 'Form expired' }).waitFor();
      assert.deepEqual(callbacks, [], 'no forged request reached the platform');

      // The request is still pending: the genuine click connects (so the 403s above were CSRF, not state).
      await page.goto(consentUrl);
      await page.getByRole('button', { name: 'Connect my account' }).click();
      const cb = await waitForCallback(page);
      assert.equal(cb.get('state'), state);
      assert.equal(callbacks.length, 1);
      assert.equal((await exchange(server.url, A.testSecret, cb.get('code') ?? '')).accountId, M.id);

      // A login POST without its token is refused too.
      const loginNoToken = await page.request.post(`${server.url}/login`, { form: { email: M.email, password: M.password }, maxRedirects: 0 });
      assert.equal(loginNoToken.status(), 403);
    });
  });
});
