// Bad inputs on /v1 (issue 3, "Tests that must exist"; docs/contract.md Part B §5.3–5.7): wrong content
// types, malformed brackets, oversized bodies and headers, unknown, missing and malformed parameters,
// list bounds and cursors, malformed Stripe-Account headers and bad keys. Never a 5xx; always Stripe's
// `{error:{type,message,...}}` envelope and a Request-Id; nothing is created by a refused request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { A, B } from '../support/fixtures.ts';
import { connectNew, type Connected } from '../support/flow.ts';
import { post, rawRequest, request } from '../support/http.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';
import { apiError, call, masked, ok, REQUEST_ID } from '../support/api.ts';

for (const db of DB_KINDS) {
  describe(`bad inputs on /v1 (${db})`, () => {
    let server: TestServer;
    let acct: Connected;
    let auth: { authorization: string; 'stripe-account': string };
    let as: { key: string; account: string };

    /** Every object of the account, to check that a refused request created nothing. */
    async function state(): Promise<string> {
      const parts = await Promise.all(
        ['/v1/customers', '/v1/charges', '/v1/refunds'].map(async (p) => (ok(await call(server.url, 'GET', p, { ...as, params: { limit: '100' } })).data as unknown[])),
      );
      return JSON.stringify(parts);
    }

    before(async () => {
      server = await startTestServer({ db });
      acct = await connectNew(server.url, A);
      auth = { authorization: `Bearer ${A.testSecret}`, 'stripe-account': acct.accountId };
      as = { key: A.testSecret, account: acct.accountId };
    });
    after(() => server.close());

    it('wrong content types are 400; a UTF-8 form body is accepted', async () => {
      const before = await state();
      const cases: Array<[string, string | null]> = [
        ['{"email":"json@example.com"}', 'application/json'],
        ['email=text@example.com', 'text/plain'],
        ['--x\r\nContent-Disposition: form-data; name="email"; filename="e.txt"\r\n\r\nmp@example.com\r\n--x--\r\n', 'multipart/form-data; boundary=x'],
        ['--x\r\nContent-Disposition: form-data; name="email"\r\nContent-Type: application/octet-stream\r\n\r\nmp@example.com\r\n--x--\r\n', 'multipart/form-data; boundary=x'],
        ['--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nmp@example.com\r\n', 'multipart/form-data; boundary=x'],
        ['email=mp@example.com', 'multipart/form-data'],
        ['--x\r\nContent-Disposition: form-data; name="email"\r\nContent-Type: text/plain; charset=bogus\r\n\r\nmp@example.com\r\n--x--\r\n', 'multipart/form-data; boundary=x'],
        ['email=latin@example.com', 'application/x-www-form-urlencoded; charset=iso-8859-1'],
        ['<email>xml@example.com</email>', 'application/xml'],
        ['email=none@example.com', null],
      ];
      for (const [body, type] of cases) {
        // node:http, so a missing Content-Type stays missing (fetch would send text/plain).
        const sent = await rawRequest(`${server.url}/v1/customers`, { method: 'POST', headers: { ...auth, ...(type === null ? {} : { 'content-type': type }) }, body });
        const err = apiError(sent, 400);
        assert.equal(err.type, 'invalid_request_error', String(type));
      }
      assert.equal(await state(), before, 'nothing created');
      const good = await post(`${server.url}/v1/customers`, 'email=utf8%40example.com&name=J%C3%BCrgen', { ...auth, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });
      assert.equal(ok(good).name, 'Jürgen');
    });

    it('multipart/form-data of plain fields is a form body: bracket names, the same limits', async () => {
      const part = (name: string, value: string) => `--b0und\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
      const type = 'multipart/form-data; boundary=b0und';
      const body = `${part('email', 'mp@example.com')}${part('name', 'Jürgen')}${part('metadata[a]', '1')}${part('metadata[b c]', '2')}--b0und--\r\n`;
      const created = ok(await post(`${server.url}/v1/customers`, body, { ...auth, 'content-type': type }));
      assert.equal(created.email, 'mp@example.com');
      assert.equal(created.name, 'Jürgen');
      assert.deepEqual(created.metadata, { a: '1', 'b c': '2' });
      const before = await state();
      const fiftyOne = Array.from({ length: 51 }, (_, i) => part(`metadata[k${i}]`, 'v')).join('') + '--b0und--\r\n';
      assert.equal(apiError(await post(`${server.url}/v1/customers`, fiftyOne, { ...auth, 'content-type': type }), 400).param, 'metadata');
      const many = Array.from({ length: 1200 }, (_, i) => part(`metadata[k${i}]`, 'v')).join('') + '--b0und--\r\n';
      assert.equal(apiError(await post(`${server.url}/v1/customers`, many, { ...auth, 'content-type': type }), 400).type, 'invalid_request_error');
      const big = `${part('description', 'x'.repeat(1024 * 1024 + 16))}--b0und--\r\n`;
      apiError(await post(`${server.url}/v1/customers`, big, { ...auth, 'content-type': type }), 413);
      assert.equal(apiError(await post(`${server.url}/v1/customers`, `${part('metadata[a', '1')}--b0und--\r\n`, { ...auth, 'content-type': type }), 400).type, 'invalid_request_error');
      assert.equal(apiError(await post(`${server.url}/v1/customers`, `${part('bogus', '1')}--b0und--\r\n`, { ...auth, 'content-type': type }), 400).code, 'parameter_unknown');
      assert.equal(await state(), before, 'nothing created');
    });

    it('malformed brackets and deep nesting are 400, never stored as garbled keys', async () => {
      const before = await state();
      const bodies = [
        'metadata[a=1',
        'metadata[]]=x',
        'metadata[[a]]=1',
        'metadata[a][b][c][d][e][f][g]=x',
        'metadata[a][b]=x',
        'metadata[]=x',
        'metadata=notanobject',
        'email[]=a@example.com',
        'email[x]=a@example.com',
        'expand[0][a]=b',
      ];
      for (const body of bodies) {
        const r = await post(`${server.url}/v1/customers`, body, auth);
        const err = apiError(r, 400);
        assert.equal(err.type, 'invalid_request_error', body);
        assert.equal(typeof err.param, 'string', `${body}: the error names the parameter`);
      }
      const q = apiError(await call(server.url, 'GET', '/v1/customers', { ...as, params: 'email[=x' }), 400);
      assert.equal(q.type, 'invalid_request_error');
      assert.equal(await state(), before, 'nothing created');
      // Well-formed bracket notation is accepted: indexed and empty-bracket arrays, nested metadata.
      const fine = ok(await call(server.url, 'POST', '/v1/customers', { ...as, params: 'metadata[a]=1&metadata[b%20c]=2' }));
      assert.deepEqual(fine.metadata, { a: '1', 'b c': '2' });
      const charge = ok(await call(server.url, 'POST', '/v1/charges', { ...as, params: `amount=100&currency=usd&source=tok_visa&customer=${String(fine.id)}&expand[0]=customer&expand[]=customer` }));
      assert.equal((charge.customer as { id?: unknown }).id, fine.id, 'indexed and empty-bracket arrays alike');
    });

    it('expand and currency: what connectd cannot expand and unknown currencies are 400, creating nothing', async () => {
      const before = await state();
      const rows: Array<{ path: string; params: string; param: string; message: RegExp }> = [
        { path: '/v1/customers', params: 'expand[]=x', param: 'expand', message: /^This property cannot be expanded \(x\)\.$/ },
        { path: '/v1/charges', params: 'amount=100&currency=usd&source=tok_visa&expand[]=balance_transaction', param: 'expand', message: /cannot be expanded \(balance_transaction\)/ },
        { path: '/v1/charges', params: 'amount=100&currency=usd&source=tok_visa&expand[]=customer.sources', param: 'expand', message: /cannot be expanded \(customer\.sources\)/ },
        { path: '/v1/charges', params: 'amount=100&currency=usd&source=tok_visa&expand[]=a.b.c.d.e', param: 'expand', message: /cannot be expanded/ },
        { path: '/v1/refunds', params: 'charge=ch_x&expand[]=charge.balance_transaction', param: 'expand', message: /cannot be expanded \(charge\.balance_transaction\)/ },
        { path: '/v1/charges', params: 'amount=100&currency=xyz&source=tok_visa', param: 'currency', message: /^Invalid currency: xyz\. Stripe currently supports these currencies: usd, / },
        { path: '/v1/charges', params: 'amount=100&currency=&source=tok_visa', param: 'currency', message: /^Invalid currency: \. / },
        { path: '/v1/charges', params: 'amount=100&currency=us%C3%A9&source=tok_visa', param: 'currency', message: /^Invalid currency: us\. / },
        { path: '/v1/charges', params: 'amount=100&currency=usd&source=tok_visa&capture=maybe', param: 'capture', message: /capture/ },
        { path: '/v1/charges/ch_missing/capture', params: 'amount=abc', param: 'amount', message: /Invalid integer/ },
      ];
      for (const row of rows) {
        const err = apiError(await call(server.url, 'POST', row.path, { ...as, params: row.params }), 400);
        assert.equal(err.type, 'invalid_request_error', row.params);
        assert.equal(err.param, row.param, row.params);
        assert.match(err.message, row.message, row.params);
      }
      const listed = apiError(await call(server.url, 'GET', '/v1/charges', { ...as, params: 'expand[]=customer' }), 400);
      assert.equal(listed.message, 'This property cannot be expanded (customer).', 'lists expand data.*');
      assert.equal(apiError(await call(server.url, 'POST', '/v1/charges/ch_missing/capture', { ...as, params: '' }), 404).code, 'resource_missing');
      assert.equal(await state(), before, 'nothing created');
    });

    it('an oversized body is 413, an oversized header 431, too many parameters 400', async () => {
      const before = await state();
      const big = apiError(await post(`${server.url}/v1/customers`, `description=${'x'.repeat(1024 * 1024 + 16)}`, auth), 413);
      assert.equal(big.type, 'invalid_request_error');
      const many = Array.from({ length: 1200 }, (_, i) => `metadata[k${i}]=v`).join('&');
      apiError(await post(`${server.url}/v1/customers`, many, auth), 400);
      const fiftyOne = Array.from({ length: 51 }, (_, i) => `metadata[k${i}]=v`).join('&');
      assert.equal(apiError(await post(`${server.url}/v1/customers`, fiftyOne, auth), 400).param, 'metadata');
      assert.equal(await state(), before, 'nothing created');
      // Node refuses the header block before any route runs.
      const header = await rawRequest(`${server.url}/v1/customers`, { headers: { ...auth, 'x-padding': 'p'.repeat(64 * 1024) } });
      assert.equal(header.status, 431);
      assert.match(header.headers.get('request-id') ?? '', REQUEST_ID);
      assert.doesNotThrow(() => JSON.parse(header.text));
    });

    it('unknown parameters are 400 parameter_unknown naming the parameter', async () => {
      const before = await state();
      const cases: Array<{ method: 'GET' | 'POST' | 'DELETE'; path: string; params: string; param: string }> = [
        { method: 'POST', path: '/v1/customers', params: 'email=a@example.com&bogus=1', param: 'bogus' },
        { method: 'POST', path: '/v1/charges', params: 'amount=100&currency=usd&source=tok_visa&shipping[name]=x', param: 'shipping' },
        { method: 'POST', path: '/v1/refunds', params: 'charge=ch_x&payment_intent=pi_x', param: 'payment_intent' },
        { method: 'GET', path: '/v1/customers', params: 'created_after=1', param: 'created_after' },
        { method: 'GET', path: '/v1/charges', params: 'status=succeeded', param: 'status' },
        { method: 'GET', path: '/v1/account', params: 'foo=1', param: 'foo' },
        { method: 'POST', path: '/v1/test_helpers/oauth/authorize', params: `client_id=${A.clientIdTest}&extra=1`, param: 'extra' },
      ];
      const customer = String(ok(await call(server.url, 'POST', '/v1/customers', { ...as, params: { email: 'known@example.com' } })).id);
      const base = await state();
      cases.push(
        { method: 'GET', path: `/v1/customers/${customer}`, params: 'foo=1', param: 'foo' },
        { method: 'POST', path: `/v1/customers/${customer}`, params: 'nickname=x', param: 'nickname' },
        { method: 'DELETE', path: `/v1/customers/${customer}`, params: 'force=true', param: 'force' },
      );
      for (const c of cases) {
        const own = c.path.startsWith('/v1/test_helpers/');
        const r = await call(server.url, c.method, c.path, { key: A.testSecret, ...(own ? {} : { account: acct.accountId }), params: c.params });
        const err = apiError(r, 400);
        assert.equal(err.code, 'parameter_unknown', `${c.method} ${c.path}`);
        assert.equal(err.param, c.param);
        assert.equal(err.message, `Received unknown parameter: ${c.param}`);
      }
      const accounts = apiError(await call(server.url, 'GET', '/v1/accounts', { key: A.testSecret, params: 'type=standard' }), 400);
      assert.equal(accounts.code, 'parameter_unknown');
      assert.equal(await state(), base, 'nothing created, updated or deleted');
      assert.notEqual(base, before);
    });

    it('missing required parameters are 400 parameter_missing', async () => {
      const cases: Array<{ path: string; params: Record<string, string>; param: string }> = [
        { path: '/v1/charges', params: { currency: 'usd', source: 'tok_visa' }, param: 'amount' },
        { path: '/v1/charges', params: { amount: '100', source: 'tok_visa' }, param: 'currency' },
        { path: '/v1/refunds', params: {}, param: 'charge' },
      ];
      for (const c of cases) {
        const err = apiError(await call(server.url, 'POST', c.path, { ...as, params: c.params }), 400);
        assert.equal(err.code, 'parameter_missing', c.param);
        assert.equal(err.param, c.param);
        assert.equal(err.message, `Missing required param: ${c.param}.`);
      }
      const helper = apiError(await call(server.url, 'POST', '/v1/test_helpers/oauth/authorize', { key: A.testSecret, params: {} }), 400);
      assert.equal(helper.code, 'parameter_missing');
      assert.equal(helper.param, 'client_id');
    });

    it('malformed integers are 400 parameter_invalid_integer; other malformed values 400 naming the parameter', async () => {
      const before = await state();
      for (const amount of ['abc', '1.5', '12abc', '1e3', '0x10', ' 100', '99999999999999999999']) {
        const err = apiError(await call(server.url, 'POST', '/v1/charges', { ...as, params: { amount, currency: 'usd', source: 'tok_visa' } }), 400);
        assert.equal(err.param, 'amount', amount);
        if (amount !== '99999999999999999999') assert.equal(err.code, 'parameter_invalid_integer', amount);
      }
      assert.equal(apiError(await call(server.url, 'GET', '/v1/customers', { ...as, params: { limit: 'ten' } }), 400).code, 'parameter_invalid_integer');
      const others: Array<{ path: string; params: Record<string, string>; param: string }> = [
        { path: '/v1/charges', params: { amount: '0', currency: 'usd', source: 'tok_visa' }, param: 'amount' },
        { path: '/v1/charges', params: { amount: '-5', currency: 'usd', source: 'tok_visa' }, param: 'amount' },
        { path: '/v1/charges', params: { amount: '100', currency: 'dollars', source: 'tok_visa' }, param: 'currency' },
        { path: '/v1/charges', params: { amount: '100', currency: 'usd', customer: 'not_a_customer' }, param: 'customer' },
        { path: '/v1/customers', params: { email: 'not-an-email' }, param: 'email' },
        { path: '/v1/customers', params: { description: 'd'.repeat(5001) }, param: 'description' },
        { path: '/v1/customers', params: { [`metadata[${'k'.repeat(41)}]`]: 'v' }, param: 'metadata' },
        { path: '/v1/customers', params: { 'metadata[k]': 'v'.repeat(501) }, param: 'metadata' },
        { path: '/v1/refunds', params: { charge: 'ch_x', reason: 'because' }, param: 'reason' },
      ];
      for (const c of others) {
        const err = apiError(await call(server.url, 'POST', c.path, { ...as, params: c.params }), 400);
        assert.ok(err.param?.startsWith(c.param), `${JSON.stringify(c.params).slice(0, 80)} → ${err.param ?? ''}`);
      }
      const token = await call(server.url, 'POST', '/v1/charges', { ...as, params: { amount: '100', currency: 'usd', source: 'tok_nonexistent' } });
      assert.ok(token.status === 400 || token.status === 404, token.text);
      const tokenErr = apiError(token, token.status);
      assert.equal(tokenErr.code, 'resource_missing');
      assert.equal(tokenErr.param, 'source');
      assert.equal(await state(), before, 'nothing created');
    });

    it('list bounds: limit 1–100, one cursor at a time, unknown cursors 404', async () => {
      for (const limit of ['0', '101', '-1']) {
        const err = apiError(await call(server.url, 'GET', '/v1/customers', { ...as, params: { limit } }), 400);
        assert.equal(err.param, 'limit', limit);
      }
      for (const limit of ['1', '100']) ok(await call(server.url, 'GET', '/v1/customers', { ...as, params: { limit } }));
      const c = String(ok(await call(server.url, 'POST', '/v1/customers', { ...as, params: { email: 'cursor@example.com' } })).id);
      // Both cursors: one rule for every list, Stripe's wording, no code (api/list.ts cursorOf).
      const bothCursors = (err: { message: string; code?: unknown }) => {
        assert.equal(err.message, 'Received both starting_after and ending_before parameters. Please pass in only one.');
        assert.equal(err.code, undefined);
      };
      for (const path of ['/v1/customers', '/v1/charges', '/v1/refunds', '/v1/events']) {
        bothCursors(apiError(await call(server.url, 'GET', path, { ...as, params: { starting_after: c, ending_before: c } }), 400));
      }
      for (const path of ['/v1/accounts', '/v1/webhook_endpoints']) {
        bothCursors(apiError(await call(server.url, 'GET', path, { key: A.testSecret, params: { starting_after: acct.accountId, ending_before: acct.accountId } }), 400));
      }
      const cases: Array<[string, string, string]> = [
        ['/v1/customers', 'starting_after', 'cus_DoesNotExist'],
        ['/v1/customers', 'ending_before', 'cus_DoesNotExist'],
        ['/v1/charges', 'starting_after', 'ch_DoesNotExist'],
        ['/v1/refunds', 'ending_before', 're_DoesNotExist'],
      ];
      for (const [path, param, id] of cases) {
        const err = apiError(await call(server.url, 'GET', path, { ...as, params: { [param]: id } }), 404);
        assert.equal(err.code, 'resource_missing');
        assert.equal(err.param, param, `${path} ${param}`);
        assert.match(err.message, new RegExp(`^No such \\w+: '${id}'$`));
      }
      assert.equal(apiError(await call(server.url, 'GET', '/v1/accounts', { key: A.testSecret, params: { ending_before: 'acct_DoesNotExist' } }), 404).param, 'ending_before');
    });

    it('a malformed or duplicated Stripe-Account header is 400, never "first one wins"', async () => {
      const before = await state();
      for (const value of [`${acct.accountId}, acct_Other0000000001`, 'nope', 'acct_x y', 'acct_', 'ACCT_abc', `${acct.accountId};`]) {
        const err = apiError(await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account: value }), 400);
        assert.equal(err.type, 'invalid_request_error', value);
        assert.equal(err.param, 'Stripe-Account');
        apiError(await call(server.url, 'POST', '/v1/customers', { key: A.testSecret, account: value, params: { email: 'dup@example.com' } }), 400);
      }
      // Two header lines, the first one valid.
      const two = await rawRequest(`${server.url}/v1/customers`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${A.testSecret}`,
          'stripe-account': [acct.accountId, 'acct_Other0000000001'],
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'email=two-lines@example.com',
      });
      assert.equal(two.status, 400, two.text);
      assert.match(two.headers.get('request-id') ?? '', REQUEST_ID);
      const empty = await rawRequest(`${server.url}/v1/customers`, { headers: { authorization: `Bearer ${A.testSecret}`, 'stripe-account': '' } });
      assert.equal(empty.status, 400, empty.text);
      // The URL names one account and the header another.
      const other = await connectNew(server.url, A);
      assert.equal(apiError(await call(server.url, 'GET', `/v1/accounts/${acct.accountId}`, { key: A.testSecret, account: other.accountId }), 400).param, 'Stripe-Account');
      // Trailing whitespace is not part of an HTTP field value (RFC 9110 §5.5): 'acct_x ' is 'acct_x'.
      ok(await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account: `${acct.accountId} ` }));
      apiError(await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account: 'acct_x ' }), 403);
      assert.equal(await state(), before, 'nothing created');
      // Stripe-Account is not accepted by B for A's account even when well formed (sanity).
      apiError(await call(server.url, 'GET', '/v1/customers', { key: B.testSecret, account: acct.accountId }), 403);
    });

    it('keys: publishable 401, unknown 401 masked to the last four, missing 401, Basic accepted', async () => {
      const before = await state();
      for (const pk of [A.testPublishable, A.livePublishable]) {
        const err = apiError(await call(server.url, 'GET', '/v1/customers', { key: pk }), 401);
        assert.equal(err.type, 'invalid_request_error');
        assert.ok(!err.message.includes(pk), 'the publishable key is not echoed');
        apiError(await call(server.url, 'POST', '/v1/customers', { key: pk, params: { email: 'pk@example.com' } }), 401);
      }
      for (const unknown of ['sk_test_unknownKeyValueAbCd9876', 'sk_live_unknownKeyValueAbCd4321', `${A.testSecret.slice(0, -1)}1`]) {
        const err = apiError(await call(server.url, 'GET', '/v1/customers', { key: unknown, account: acct.accountId }), 401);
        assert.equal(err.message, `Invalid API Key provided: ${masked(unknown)}`);
        assert.ok(err.message.endsWith(`${unknown.slice(-4)}`));
        assert.ok(!err.message.includes(unknown.slice(8, -4)));
      }
      const odd = apiError(await call(server.url, 'GET', '/v1/customers', { key: 'sk_test_with!odd$chars' }), 401);
      assert.ok(!odd.message.includes('odd$chars'));
      const none = apiError(await call(server.url, 'GET', '/v1/customers', { key: null }), 401);
      assert.match(none.message, /You did not provide an API key/);
      for (const header of ['Token sk_test_abc', 'Bearer', 'Bearer ', 'Basic !!!', 'Basic ' + Buffer.from(':').toString('base64')]) {
        const r = await post(`${server.url}/v1/customers`, 'email=h@example.com', { authorization: header });
        apiError(r, 401);
      }
      assert.equal(await state(), before, 'nothing created');
      const basic = Buffer.from(`${A.testSecret}:`).toString('base64');
      const viaBasic = await request(`${server.url}/v1/account`, { headers: { authorization: `Basic ${basic}`, 'stripe-account': acct.accountId } });
      assert.equal(viaBasic.status, 200);
      assert.equal(viaBasic.json.id, acct.accountId);
    });

    it('unknown routes and methods are 404 in Stripe’s envelope; an over-long Idempotency-Key is 400', async () => {
      assert.match(apiError(await call(server.url, 'GET', '/v1/nope', as), 404).message, /^Unrecognized request URL \(GET: \/v1\/nope\)/);
      apiError(await call(server.url, 'GET', '/v1', as), 404);
      const put = await fetch(`${server.url}/v1/customers`, { method: 'PUT', headers: auth });
      assert.ok(put.status === 404 || put.status === 405, String(put.status));
      assert.match(put.headers.get('request-id') ?? '', REQUEST_ID);
      const body = (await put.json()) as { error?: { type?: string; message?: string } };
      assert.equal(body.error?.type, 'invalid_request_error');
      const long = apiError(await call(server.url, 'POST', '/v1/customers', { ...as, params: { email: 'k@example.com' }, headers: { 'idempotency-key': 'k'.repeat(256) } }), 400);
      assert.equal(long.type, 'invalid_request_error');
      ok(await call(server.url, 'POST', '/v1/customers', { ...as, params: { email: 'k@example.com' }, headers: { 'idempotency-key': 'k'.repeat(255) } }));
    });

    it('a catalogue of odd requests: never a 5xx, each its own answer in the envelope with a Request-Id', async () => {
      /** A refusal (status, and the code and param it names, if any) or one of the two successes. */
      type Outcome = { status: number; code?: string; param?: string } | 'customer' | 'no customers';
      const refused = (status: number, param?: string, code?: string): Outcome => ({ status, ...(param === undefined ? {} : { param }), ...(code === undefined ? {} : { code }) });
      const nul = (param: string) => refused(400, param, 'parameter_invalid_string');
      const odd: Array<{ method: 'GET' | 'POST' | 'DELETE'; path: string; params?: string; expect: Outcome }> = [
        // A /v1 query string is not checked for malformed escapes as bodies and /oauth query
        // strings are: qs keeps `%zz` as the text itself, which matches no customer.
        { method: 'GET', path: '/v1/customers', params: 'email=%zz', expect: 'no customers' },
        { method: 'GET', path: '/v1/customers', params: 'email=%00', expect: nul('email') },
        { method: 'GET', path: '/v1/customers', params: 'starting_after=cus_%00', expect: nul('starting_after') },
        { method: 'GET', path: '/v1/charges', params: 'customer=cus_a%00', expect: nul('customer') },
        { method: 'POST', path: '/v1/customers', params: 'email=a%00@example.com&metadata[k%00]=v', expect: nul('email') },
        { method: 'POST', path: '/v1/charges', params: 'amount=100&currency=usd&source=tok_%00', expect: nul('source') },
        { method: 'POST', path: '/v1/refunds', params: 'charge=ch_%00', expect: nul('charge') },
        { method: 'POST', path: '/v1/customers/cus_%00', params: 'description=x', expect: nul('id') },
        { method: 'DELETE', path: '/v1/customers/cus_%00', expect: nul('id') },
        { method: 'GET', path: '/v1/customers', params: 'limit[]=1', expect: nul('limit') },
        { method: 'GET', path: '/v1/customers', params: 'starting_after[]=cus_x', expect: nul('starting_after') },
        { method: 'GET', path: '/v1/customers', params: 'limit=1&limit=2', expect: nul('limit') },
        { method: 'GET', path: '/v1/customers', params: 'expand=data.default_source&expand[5][x]=y', expect: nul('expand[1]') },
        { method: 'GET', path: '/v1/customers', params: `ending_before=${'c'.repeat(5000)}`, expect: nul('ending_before') },
        { method: 'POST', path: '/v1/customers', params: 'email=%zz', expect: refused(400) },
        { method: 'POST', path: '/v1/customers', params: 'email=%E0%A4%A', expect: refused(400) },
        // Empty pairs and prototype keys are dropped: what is left is an empty, valid request.
        { method: 'POST', path: '/v1/customers', params: '&&&==&=', expect: 'customer' },
        { method: 'POST', path: '/v1/customers', params: '__proto__[x]=1', expect: 'customer' },
        { method: 'POST', path: '/v1/customers', params: 'constructor[prototype][x]=1', expect: 'customer' },
        { method: 'POST', path: '/v1/customers', params: 'metadata[__proto__]=1', expect: 'customer' },
        { method: 'POST', path: '/v1/charges', params: 'amount[]=100&currency=usd&source=tok_visa', expect: nul('amount') },
        { method: 'POST', path: '/v1/charges', params: 'amount=100&currency[]=usd&source=tok_visa', expect: nul('currency') },
        { method: 'POST', path: '/v1/refunds', params: 'charge[]=ch_x', expect: nul('charge') },
        { method: 'GET', path: '/v1/customers/%00', expect: nul('id') },
        { method: 'GET', path: `/v1/customers/${'x'.repeat(3000)}`, expect: refused(414) },
        { method: 'GET', path: '/v1/customers/cus_x%2F..%2Fcharges', expect: refused(404, 'id', 'resource_missing') },
        { method: 'DELETE', path: '/v1/customers/..', expect: refused(404) },
        { method: 'GET', path: '/v1/accounts/acct_%F0%9F%92%A9', expect: refused(404, 'id', 'resource_missing') },
        { method: 'GET', path: '/v1/charges/ch_%FF', expect: refused(400) },
      ];
      for (const o of odd) {
        const what = `${o.method} ${o.path.slice(0, 60)} ${o.params?.slice(0, 60) ?? ''}`;
        const r = await call(server.url, o.method, o.path, { ...as, ...(o.params !== undefined ? { params: o.params } : {}) });
        if (o.expect === 'customer') {
          const c = ok(r);
          assert.equal(c.object, 'customer', what);
          assert.match(String(c.id), /^cus_/, what);
          assert.equal(c.email, null, what);
          assert.deepEqual(c.metadata, {}, what);
          assert.ok(!Object.hasOwn(c, 'x') && !Object.hasOwn(c, 'prototype'), `${what}: no stray key`);
        } else if (o.expect === 'no customers') {
          const list = ok(r);
          assert.equal(list.object, 'list', what);
          assert.deepEqual(list.data, [], what);
        } else {
          const err = apiError(r, o.expect.status);
          assert.equal(err.type, 'invalid_request_error', what);
          assert.equal(err.code, o.expect.code, what);
          assert.equal(err.param, o.expect.param, what);
        }
      }
      // No stray keys reached an object.
      const customers = ok(await call(server.url, 'GET', '/v1/customers', { ...as, params: { limit: '100' } })).data as Array<{ metadata: Record<string, unknown> }>;
      for (const c of customers) assert.ok(!Object.keys(c.metadata).some((k) => /[[\]]|__proto__|prototype/.test(k)), JSON.stringify(c.metadata));
    });
  });
}
