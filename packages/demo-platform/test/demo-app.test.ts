// Roadrunner Rides against bad input, over real HTTP: every refusal is a clear page or JSON answer
// with the right status, never a 500, and nothing is written on the way.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildDemoApp } from '../src/app.ts';
import { openDatabase, type DemoDb } from '../src/db.ts';
import { A } from '../../server/test/support/fixtures.ts';
import { startTestServer, type TestServer } from '../../server/test/support/server.ts';

const WEBHOOK_SECRET = 'whsec_DemoAppTest0000000000000000000';

describe('demo platform: bad input', () => {
  let server: TestServer;
  let db: DemoDb;
  let url: string;
  let close: () => Promise<void>;

  before(async () => {
    server = await startTestServer();
    db = openDatabase(':memory:');
    const app = await buildDemoApp({ db, publicUrl: 'http://127.0.0.1:1', connectBase: server.url, apiBase: server.url, clientId: A.clientIdTest, secretKey: A.testSecret, webhookSecrets: [WEBHOOK_SECRET] });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    close = () => app.close();
  });
  after(async () => {
    await close?.();
    db?.close();
    await server?.close();
  });

  const form = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) });

  async function signIn(email: string): Promise<{ cookie: string; csrf: string }> {
    const res = await form('/sign-in', { name: 'Dana', email });
    assert.equal(res.status, 303);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const page = await (await fetch(`${url}/driver`, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    assert.ok(csrf);
    return { cookie, csrf };
  }

  it('sign-in: a bad email or name is a 400 form with an alert, and no session', async () => {
    for (const body of [{ name: 'Dana', email: 'not-an-email' } as Record<string, string>, { name: '', email: 'dana@example.com' }, { name: 'x'.repeat(101), email: 'dana@example.com' }, { name: 'Dana' }]) {
      const res = await form('/sign-in', body);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('set-cookie'), null);
      assert.match(await res.text(), /role="alert">Give your name and a valid email address/);
    }
  });

  it('a form posted from another site is refused', async () => {
    const res = await form('/sign-in', { name: 'Dana', email: 'dana@example.com' }, { origin: 'http://evil.example' });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('set-cookie'), null);
  });

  it('disconnect and sign-out need the session and its CSRF token', async () => {
    const { cookie, csrf } = await signIn('csrf@example.com');
    assert.equal((await form('/disconnect', {}, { cookie })).status, 403);
    assert.equal((await form('/disconnect', { csrf: `${csrf}x` }, { cookie })).status, 403);
    assert.equal((await form('/disconnect', { csrf })).headers.get('location'), '/');
    // Creating an account (the Account Links path) is a signed-in form too.
    assert.equal((await form('/connect/onboard', {}, { cookie })).status, 403);
    assert.equal((await form('/connect/onboard', { csrf })).headers.get('location'), '/');
    // Sign-out without the token clears this browser's cookie but keeps the session usable.
    await form('/sign-out', {}, { cookie });
    assert.equal((await fetch(`${url}/driver`, { headers: { cookie }, redirect: 'manual' })).status, 200);
  });

  it('disconnect: "not connected" at connectd removes the connection here; an unreachable connectd keeps it', async () => {
    const { cookie, csrf } = await signIn('gone@example.com');
    const driver = db.session(cookie.split('=')[1] ?? '')?.driver;
    assert.ok(driver);
    db.saveConnection({ driver_id: driver.id, stripe_user_id: 'acct_NeverConnected1', scope: 'read_write', livemode: 0 });
    const res = await form('/disconnect', { csrf }, { cookie });
    assert.equal(res.headers.get('location'), '/driver?done=disconnected');
    assert.equal(db.connection(driver.id), undefined);

    const offline = await buildDemoApp({ db, publicUrl: 'http://127.0.0.1:1', connectBase: 'http://127.0.0.1:9', apiBase: 'http://127.0.0.1:9', clientId: A.clientIdTest, secretKey: A.testSecret, webhookSecrets: [WEBHOOK_SECRET] });
    const offlineUrl = await offline.listen({ port: 0, host: '127.0.0.1' });
    try {
      db.saveConnection({ driver_id: driver.id, stripe_user_id: 'acct_StillConnected1', scope: 'read_write', livemode: 0 });
      const failed = await fetch(`${offlineUrl}/disconnect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams({ csrf }) });
      assert.equal(failed.status, 502);
      assert.match(await failed.text(), /You are still connected/);
      assert.equal(db.connection(driver.id)?.stripe_user_id, 'acct_StillConnected1');
    } finally {
      await offline.close();
    }
  });

  it('connect start needs a signed-in driver; a callback without the state cookie is refused', async () => {
    for (const path of ['/connect/start', '/connect/%73tart']) {
      const start = await fetch(`${url}${path}`, { redirect: 'manual' });
      assert.equal(start.status, 303);
      assert.equal(start.headers.get('location'), '/');
    }
    const cb = await fetch(`${url}/connect/callback?code=ac_${'x'.repeat(32)}&state=${'y'.repeat(43)}`);
    assert.equal(cb.status, 400);
    assert.match(await cb.text(), /This link cannot connect an account/);
    const odd = await fetch(`${url}/connect/callback?code[]=1&state[a]=2&error=%ff`);
    assert.equal(odd.status, 400);
  });

  it('webhooks: unsigned, wrongly signed or non-JSON bodies are a 400 and change nothing; a signed event is taken once', async () => {
    const post = (body: string, signature?: string) => fetch(`${url}/connect/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) }, body });
    const sign = (body: string) => {
      const t = Math.floor(Date.now() / 1000);
      return `t=${t},v1=${createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex')}`;
    };
    const { driver } = db.signIn('Webhook Wendy', 'wendy@example.com');
    db.saveConnection({ driver_id: driver.id, stripe_user_id: 'acct_WendyWebhook', scope: 'read_write', livemode: 0 });
    const event = JSON.stringify({ id: 'evt_demo1', type: 'account.application.deauthorized', account: 'acct_WendyWebhook', livemode: false, created: Math.floor(Date.now() / 1000) + 1, data: { object: {} } });
    assert.equal((await post(event)).status, 400);
    assert.equal((await post(event, sign(`${event} `))).status, 400);
    assert.equal((await post('{"id":', sign('{"id":'))).status, 400);
    assert.ok(db.connection(driver.id), 'nothing removed by a refused delivery');
    const first = await post(event, sign(event));
    assert.deepEqual(await first.json(), { received: true });
    assert.equal(db.connection(driver.id), undefined);
    // Connected again after that event: its redelivery changes nothing, and is recorded once.
    db.saveConnection({ driver_id: driver.id, stripe_user_id: 'acct_WendyWebhook', scope: 'read_write', livemode: 0 });
    const again = await post(event, sign(event));
    assert.deepEqual(await again.json(), { received: true });
    assert.ok(db.connection(driver.id));
    assert.equal(db.steps(driver.id).filter((s) => s.title.startsWith('Disconnected from connectd')).length, 1);
    // An event created before the current connection (a late delivery after a reconnect) keeps it.
    const stale = JSON.stringify({ id: 'evt_demo_stale', type: 'account.application.deauthorized', account: 'acct_WendyWebhook', livemode: false, created: 1, data: { object: {} } });
    assert.equal((await post(stale, sign(stale))).status, 200);
    assert.ok(db.connection(driver.id));
    const text = await fetch(`${url}/connect/webhooks`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: event });
    assert.equal(text.status, 400);
  });
});
