// Tenant isolation on /v1 (issue 3; docs/contract.md Part A "Acting on behalf", Part B §5.1–5.2): a platform
// reaches only its own connected accounts, an access token only its own account, data never crosses
// accounts, deauthorization is effective on the next request (also in a second process on the same
// database), a read_only connection reads but never writes, and every /v1 route declares its access.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { accessOf, type ApiRoute } from '../../src/api/route-table.ts';
import { API_ROUTES } from '../../src/api/routes.ts';
import { buildApp } from '../../src/http/app.ts';
import { A, B, M, testSeed } from '../support/fixtures.ts';
import { codeFrom, connectNew, deauthorize, exchange, FormClient, type Connected } from '../support/flow.ts';
import type { HttpResponse } from '../support/http.ts';
import { spawnServer, type ServerProcess } from '../support/process.ts';
import { DB_KINDS, PG_URL, startTestServer, type TestServer } from '../support/server.ts';
import { apiError, call, masked, maskedShape, noAccessMessage, ok, readOnlyMessage } from '../support/api.ts';
import { sdk } from '../support/stripe.ts';

function assertNoAccess(r: HttpResponse, key: string, account: string): void {
  const err = apiError(r, 403);
  assert.equal(err.type, 'invalid_request_error');
  assert.equal(err.code, 'account_invalid');
  assert.equal(err.message, noAccessMessage(masked(key), account));
  const shown = /^The provided key '([^']+)'/.exec(err.message)?.[1] ?? '';
  assert.match(shown, maskedShape(key), 'prefix, stars, and the last four characters');
  assert.ok(shown.endsWith(key.slice(-4)));
  assert.ok(!err.message.includes(key.slice(8, -4)), 'the key itself never appears');
}

/** A request for every route of the table, with a valid path and valid parameters for it. */
interface Sample {
  path: string;
  params?: Record<string, string>;
  /** Succeeds with the key's own account only (no Stripe-Account), though the route is not ownKeyOnly. */
  own?: boolean;
}

function routeKey(r: Pick<ApiRoute, 'method' | 'path'>): string {
  return `${r.method} ${r.path}`;
}

/** /v1 routes the Fastify app registered, from printRoutes' tree (HEAD folded into GET). */
function registeredV1Routes(app: FastifyInstance): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    stack[depth] = m[2] ?? '';
    const path = stack.join('');
    if (!m[3] || !(path === '/v1' || path.startsWith('/v1/'))) continue;
    for (const method of m[3].split(', ')) out.add(`${method === 'HEAD' ? 'GET' : method} ${path}`);
  }
  return out;
}

/** The registered /v1 routes with no declaration in API_ROUTES. */
function undeclared(app: FastifyInstance): string[] {
  const declared = new Set(API_ROUTES.filter((r) => r.access === 'read' || r.access === 'write').map(routeKey));
  return [...registeredV1Routes(app)].filter((k) => !declared.has(k)).sort();
}

