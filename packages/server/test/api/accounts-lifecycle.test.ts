// What an API-created account's holder owns, and what deleting it ends (docs/contract.md Part B
// §8.2, §8.3): links only for accounts the platform created, in their own mode; the holder's sign-in
// cannot be replaced through a later link or the API; deleting ends every connection (each platform
// told), every key and every browser session. Both databases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { A, B } from '../support/fixtures.ts';
import { codeFrom, connectNew, exchange, FormClient } from '../support/flow.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';
import { sdk } from '../support/stripe.ts';

const URLS = { refresh_url: 'http://127.0.0.1:9/refresh', return_url: 'http://127.0.0.1:9/return' };
const invalid = (param: string, message?: RegExp) => (err: unknown) =>
  err instanceof Stripe.errors.StripeInvalidRequestError && err.param === param && (!message || message.test(err.message));

for (const db of DB_KINDS) {
  describe(`API-created accounts: what the holder owns, what deleting ends (${db})`, () => {
    let server: TestServer;
    let a: Stripe;

    before(async () => {
      server = await startTestServer({ db });
      a = sdk(server, A.testSecret);
    });
    after(() => server.close());

    /** Opens a link in a fresh browser session and sets the sign-in; returns that browser. */
    async function chooseSignIn(account: string, email: string): Promise<{ browser: FormClient; page: string }> {
      const { url } = await a.accountLinks.create({ account, type: 'account_onboarding', ...URLS });
      const browser = new FormClient(server.url);
      const opened = await browser.get(url.slice(server.url.length));
      const page = String(opened.location);
      const csrf = FormClient.csrfFrom((await browser.get(page)).text);
      const saved = await browser.post(`${page}/login`, { _csrf: csrf, email, password: 'a long enough passphrase' });
      assert.equal(saved.status, 303, saved.text.slice(0, 300));
      return { browser, page };
    }

    it('no Account Link for an account connected through OAuth, read_write or read_only', async () => {
      for (const scope of ['read_write', 'read_only'] as const) {
        const oauth = await connectNew(server.url, A, scope);
        await assert.rejects(a.accountLinks.create({ account: oauth.accountId, type: 'account_onboarding', ...URLS }), invalid('account', /created with the Accounts API/));
      }
    });

    it("a test key cannot delete, or open onboarding of, an account created with the live key", async () => {
      const live = await sdk(server, A.liveSecret).accounts.create({ type: 'standard' });
      // The live connection also covers test mode, so the test key reaches the account...
      assert.equal((await a.accounts.retrieve(live.id)).id, live.id);
      // ...but neither deletes it nor makes a test-mode link for it.
      await assert.rejects(a.accounts.del(live.id), invalid('account', /not authorized to delete/));
      await assert.rejects(a.accountLinks.create({ account: live.id, type: 'account_onboarding', ...URLS }), invalid('account'));
      assert.equal((await a.accounts.retrieve(live.id)).id, live.id);
    });

    it('the sign-in, once chosen, cannot be replaced through a later link or changed through the API', async () => {
      const account = await a.accounts.create({ type: 'standard' });
      const { browser, page } = await chooseSignIn(account.id, `holder-${db}@example.com`);
      // The sign-in step is no longer offered, and posting it is refused.
      const again = await browser.get(`${page}?step=login`);
      assert.match(again.text, /<h2 id="step-h">Your business<\/h2>/);
      const csrf = FormClient.csrfFrom(again.text);
      const refused = await browser.post(`${page}/login`, { _csrf: csrf, email: 'platform-owned@example.com', password: 'another long passphrase' });
      assert.equal(refused.status, 400);
      assert.match(refused.text, /already has a sign-in/);
      // A fresh link in another browser (what the platform could open itself) cannot either.
      const other = await chooseSignIn(account.id, 'platform-owned@example.com').catch((err: unknown) => err);
      assert.ok(other instanceof Error, 'the second sign-in was refused');
      await assert.rejects(a.accounts.update(account.id, { email: 'platform-owned@example.com' }), invalid('email'));
      // The holder still signs in with what they chose.
      const holder = new FormClient(server.url);
      await holder.login(`holder-${db}@example.com`, 'a long enough passphrase');
      assert.equal((await holder.get('/dashboard')).status, 200);
    });

    it('deleting ends every connection (each platform told), its keys and its sessions', async () => {
      const account = await a.accounts.create({ type: 'standard' });
      const email = `deleted-${db}@example.com`;
      await chooseSignIn(account.id, email);
      // The holder also connects platform B through OAuth.
      const holder = new FormClient(server.url);
      await holder.login(email, 'a long enough passphrase');
      const location = await holder.connect({ response_type: 'code', client_id: B.clientIdTest, scope: 'read_write', redirect_uri: B.redirect, state: 's' }, 'allow');
      const viaB = await exchange(server.url, B.testSecret, codeFrom(location), account.id);
      const b = sdk(server, B.testSecret);
      assert.equal((await b.accounts.retrieve(account.id)).id, account.id);

      assert.deepEqual(await a.accounts.del(account.id), { id: account.id, object: 'account', deleted: true });
      // B lost it too, and its access token is revoked.
      await assert.rejects(b.accounts.retrieve(account.id), (err: unknown) => err instanceof Stripe.errors.StripePermissionError);
      await assert.rejects(sdk(server, viaB.accessToken).accounts.retrieveCurrent(), (err: unknown) => err instanceof Stripe.errors.StripeAuthenticationError);
      const events = await b.events.list({ type: 'account.application.deauthorized', limit: 10 });
      assert.ok(events.data.some((e) => e.account === account.id), 'B was told');
      // The holder's browser session ended and they cannot sign in again.
      assert.equal((await holder.get('/dashboard')).status, 303);
      await assert.rejects(new FormClient(server.url).login(email, 'a long enough passphrase'));
    });
  });
}
