// The framework-free routes on their own: cookie attributes, and the webhook route's handled-once
// bookkeeping when the app's handler fails (the provider's retry must be handled, not skipped).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { createConnect, createConnectRoutes, eventDeduper, type WebhookEvent } from '../src/index.ts';

const SECRET = 'whsec_RoutesTest000000000000000000';
const connect = createConnect({
  clientId: 'ca_RoutesTest',
  secretKey: 'sk_test_RoutesTest',
  connectBase: 'https://connect.example',
  fetch: () => Promise.reject(new Error('no request is expected in these tests')),
});

function signed(event: object): { rawBody: string; headers: Record<string, string> } {
  const rawBody = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', SECRET).update(`${t}.${rawBody}`).digest('hex');
  return { rawBody, headers: { 'stripe-signature': `t=${t},v1=${v1}` } };
}

describe('createConnectRoutes', () => {
  it('start: the state cookie is Secure when the callback is HTTPS, and scoped to its path', async () => {
    const routes = createConnectRoutes({ connect, stateSecret: 'k'.repeat(32), redirectUri: 'https://rides.example/stripe/callback', onConnected: () => ({ redirect: '/' }) });
    const r = await routes.start({ query: {}, headers: {} }, undefined);
    assert.equal(r.status, 303);
    assert.match(String(r.headers['set-cookie']), /; Path=\/stripe\/callback; HttpOnly; Secure; SameSite=Lax$/);
    assert.equal(new URL(String(r.headers.location)).origin, 'https://connect.example');
    assert.equal(r.headers['cache-control'], 'no-store');
  });

  it('callback: no cookie and no state is a failure page, made without any request', async () => {
    const routes = createConnectRoutes({ connect, stateSecret: 'k'.repeat(32), redirectUri: 'https://rides.example/cb', onConnected: () => ({ redirect: '/' }) });
    const r = await routes.callback({ query: { code: 'ac_x' }, headers: {} }, undefined);
    assert.equal(r.status, 400);
    assert.match(r.body, /Could not connect/);
  });

  it('callback: a provider that cannot be reached is a failure page, not a crash', async () => {
    let failure = '';
    const routes = createConnectRoutes({
      connect,
      stateSecret: 'k'.repeat(32),
      redirectUri: 'https://rides.example/cb',
      onConnected: () => ({ redirect: '/' }),
      onFailed: (f) => ((failure = f.error), { status: 502, html: 'down' }),
    });
    const started = await routes.start({ query: {}, headers: {} }, undefined);
    const state = new URL(String(started.headers.location)).searchParams.get('state') ?? '';
    const cookie = String(started.headers['set-cookie']).split(';')[0] ?? '';
    const r = await routes.callback({ query: { code: 'ac_x', state }, headers: { cookie } }, undefined);
    assert.equal(r.status, 502);
    assert.equal(failure, 'api_connection_error');
  });

  it('webhook: an empty or missing secret fails when the routes are created', () => {
    const base = { connect, stateSecret: 'k'.repeat(32), redirectUri: 'https://rides.example/cb', onConnected: () => ({ redirect: '/' }) };
    assert.throws(() => createConnectRoutes({ ...base, webhook: { secrets: [''], onEvent: () => undefined } }), TypeError);
    assert.throws(() => createConnectRoutes({ ...base, webhook: { secrets: [process.env.NO_SUCH_VARIABLE_SET as string], onEvent: () => undefined } }), TypeError);
  });

  it('webhook: a handler that throws leaves the event unhandled, so the retry is handled', async () => {
    const handled: WebhookEvent[] = [];
    let failNext = true;
    const routes = createConnectRoutes({
      connect,
      stateSecret: 'k'.repeat(32),
      redirectUri: 'https://rides.example/cb',
      onConnected: () => ({ redirect: '/' }),
      webhook: {
        secrets: () => [SECRET],
        seen: eventDeduper(),
        onEvent: (event) => {
          if (failNext) {
            failNext = false;
            throw new Error('database down');
          }
          handled.push(event);
        },
      },
    });
    const delivery = { query: {}, ...signed({ id: 'evt_1', type: 'account.application.deauthorized', account: 'acct_1', livemode: false, created: 1, data: { object: {} } }) };
    await assert.rejects(routes.webhook(delivery, undefined), /database down/);
    assert.deepEqual(JSON.parse((await routes.webhook(delivery, undefined)).body), { received: true });
    assert.deepEqual(JSON.parse((await routes.webhook(delivery, undefined)).body), { received: true, duplicate: true });
    assert.equal(handled.length, 1);
    // Signed garbage is a 400, not a crash.
    const garbage = { query: {}, ...signed({}) };
    garbage.rawBody = 'not json';
    const t = Math.floor(Date.now() / 1000);
    garbage.headers['stripe-signature'] = `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.not json`).digest('hex')}`;
    assert.equal((await routes.webhook(garbage, undefined)).status, 400);
    await assert.rejects(routes.webhook({ query: {}, headers: {} }, undefined), /raw request body/);
  });
});