for (const db of DB_KINDS) {
  describe(`tenant isolation on /v1 (${db})`, () => {
    let server: TestServer;
    let x: Connected;
    let y: Connected;
    let ofB: Connected;

    before(async () => {
      server = await startTestServer({ db });
      [x, y, ofB] = await Promise.all([connectNew(server.url, A), connectNew(server.url, A), connectNew(server.url, B)]);
    });
    after(() => server.close());

    it('platform B’s key with an account connected only to A is 403 account_invalid with Stripe’s text', async () => {
      assertNoAccess(await call(server.url, 'GET', '/v1/customers', { key: B.testSecret, account: x.accountId }), B.testSecret, x.accountId);
      assertNoAccess(await call(server.url, 'GET', '/v1/account', { key: B.testSecret, account: x.accountId }), B.testSecret, x.accountId);
      assertNoAccess(await call(server.url, 'GET', `/v1/accounts/${x.accountId}`, { key: B.testSecret }), B.testSecret, x.accountId);
      const before = ok(await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account: x.accountId, params: { limit: '100' } }));
      assertNoAccess(
        await call(server.url, 'POST', '/v1/customers', { key: B.testSecret, account: x.accountId, params: { email: 'intruder@example.com' } }),
        B.testSecret,
        x.accountId,
      );
      const afterward = ok(await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account: x.accountId, params: { limit: '100' } }));
      assert.deepEqual(afterward.data, before.data, 'nothing was created');
      // And the other way round, an unconnected merchant, and an account that does not exist.
      assertNoAccess(await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account: ofB.accountId }), A.testSecret, ofB.accountId);
      assertNoAccess(await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account: M.id }), A.testSecret, M.id);
      assertNoAccess(await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account: 'acct_DoesNotExist0001' }), A.testSecret, 'acct_DoesNotExist0001');
      // A platform is not connected to the other platform either.
      assertNoAccess(await call(server.url, 'GET', '/v1/account', { key: A.testSecret, account: B.id }), A.testSecret, B.id);
      // stripe-node maps it to StripePermissionError while the raw type stays invalid_request_error.
      await assert.rejects(sdk(server, B.testSecret).customers.list({}, { stripeAccount: x.accountId }), (e: unknown) => {
        assert.ok(e instanceof Stripe.errors.StripePermissionError, String(e));
        assert.equal(e.rawType, 'invalid_request_error');
        assert.equal(e.code, 'account_invalid');
        return true;
      });
    });

    it('a test key acts for a development-client connection; the live key of the same platform is 403', async () => {
      ok(await call(server.url, 'GET', '/v1/account', { key: A.testSecret, account: x.accountId }));
      assertNoAccess(await call(server.url, 'GET', '/v1/account', { key: A.liveSecret, account: x.accountId }), A.liveSecret, x.accountId);
      assertNoAccess(await call(server.url, 'GET', `/v1/accounts/${x.accountId}`, { key: A.liveSecret }), A.liveSecret, x.accountId);
      const live = await call(server.url, 'GET', '/v1/accounts', { key: A.liveSecret, params: { limit: '100' } });
      const ids = (ok(live).data as Array<{ id: string }>).map((a) => a.id);
      assert.ok(!ids.includes(x.accountId), 'a test connection is not among the live connected accounts');
    });

    it('an access token acts only on its own account', async () => {
      const cy = ok(await call(server.url, 'POST', '/v1/customers', { key: A.testSecret, account: y.accountId, params: { email: 'of-y@example.com' } }));
      ok(await call(server.url, 'GET', '/v1/customers', { key: x.accessToken, account: x.accountId }));
      assertNoAccess(await call(server.url, 'GET', '/v1/customers', { key: x.accessToken, account: y.accountId }), x.accessToken, y.accountId);
      assertNoAccess(await call(server.url, 'GET', `/v1/customers/${String(cy.id)}`, { key: x.accessToken, account: y.accountId }), x.accessToken, y.accountId);
      assertNoAccess(await call(server.url, 'GET', `/v1/accounts/${y.accountId}`, { key: x.accessToken }), x.accessToken, y.accountId);
      assertNoAccess(
        await call(server.url, 'POST', '/v1/customers', { key: x.accessToken, account: y.accountId, params: { email: 'x-into-y@example.com' } }),
        x.accessToken,
        y.accountId,
      );
      assertNoAccess(await call(server.url, 'GET', '/v1/account', { key: x.accessToken, account: A.id }), x.accessToken, A.id);
      // Without the header it reads its own account, where y's customer does not exist.
      const miss = apiError(await call(server.url, 'GET', `/v1/customers/${String(cy.id)}`, { key: x.accessToken }), 404);
      assert.equal(miss.code, 'resource_missing');
      const own = ok(await call(server.url, 'GET', '/v1/customers', { key: x.accessToken, params: { limit: '100' } }));
      assert.ok(!(own.data as Array<{ id: string }>).some((c) => c.id === cy.id));
      const me = ok(await call(server.url, 'GET', '/v1/account', { key: x.accessToken }));
      assert.equal(me.id, x.accountId);
    });

    it('customers, charges and refunds of X are not visible to Y (404 No such …)', async () => {
      const asX = { key: A.testSecret, account: x.accountId };
      const asY = { key: A.testSecret, account: y.accountId };
      const cx = String(ok(await call(server.url, 'POST', '/v1/customers', { ...asX, params: { email: 'of-x@example.com', source: 'tok_visa' } })).id);
      const chx = String(ok(await call(server.url, 'POST', '/v1/charges', { ...asX, params: { amount: '1000', currency: 'usd', customer: cx } })).id);
      const rex = String(ok(await call(server.url, 'POST', '/v1/refunds', { ...asX, params: { charge: chx, amount: '100' } })).id);

      const noCustomer = apiError(await call(server.url, 'GET', `/v1/customers/${cx}`, asY), 404);
      assert.equal(noCustomer.message, `No such customer: '${cx}'`);
      assert.equal(noCustomer.code, 'resource_missing');
      assert.equal(noCustomer.type, 'invalid_request_error');
      apiError(await call(server.url, 'POST', `/v1/customers/${cx}`, { ...asY, params: { description: 'hijacked' } }), 404);
      apiError(await call(server.url, 'DELETE', `/v1/customers/${cx}`, asY), 404);
      apiError(await call(server.url, 'GET', `/v1/customers/${cx}`, { key: A.testSecret }), 404);
      assert.equal(apiError(await call(server.url, 'GET', `/v1/charges/${chx}`, asY), 404).message, `No such charge: '${chx}'`);
      apiError(await call(server.url, 'POST', `/v1/charges/${chx}`, { ...asY, params: { description: 'hijacked' } }), 404);
      assert.equal(apiError(await call(server.url, 'GET', `/v1/refunds/${rex}`, asY), 404).message, `No such refund: '${rex}'`);
      const refund = apiError(await call(server.url, 'POST', '/v1/refunds', { ...asY, params: { charge: chx } }), 404);
      assert.equal(refund.param, 'charge');
      const charge = apiError(await call(server.url, 'POST', '/v1/charges', { ...asY, params: { amount: '100', currency: 'usd', customer: cx } }), 404);
      assert.equal(charge.param, 'customer');
      // Not as a list cursor or filter either.
      assert.equal(apiError(await call(server.url, 'GET', '/v1/customers', { ...asY, params: { starting_after: cx } }), 404).param, 'starting_after');
      assert.deepEqual(ok(await call(server.url, 'GET', '/v1/charges', { ...asY, params: { customer: cx } })).data, []);
      assert.deepEqual(ok(await call(server.url, 'GET', '/v1/refunds', { ...asY, params: { charge: chx } })).data, []);
      for (const path of ['/v1/customers', '/v1/charges', '/v1/refunds']) {
        const ids = (ok(await call(server.url, 'GET', path, { ...asY, params: { limit: '100' } })).data as Array<{ id: string }>).map((o) => o.id);
        assert.ok(![cx, chx, rex].some((id) => ids.includes(id)), path);
      }
      // Nothing changed on X.
      const still = ok(await call(server.url, 'GET', `/v1/charges/${chx}`, asX));
      assert.equal(still.amount_refunded, 100);
      assert.equal(still.description, null);
      assert.equal(ok(await call(server.url, 'GET', `/v1/customers/${cx}`, asX)).email, 'of-x@example.com');
    });

    it('after /oauth/deauthorize every route with that Stripe-Account is 403, and its token is 401', async () => {
      const z = await connectNew(server.url, A);
      const cz = String(ok(await call(server.url, 'POST', '/v1/customers', { key: A.testSecret, account: z.accountId, params: { email: 'z@example.com' } })).id);
      const idem = { 'idempotency-key': `before-deauth-${z.accountId}` };
      ok(await call(server.url, 'POST', '/v1/customers', { key: A.testSecret, account: z.accountId, params: { email: 'z2@example.com' }, headers: idem }));
      await deauthorize(server.url, A, z.accountId);

      const samples: Record<string, Sample> = {
        'GET /v1/account': { path: '/v1/account' },
        'GET /v1/accounts/:id': { path: `/v1/accounts/${z.accountId}` },
        'GET /v1/accounts': { path: '/v1/accounts' },
        'POST /v1/customers': { path: '/v1/customers', params: { email: 'after@example.com' } },
        'GET /v1/customers': { path: '/v1/customers' },
        'GET /v1/customers/:id': { path: `/v1/customers/${cz}` },
        'POST /v1/customers/:id': { path: `/v1/customers/${cz}`, params: { description: 'after' } },
        'DELETE /v1/customers/:id': { path: `/v1/customers/${cz}` },
        'POST /v1/charges': { path: '/v1/charges', params: { amount: '100', currency: 'usd', source: 'tok_visa' } },
        'GET /v1/charges': { path: '/v1/charges' },
        'GET /v1/charges/:id': { path: '/v1/charges/ch_Whatever000000000001' },
        'POST /v1/charges/:id': { path: '/v1/charges/ch_Whatever000000000001', params: { description: 'after' } },
        'POST /v1/charges/:id/capture': { path: '/v1/charges/ch_Whatever000000000001/capture' },
        'POST /v1/refunds': { path: '/v1/refunds', params: { charge: 'ch_Whatever000000000001' } },
        'GET /v1/refunds': { path: '/v1/refunds' },
        'GET /v1/refunds/:id': { path: '/v1/refunds/re_Whatever000000000001' },
        'POST /v1/test_helpers/oauth/authorize': { path: '/v1/test_helpers/oauth/authorize', params: { client_id: A.clientIdTest } },
        'GET /v1/events': { path: '/v1/events' },
        'GET /v1/events/:id': { path: '/v1/events/evt_Whatever000000000001' },
        'POST /v1/webhook_endpoints': { path: '/v1/webhook_endpoints', params: { url: 'http://127.0.0.1:9/h', 'enabled_events[0]': '*' } },
        'GET /v1/webhook_endpoints': { path: '/v1/webhook_endpoints' },
        'GET /v1/webhook_endpoints/:id': { path: '/v1/webhook_endpoints/we_Whatever000000000001' },
        'POST /v1/webhook_endpoints/:id': { path: '/v1/webhook_endpoints/we_Whatever000000000001', params: { description: 'after' } },
        'POST /v1/webhook_endpoints/:id/roll_secret': { path: '/v1/webhook_endpoints/we_Whatever000000000001/roll_secret' },
        'DELETE /v1/webhook_endpoints/:id': { path: '/v1/webhook_endpoints/we_Whatever000000000001' },
        'POST /v1/accounts': { path: '/v1/accounts', params: { type: 'standard' } },
        'POST /v1/accounts/:id': { path: `/v1/accounts/${z.accountId}`, params: { 'metadata[k]': 'v' } },
        'DELETE /v1/accounts/:id': { path: `/v1/accounts/${z.accountId}` },
        'POST /v1/account_links': { path: '/v1/account_links', params: { account: z.accountId, type: 'account_onboarding', refresh_url: 'http://127.0.0.1:9/r', return_url: 'http://127.0.0.1:9/x' } },
      };
      for (const route of API_ROUTES) {
        const sample = samples[routeKey(route)];
        assert.ok(sample, `add a sample request for ${routeKey(route)}`);
        const r = await call(server.url, route.method, sample.path, { key: A.testSecret, account: z.accountId, ...(sample.params ? { params: sample.params } : {}) });
        assertNoAccess(r, A.testSecret, z.accountId);
      }
      // A stored idempotent response is not a way around the revocation.
      assertNoAccess(
        await call(server.url, 'POST', '/v1/customers', { key: A.testSecret, account: z.accountId, params: { email: 'z2@example.com' }, headers: idem }),
        A.testSecret,
        z.accountId,
      );
      const token = apiError(await call(server.url, 'GET', '/v1/account', { key: z.accessToken }), 401);
      assert.equal(token.message, `Invalid API Key provided: ${masked(z.accessToken)}`);
      const listed = (ok(await call(server.url, 'GET', '/v1/accounts', { key: A.testSecret, params: { limit: '100' } })).data as Array<{ id: string }>).map((a) => a.id);
      assert.ok(!listed.includes(z.accountId), 'no longer among the connected accounts');
      // The other connections of the platform are untouched.
      ok(await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account: x.accountId }));
    });

    it('a revocation made through one process is seen by a second process on the same database at its next request', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'connectd-iso-'));
      const seedFile = join(dir, 'seed.json');
      writeFileSync(seedFile, JSON.stringify(testSeed()));
      const dbArg = server.pgSchema ? `${PG_URL}?options=${encodeURIComponent(`-c search_path=${server.pgSchema}`)}` : (server.sqlitePath ?? '');
      let second: ServerProcess | undefined;
      try {
        second = await spawnServer(['--db', dbArg, '--seed', seedFile, '--log-level', 'warn']);
        const w = await connectNew(server.url, A);
        const v = await connectNew(second.url, A);
        // Both processes serve both connections (and have warmed whatever they cache).
        for (const base of [server.url, second.url]) {
          for (const c of [w, v]) {
            ok(await call(base, 'GET', '/v1/customers', { key: A.testSecret, account: c.accountId }));
            ok(await call(base, 'GET', '/v1/account', { key: c.accessToken }));
          }
        }
        await deauthorize(server.url, A, w.accountId);
        assertNoAccess(await call(second.url, 'GET', '/v1/customers', { key: A.testSecret, account: w.accountId }), A.testSecret, w.accountId);
        assertNoAccess(
          await call(second.url, 'POST', '/v1/customers', { key: A.testSecret, account: w.accountId, params: { email: 'late@example.com' } }),
          A.testSecret,
          w.accountId,
        );
        apiError(await call(second.url, 'GET', '/v1/account', { key: w.accessToken }), 401);
        // And the other direction.
        await deauthorize(second.url, A, v.accountId);
        assertNoAccess(await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account: v.accountId }), A.testSecret, v.accountId);
        apiError(await call(server.url, 'GET', '/v1/account', { key: v.accessToken }), 401);
      } finally {
        if (second) assert.equal(await second.stop(), 0, 'graceful shutdown');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe(`read_only connection on ${db}`, () => {
    let server: TestServer;
    let readOnly: Connected;
    const data = { customer: '', charge: '', uncaptured: '', refund: '', eventOfA: '', endpointOfA: '', endpointOfB: '', createdByB: '' };

    before(async () => {
      server = await startTestServer({ db });
      // Merchant M connects to B with read_write (B creates M's data) and to A with read_only.
      const browser = new FormClient(server.url);
      await browser.login(M.email, M.password);
      const toB = await browser.connect({ response_type: 'code', client_id: B.clientIdTest, scope: 'read_write', redirect_uri: B.redirect });
      await exchange(server.url, B.testSecret, codeFrom(toB), M.id);
      const toA = await browser.connect({ response_type: 'code', client_id: A.clientIdTest, scope: 'read_only', redirect_uri: A.redirect });
      readOnly = await exchange(server.url, A.testSecret, codeFrom(toA), M.id);
      assert.equal(readOnly.scope, 'read_only');
      const asB = { key: B.testSecret, account: M.id };
      data.customer = String(ok(await call(server.url, 'POST', '/v1/customers', { ...asB, params: { email: 'm-customer@example.com', source: 'tok_visa' } })).id);
      data.charge = String(ok(await call(server.url, 'POST', '/v1/charges', { ...asB, params: { amount: '2500', currency: 'usd', customer: data.customer } })).id);
      data.refund = String(ok(await call(server.url, 'POST', '/v1/refunds', { ...asB, params: { charge: data.charge, amount: '500' } })).id);
      data.uncaptured = String(ok(await call(server.url, 'POST', '/v1/charges', { ...asB, params: { amount: '700', currency: 'usd', customer: data.customer, capture: 'false' } })).id);
      // The platforms' own objects, for the routes only a key's own account may call.
      const events = ok(await call(server.url, 'GET', '/v1/events', { key: A.testSecret })).data as Array<{ id: string }>;
      data.eventOfA = events[0]?.id ?? '';
      assert.match(data.eventOfA, /^evt_/, 'connecting M emitted an event for A');
      const endpoint = { url: 'http://127.0.0.1:9/hook', 'enabled_events[0]': 'account.application.deauthorized' };
      data.endpointOfA = String(ok(await call(server.url, 'POST', '/v1/webhook_endpoints', { key: A.testSecret, params: endpoint })).id);
      data.endpointOfB = String(ok(await call(server.url, 'POST', '/v1/webhook_endpoints', { key: B.testSecret, params: endpoint })).id);
      // A Standard account B created through the API: the account routes that only its creator may call.
      data.createdByB = String(ok(await call(server.url, 'POST', '/v1/accounts', { key: B.testSecret, params: { type: 'standard' } })).id);
    });
    after(() => server.close());

    /** Reads; `own` marks routes answered only for a key's own account (A's objects there). */
    const readSamples = (): Record<string, Sample & { id?: string }> => ({
      'GET /v1/account': { path: '/v1/account', id: M.id },
      'GET /v1/accounts/:id': { path: `/v1/accounts/${M.id}`, id: M.id },
      'GET /v1/accounts': { path: '/v1/accounts' },
      'GET /v1/customers': { path: '/v1/customers' },
      'GET /v1/customers/:id': { path: `/v1/customers/${data.customer}`, id: data.customer },
      'GET /v1/charges': { path: '/v1/charges', params: { customer: data.customer } },
      'GET /v1/charges/:id': { path: `/v1/charges/${data.charge}`, id: data.charge },
      'GET /v1/refunds': { path: '/v1/refunds', params: { charge: data.charge } },
      'GET /v1/refunds/:id': { path: `/v1/refunds/${data.refund}`, id: data.refund },
      'GET /v1/events': { path: '/v1/events' },
      'GET /v1/events/:id': { path: `/v1/events/${data.eventOfA}`, id: data.eventOfA },
      'GET /v1/webhook_endpoints': { path: '/v1/webhook_endpoints' },
      'GET /v1/webhook_endpoints/:id': { path: `/v1/webhook_endpoints/${data.endpointOfA}`, id: data.endpointOfA },
    });
    /**
     * Writes that would succeed with enough permission; `endpoint` is a webhook endpoint of the
     * caller, `created` an account it created through the API (M where the request is refused first).
     */
    const writeSamples = (endpoint: string, created: string): Record<string, Sample> => ({
      'POST /v1/accounts': { path: '/v1/accounts', params: { type: 'standard' }, own: true },
      'POST /v1/accounts/:id': { path: `/v1/accounts/${created}`, params: { 'metadata[k]': 'v' }, own: created !== M.id },
      'DELETE /v1/accounts/:id': { path: `/v1/accounts/${created}`, own: created !== M.id },
      'POST /v1/account_links': { path: '/v1/account_links', params: { account: created, type: 'account_onboarding', refresh_url: 'http://127.0.0.1:9/r', return_url: 'http://127.0.0.1:9/x' } },
      'POST /v1/customers': { path: '/v1/customers', params: { email: 'new@example.com' } },
      'POST /v1/customers/:id': { path: `/v1/customers/${data.customer}`, params: { description: 'changed', 'metadata[k]': 'v' } },
      'DELETE /v1/customers/:id': { path: `/v1/customers/${data.customer}` },
      'POST /v1/charges': { path: '/v1/charges', params: { amount: '100', currency: 'usd', source: 'tok_visa' } },
      'POST /v1/charges/:id': { path: `/v1/charges/${data.charge}`, params: { description: 'changed' } },
      'POST /v1/charges/:id/capture': { path: `/v1/charges/${data.uncaptured}/capture` },
      'POST /v1/refunds': { path: '/v1/refunds', params: { charge: data.charge, amount: '100' } },
      'POST /v1/test_helpers/oauth/authorize': { path: '/v1/test_helpers/oauth/authorize', params: { client_id: A.clientIdTest } },
      'POST /v1/webhook_endpoints': { path: '/v1/webhook_endpoints', params: { url: 'http://127.0.0.1:9/other', 'enabled_events[0]': '*' } },
      'POST /v1/webhook_endpoints/:id': { path: `/v1/webhook_endpoints/${endpoint}`, params: { description: 'changed' } },
      'POST /v1/webhook_endpoints/:id/roll_secret': { path: `/v1/webhook_endpoints/${endpoint}/roll_secret`, params: { expires_in: '0' } },
      'DELETE /v1/webhook_endpoints/:id': { path: `/v1/webhook_endpoints/${endpoint}` },
    });

    async function snapshot(): Promise<string> {
      const dbh = server.ctx.store.db;
      const rows = await dbh.selectFrom('resources').selectAll().orderBy('id').execute();
      const counts = await Promise.all(
        (['accounts', 'api_keys', 'connections', 'authorization_codes', 'idempotency_keys', 'events', 'webhook_endpoints'] as const).map(async (t) => {
          const r = await dbh.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
          return [t, Number(r?.n ?? 0)];
        }),
      );
      return JSON.stringify({ rows, counts });
    }

    it('every read route answers 200 (platform key + Stripe-Account, and the read_only access token)', async () => {
      const samples = readSamples();
      const reads = API_ROUTES.filter((r) => r.access === 'read');
      for (const route of reads) {
        const sample = samples[routeKey(route)];
        assert.ok(sample, `add a read sample for ${routeKey(route)}`);
        const params = sample.params ? { params: sample.params } : {};
        const check = (body: Record<string, unknown>) => {
          if (sample.id) assert.equal(body.id, sample.id, routeKey(route));
          else assert.ok((body.data as unknown[]).length >= 1, `${routeKey(route)} lists the object`);
        };
        if (route.ownKeyOnly) {
          // Only a key's own account may call these: A's key reads A's own objects, and acting on
          // behalf is refused for that reason (400), not for the scope — except the event routes,
          // where the platform key + Stripe-Account reads the platform's events about that account.
          check(ok(await call(server.url, 'GET', sample.path, { key: A.testSecret, ...params })));
          if (route.onBehalf) check(ok(await call(server.url, 'GET', sample.path, { key: A.testSecret, account: M.id, ...params })));
          for (const auth of [...(route.onBehalf ? [] : [{ key: A.testSecret, account: M.id }]), { key: readOnly.accessToken }]) {
            const err = apiError(await call(server.url, 'GET', sample.path, { ...auth, ...params }), 400);
            assert.doesNotMatch(err.message, /read_write/, routeKey(route));
          }
          continue;
        }
        for (const auth of [{ key: A.testSecret, account: M.id }, { key: readOnly.accessToken }]) {
          check(ok(await call(server.url, 'GET', sample.path, { ...auth, ...params })));
        }
      }
    });

    it('every write route answers 403 with the read_write text (400 where only a key’s own account may call it), and no state changes', async () => {
      const samples = writeSamples(data.endpointOfA, M.id);
      const before = await snapshot();
      const writes = API_ROUTES.filter((r) => r.access === 'write');
      assert.ok(writes.filter((r) => !r.ownKeyOnly).length >= 7);
      for (const route of writes) {
        const sample = samples[routeKey(route)];
        assert.ok(sample, `add a write sample for ${routeKey(route)}`);
        for (const auth of [{ key: A.testSecret, account: M.id }, { key: readOnly.accessToken }]) {
          const r = await call(server.url, route.method, sample.path, {
            ...auth,
            ...(sample.params ? { params: sample.params } : {}),
            headers: { 'idempotency-key': `ro-${routeKey(route)}` },
          });
          if (route.ownKeyOnly) {
            assert.equal(apiError(r, 400).type, 'invalid_request_error', routeKey(route));
            continue;
          }
          const err = apiError(r, 403);
          assert.equal(err.type, 'invalid_request_error', routeKey(route));
          assert.equal(err.message, readOnlyMessage(M.id), routeKey(route));
        }
      }
      assert.equal(await snapshot(), before, 'no row changed, nothing was stored');
      await assert.rejects(sdk(server, A.testSecret).customers.create({ email: 'sdk@example.com' }, { stripeAccount: M.id }), (e: unknown) => {
        assert.ok(e instanceof Stripe.errors.StripePermissionError, String(e));
        assert.equal(e.message, readOnlyMessage(M.id));
        return true;
      });
    });

    it('the same write requests succeed with enough permission (the samples are valid)', async () => {
      const samples = writeSamples(data.endpointOfB, data.createdByB);
      // Deletes last: the other samples use the customer and the endpoint.
      const writes = API_ROUTES.filter((r) => r.access === 'write').sort((p, q) => Number(p.method === 'DELETE') - Number(q.method === 'DELETE'));
      for (const route of writes) {
        const sample = samples[routeKey(route)];
        assert.ok(sample);
        // B acts for M with read_write; own-key routes run as B itself.
        const own = route.ownKeyOnly === true || sample.own === true || route.path.startsWith('/v1/test_helpers/');
        const params = route.path.startsWith('/v1/test_helpers/') ? { client_id: B.clientIdTest } : sample.params;
        ok(await call(server.url, route.method, sample.path, { key: B.testSecret, ...(own ? {} : { account: M.id }), ...(params ? { params } : {}) }));
      }
      assert.equal(ok(await call(server.url, 'GET', `/v1/charges/${data.charge}`, { key: A.testSecret, account: M.id })).amount_refunded, 600);
    });
  });
}

