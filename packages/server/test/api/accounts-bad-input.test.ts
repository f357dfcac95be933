// Bad input on the Accounts API, Account Links and the onboarding pages (docs/contract.md Part B
// §8; docs/security-model.md UI-02 for the forms): every refusal is Stripe's envelope or a page with
// the right status, never a 5xx, and a refused request changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { A } from '../support/fixtures.ts';
import { apiError, call, ok, REQUEST_ID } from '../support/api.ts';
import { FormClient } from '../support/flow.ts';
import { encodeForm, request, type Form } from '../support/http.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';

for (const db of DB_KINDS) {
  describe(`bad input on accounts and account links (${db})`, () => {
    let server: TestServer;
    const key = { key: A.testSecret };
    const count = async () => (ok(await call(server.url, 'GET', '/v1/accounts', { ...key, params: { limit: '100' } })).data as unknown[]).length;

    before(async () => {
      server = await startTestServer({ db });
    });
    after(() => server.close());

    it('POST /v1/accounts: wrong shapes and values are 400 naming the parameter; nothing is created', async () => {
      const before = await count();
      const cases: Array<[Record<string, unknown> | string, string]> = [
        [{ business_profile: 'x' }, 'business_profile'],
        [{ controller: { fees: 'account' } }, 'controller[fees]'],
        [{ controller: { fees: { payer: 'nobody' } } }, 'controller[fees][payer]'],
        [{ metadata: { a: { b: '1' } } }, 'metadata'],
        [{ country: 'USA' }, 'country'],
        [{ default_currency: 'dollars' }, 'default_currency'],
        [{ type: ['standard'] }, 'type'],
        [{ business_profile: { name: 'x'.repeat(201) } }, 'business_profile[name]'],
        [{ business_profile: { url: 'javascript:alert(1)' } }, 'business_profile[url]'],
        [{ business_profile: { mcc: '12' } }, 'business_profile[mcc]'],
        [{ external_account: 'ba_123' }, 'external_account'],
        [{ capabilities: { card_payments: { requested: 'maybe' } } }, 'capabilities[card_payments][requested]'],
        [{ surprise: '1' }, 'surprise'],
        ['email=a%00b%40example.com', 'email'],
      ];
      for (const [params, param] of cases) {
        const r = await call(server.url, 'POST', '/v1/accounts', { ...key, params: params as never });
        const err = apiError(r, 400);
        assert.equal(err.param, param, JSON.stringify(params));
        assert.match(r.headers.get('request-id') ?? '', REQUEST_ID);
      }
      assert.equal(await count(), before);
    });

    it('POST /v1/account_links: missing, malformed and foreign values are 400; nothing opens', async () => {
      const account = String(ok(await call(server.url, 'POST', '/v1/accounts', { ...key, params: { type: 'standard' } })).id);
      const good = { account, type: 'account_onboarding', refresh_url: 'http://127.0.0.1:9/r', return_url: 'http://127.0.0.1:9/x' };
      const cases: Array<[Record<string, unknown>, string, string?]> = [
        [{ ...good, refresh_url: undefined }, 'refresh_url', 'parameter_missing'],
        [{ ...good, account: '' }, 'account'],
        [{ ...good, account: "acct_'; DROP TABLE accounts;--" }, 'account'],
        [{ ...good, type: 'account_everything' }, 'type'],
        [{ ...good, collection_options: { fields: 'all' } }, 'collection_options[fields]'],
        [{ ...good, return_url: 'javascript:alert(1)' }, 'return_url', 'url_invalid'],
        [{ ...good, return_url: `http://127.0.0.1:9/${'x'.repeat(2100)}` }, 'return_url'],
        [{ ...good, refresh_url: ['http://a/', 'http://b/'] }, 'refresh_url'],
      ];
      for (const [params, param, code] of cases) {
        const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
        const err = apiError(await call(server.url, 'POST', '/v1/account_links', { ...key, params: clean as never }), 400);
        assert.equal(err.param, param, JSON.stringify(params).slice(0, 200));
        if (code) assert.equal(err.code, code);
      }
      // A link's page with a malformed or unknown token is a 404 page, not a redirect or a 5xx.
      for (const path of [`/setup/s/${account}/short`, `/setup/s/${account}/${'x'.repeat(32)}`, `/setup/s/acct_nope/${'x'.repeat(32)}`, '/setup/onboarding/nope', `/setup/onboarding/${'y'.repeat(32)}`]) {
        const r = await request(`${server.url}${path}`);
        assert.equal(r.status, 404, path);
        assert.match(r.text, /Link not valid/);
      }
    });

    it('onboarding forms: no CSRF token is 403; junk fields are the step again with a message; never a 5xx', async () => {
      const account = String(ok(await call(server.url, 'POST', '/v1/accounts', { ...key, params: { type: 'standard' } })).id);
      const link = ok(await call(server.url, 'POST', '/v1/account_links', { ...key, params: { account, type: 'account_onboarding', refresh_url: 'http://127.0.0.1:9/r', return_url: 'http://127.0.0.1:9/x' } }));
      const browser = new FormClient(server.url);
      // Posted as a browser would (its cookie, same origin), the body bracket-encoded as given.
      const postForm = async (path: string, body: Form) => {
        const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { cookie: browser.cookieHeader(), origin: server.url, 'content-type': 'application/x-www-form-urlencoded' }, body: encodeForm(body), redirect: 'manual' });
        return { status: res.status, text: await res.text() };
      };
      const opened = await browser.get(String(link.url).slice(server.url.length));
      assert.equal(opened.status, 303);
      const page = String(opened.headers.get('location'));
      const step = await browser.get(page);
      assert.equal(step.status, 200);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(step.text)?.[1] ?? '';
      assert.ok(csrf);
      assert.equal((await browser.post(`${page}/login`, { email: 'x@example.com', password: 'a long enough passphrase' })).status, 403);
      const junk: Array<[string, Form]> = [
        ['login', { email: ['a@example.com'], password: 'short' }],
        ['login', { email: 'not-an-email', password: 'a long enough passphrase' }],
        ['login', { email: 'x@example.com', password: 'p'.repeat(2000) }],
        ['business', { business_type: { nested: 'x' }, business_name: 'B', url: 'https://b.example', product_description: 'd', support_phone: '+1 555 555 0100' }],
        ['business', { business_type: 'individual', business_name: 'B', url: 'ftp://b.example', product_description: 'd', support_phone: '+1 555 555 0100' }],
        ['bank', { routing_number: '11000000O', account_number: '000123456789' }],
        ['bank', { routing_number: '021000021', account_number: '000123456789' }],
        ['finish', { tos: 'maybe' }],
      ];
      for (const [path, body] of junk) {
        const r = await postForm(`${page}/${path}`, { _csrf: csrf, ...body });
        assert.equal(r.status, 400, `${path} ${JSON.stringify(body).slice(0, 80)}`);
        assert.match(r.text, /role="alert"/);
      }
      // Nothing was saved by the refused steps.
      const now = ok(await call(server.url, 'GET', `/v1/accounts/${account}`, key));
      assert.equal(now.email, null);
      assert.equal(now.business_type, null);
      assert.equal(now.details_submitted, false);
    });
  });
}
