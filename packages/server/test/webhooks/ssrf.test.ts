// Webhook targets (docs/webhooks.md "Where webhooks may be sent"): with private targets denied,
// /v1/webhook_endpoints and the dashboard refuse loopback, private and metadata URLs, and a
// delivery to a loopback endpoint (a seeded one) is refused at send without a connection and
// logged as one fixed message; the default setting follows the listen address.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { guardedLookup, TARGET_NOT_ALLOWED } from '../../src/webhooks/http-post.ts';
import { A, testSeed } from '../support/fixtures.ts';
import { connectNew, FormClient } from '../support/flow.ts';
import { post } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';

const PRIVATE_URLS = [
  'http://127.0.0.1:5432/',
  'http://127.0.0.1:18601/internal-admin',
  'http://localhost:5432/',
  'http://[::1]:5432/',
  'http://10.0.0.1/',
  'http://[2002:7f00:1::]/',
];
const FORBIDDEN_URLS = ['http://[fd00:ec2::254]/', 'http://100.100.100.200/', 'http://0.0.0.0:5432/', 'http://169.254.169.254/latest/meta-data'];

describe('private webhook targets denied', () => {
  let server: TestServer;
  // A bare TCP listener: it counts connections, so "never connected" is observed, not assumed.
  let listener: Server;
  let connections = 0;
  let port = 0;
  before(async () => {
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;
    const seed = testSeed();
    const platform = seed.accounts[0]?.platform;
    assert.ok(platform);
    // Seeds are the operator's; they are not checked at registration, so the send check is what stops them.
    platform.webhook_endpoints = [
      { url: `http://127.0.0.1:${port}/literal`, livemode: false },
      { url: `http://localhost:${port}/name`, livemode: false },
    ];
    server = await startTestServer({ seed, args: ['--webhook-private-targets', 'deny', '--webhook-retry', 'fast'], env: { CONNECTD_WEBHOOK_POLL_MS: '50' } });
  });
  after(async () => {
    await server.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });

  const create = (key: string, url: string, extra: Record<string, string> = {}) =>
    post(`${server.url}/v1/webhook_endpoints`, { url, connect: 'true', 'enabled_events[]': '*', ...extra }, { authorization: `Bearer ${key}` });

  it('/v1/webhook_endpoints refuses loopback, private and metadata URLs in test and live mode: 400 on param url', async () => {
    for (const [key, urls] of [
      [A.testSecret, [...PRIVATE_URLS, ...FORBIDDEN_URLS]],
      [A.liveSecret, [...PRIVATE_URLS, ...FORBIDDEN_URLS].map((u) => u.replace(/^http:/, 'https:'))],
    ] as const) {
      for (const url of urls) {
        const r = await create(key, url);
        assert.equal(r.status, 400, `${url}: ${r.text}`);
        const error = r.json.error as Record<string, unknown>;
        assert.equal(error.type, 'invalid_request_error');
        assert.equal(error.code, 'url_invalid');
        assert.equal(error.param, 'url');
        assert.match(String(error.message), /^Invalid URL: .*(loopback or private|link-local, cloud metadata)/, url);
      }
    }
    // A public name is accepted (it is checked at every send); changing its URL to a private one is not.
    const ok = await create(A.testSecret, 'https://hooks.example.com/x', { connect: 'false', 'enabled_events[]': 'customer.created' });
    assert.equal(ok.status, 200, ok.text);
    const id = String(ok.json.id);
    const moved = await post(`${server.url}/v1/webhook_endpoints/${id}`, { url: 'http://127.0.0.1:5432/' }, { authorization: `Bearer ${A.testSecret}` });
    assert.equal(moved.status, 400, moved.text);
    assert.equal((moved.json.error as Record<string, unknown>).param, 'url');
    const gone = await fetch(`${server.url}/v1/webhook_endpoints/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${A.testSecret}` } });
    assert.equal(gone.status, 200);
  });

  it('the dashboard refuses them with a form error and adds nothing', async () => {
    const c = new FormClient(server.url);
    await c.login(A.email, A.password);
    const csrf = FormClient.csrfFrom((await c.get('/dashboard/webhooks')).text);
    const count = async () => (await server.ctx.store.db.selectFrom('webhook_endpoints').select('id').where('account_id', '=', A.id).execute()).length;
    const before = await count();
    for (const url of ['http://127.0.0.1:5432/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/']) {
      const r = await c.post('/dashboard/webhooks', { _csrf: csrf, url, mode: 'test' });
      assert.equal(r.status, 400, url);
      assert.match(r.text, /role="alert">That URL is not allowed: /, url);
    }
    // One URL rule with /v1 (webhooks/endpoints.ts): credentials in the URL and non-http schemes are refused here too.
    for (const url of ['https://user:pass@hooks.example.com/x', 'https://user@hooks.example.com/x', 'ftp://hooks.example.com/x', 'not a url']) {
      const r = await c.post('/dashboard/webhooks', { _csrf: csrf, url, mode: 'test' });
      assert.equal(r.status, 400, url);
      assert.match(r.text, /role="alert">Enter an http or https URL, without a user name or password\./, url);
      const v1 = await post(`${server.url}/v1/webhook_endpoints`, { url, 'enabled_events[]': '*' }, { authorization: `Bearer ${A.testSecret}` });
      assert.equal(v1.status, 400, `${url}: ${v1.text}`);
      assert.equal((v1.json.error as Record<string, unknown>).param, 'url');
    }
    assert.equal(await count(), before);
  });

  it('a delivery to a loopback endpoint is refused at send without a connection, logged as one fixed message', async () => {
    await connectNew(server.url, A, 'read_only');
    const attempted = await waitUntil('both deliveries attempted twice', async () => {
      const rows = await server.ctx.store.db
        .selectFrom('delivery_attempts')
        .innerJoin('deliveries', 'deliveries.id', 'delivery_attempts.delivery_id')
        .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'deliveries.endpoint_id')
        .select(['webhook_endpoints.url', 'delivery_attempts.status_code', 'delivery_attempts.error'])
        .execute();
      // Two attempts each: a refused target is retried on the normal schedule, never connecting.
      return rows.filter((r) => r.url.endsWith('/literal')).length >= 2 && rows.filter((r) => r.url.endsWith('/name')).length >= 2 ? rows : undefined;
    });
    for (const r of attempted) {
      assert.equal(r.status_code, null);
      assert.equal(r.error, TARGET_NOT_ALLOWED);
    }
    assert.equal(connections, 0, 'no connection was ever made to the loopback listener');
    const c = new FormClient(server.url);
    await c.login(A.email, A.password);
    const page = await c.get('/dashboard/webhooks');
    assert.match(page.text, /<span class="hint">target not allowed<\/span>/);
    assert.doesNotMatch(page.text, /ECONNREFUSED|socket hang up|ECONNRESET/);
  });
});