describe('every /v1 route declares its access', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ db: 'sqlite' });
  });
  after(() => server.close());

  it('every route the app registers under /v1 is in API_ROUTES with read or write', () => {
    const registered = registeredV1Routes(server.app);
    assert.deepEqual(undeclared(server.app), []);
    for (const r of API_ROUTES) {
      assert.ok(registered.has(routeKey(r)), `${routeKey(r)} is in the table and registered`);
      assert.ok(r.access === 'read' || r.access === 'write', routeKey(r));
      if (r.method !== 'GET') assert.equal(r.access, 'write', `${routeKey(r)} changes state: it must be a write`);
    }
    assert.equal(new Set(API_ROUTES.map(routeKey)).size, API_ROUTES.length, 'no route declared twice');
    assert.equal(accessOf(API_ROUTES, 'GET', '/v1/not_declared'), 'write', 'an undeclared route counts as a write');
    assert.equal(accessOf(API_ROUTES, 'GET', '/v1/customers'), 'read');
  });

  it('the check fails when a /v1 route is registered outside the table', async () => {
    const app = await buildApp(server.ctx);
    try {
      app.get('/v1/rogue', async () => ({}));
      app.post('/v1/customers/:id/rogue', async () => ({}));
      await app.ready();
      assert.deepEqual(undeclared(app), ['GET /v1/rogue', 'POST /v1/customers/:id/rogue']);
    } finally {
      await app.close();
    }
  });
});