describe('the send-time DNS check', () => {
  const resolve = (privateTargets: 'allow' | 'deny') =>
    new Promise<{ err: Error | null; address: string }>((done) =>
      guardedLookup({ livemode: false, privateTargets })('localhost', {}, (err, address) => done({ err, address: String(address) })),
    );
  it('hands the socket no address the policy refuses', async () => {
    const denied = await resolve('deny');
    assert.equal(denied.err?.message, TARGET_NOT_ALLOWED);
    const allowed = await resolve('allow');
    assert.equal(allowed.err, null);
    assert.match(allowed.address, /^(127\.|::1$)/);
  });
});

describe('--webhook-private-targets', () => {
  const setting = (args: string[], env: Record<string, string> = {}) => loadConfig(['serve', ...args], env).config.webhookPrivateTargets;
  it('defaults to allow only in development on a loopback host and URL', () => {
    assert.equal(setting([]), 'allow');
    assert.equal(setting(['--host', '::1']), 'allow');
    assert.equal(setting(['--host', 'localhost']), 'allow');
    assert.equal(setting(['--host', '127.0.0.2']), 'allow');
    assert.equal(setting(['--host', '0.0.0.0']), 'deny');
    assert.equal(setting(['--host', '::']), 'deny');
    assert.equal(setting(['--host', '192.168.1.5']), 'deny');
    assert.equal(setting(['--host', '203.0.113.7']), 'deny');
    assert.equal(setting([], { CONNECTD_ENV: 'production', CONNECTD_SECRET: 'x'.repeat(32) }), 'deny');
    // Behind a reverse proxy a loopback listener is public.
    assert.equal(setting(['--public-url', 'https://connect.example.com']), 'deny');
    assert.equal(setting(['--public-url', 'http://localhost:8080']), 'allow');
  });
  it('the flag, then the environment variable, override the default', () => {
    assert.equal(setting(['--host', '0.0.0.0', '--webhook-private-targets', 'allow']), 'allow');
    assert.equal(setting([], { CONNECTD_WEBHOOK_PRIVATE_TARGETS: 'deny' }), 'deny');
    assert.equal(setting(['--webhook-private-targets', 'allow'], { CONNECTD_WEBHOOK_PRIVATE_TARGETS: 'deny', CONNECTD_ENV: 'production', CONNECTD_SECRET: 'x'.repeat(32) }), 'allow');
    assert.throws(() => setting(['--webhook-private-targets', 'maybe']), (e: unknown) => e instanceof ConfigError && /--webhook-private-targets/.test(e.message));
  });
  it('a server published under a public URL refuses loopback endpoints by default', async () => {
    const server = await startTestServer({ args: ['--public-url', 'https://connect.example.com'] });
    try {
      assert.equal(server.ctx.config.webhookPrivateTargets, 'deny');
      const r = await post(`${server.url}/v1/webhook_endpoints`, { url: 'http://127.0.0.1:4000/hooks', 'enabled_events[]': '*' }, { authorization: `Bearer ${A.testSecret}` });
      assert.equal(r.status, 400, r.text);
      assert.equal((r.json.error as Record<string, unknown>).param, 'url');
    } finally {
      await server.close();
    }
  });
});
