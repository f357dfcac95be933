// /oauth/token and /oauth/deauthorize rules from docs/contract.md Part A, over real HTTP, on both databases.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { A, B, M } from '../support/fixtures.ts';
import { codeFrom, connectNew, exchange, FormClient, helperCode } from '../support/flow.ts';
import { post } from '../support/http.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });

for (const db of DB_KINDS) {
  describe(`token endpoint on ${db}`, () => {
    let server: TestServer;
    let merchant: FormClient;
    before(async () => {
      server = await startTestServer({ db });
      merchant = new FormClient(server.url);
      await merchant.login(M.email, M.password);
    });
    after(() => server.close());

    const token = (body: Record<string, string>, headers: Record<string, string> = bearer(A.testSecret), extra: Record<string, string> = {}) =>
      post(`${server.url}/oauth/token`, body, { ...headers, ...extra });
    const testCode = async (scope = 'read_write') => (await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, scope })).code;
    const liveCode = async () =>
      codeFrom(await merchant.connect({ response_type: 'code', client_id: A.clientIdLive, scope: 'read_write', always_prompt: 'true' }));

    it('accepts the key by Bearer, by Basic (username) and as body client_secret', async () => {
      for (const [how, headers, body] of [
        ['bearer', bearer(A.testSecret), {}],
        ['basic', basic(A.testSecret), {}],
        ['body', {}, { client_secret: A.testSecret }],
      ] as const) {
        const res = await token({ grant_type: 'authorization_code', code: await testCode(), ...body }, headers);
        assert.equal(res.status, 200, `${how}: ${res.text}`);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.equal(res.headers.get('pragma'), 'no-cache');
        assert.match(res.headers.get('request-id') ?? '', /^req_[A-Za-z0-9]{14}$/);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json; charset=utf-8/);
      }
    });

    it('uses the header key when header and body client_secret differ', async () => {
      const res = await token({ grant_type: 'authorization_code', code: await testCode(), client_secret: A.testSecret }, bearer(B.testSecret));
      assert.equal(res.status, 400);
      assert.equal(res.json.error_description, 'Authorization code provided does not belong to you');
    });

    it('live client_id codes: a live key gives live tokens, a test key test tokens', async () => {
      const live = await token({ grant_type: 'authorization_code', code: await liveCode() }, bearer(A.liveSecret));
      assert.equal(live.status, 200, live.text);
      assert.equal(live.json.livemode, true);
      assert.match(String(live.json.access_token), /^sk_live_/);
      assert.match(String(live.json.stripe_publishable_key), /^pk_live_/);
      const test = await token({ grant_type: 'authorization_code', code: await liveCode() }, bearer(A.testSecret));
      assert.equal(test.status, 200);
      assert.equal(test.json.livemode, false);
      assert.match(String(test.json.access_token), /^sk_test_/);

      // Refresh: a live connection's refresh token with a test key returns a test token.
      const rt = String(live.json.refresh_token);
      const r1 = await token({ grant_type: 'refresh_token', refresh_token: rt }, bearer(A.testSecret));
      assert.equal(r1.status, 200);
      assert.equal(r1.json.livemode, false);
      const r2 = await token({ grant_type: 'refresh_token', refresh_token: rt }, bearer(A.liveSecret));
      assert.equal(r2.json.livemode, true);
    });

    it('a test refresh token with a live key is invalid_grant', async () => {
      const t = await connectNew(server.url, A);
      const res = await token({ grant_type: 'refresh_token', refresh_token: t.refreshToken }, bearer(A.liveSecret));
      assert.equal(res.status, 400);
      assert.equal(res.json.error, 'invalid_grant');
    });

    it('a refresh revokes the previous access token of the same scope and mode only', async () => {
      const t = await connectNew(server.url, A, 'read_write');
      const rt = t.refreshToken;
      const ro = await token({ grant_type: 'refresh_token', refresh_token: rt, scope: 'read_only' });
      const me = (key: string) => fetch(`${server.url}/v1/account`, { headers: bearer(key) });
      assert.equal((await me(t.accessToken)).status, 200, 'read_write token survives a read_only refresh');
      const rw = await token({ grant_type: 'refresh_token', refresh_token: rt });
      assert.equal(rw.json.scope, 'read_write');
      assert.equal((await me(t.accessToken)).status, 401, 'previous read_write token revoked');
      assert.equal((await me(String(ro.json.access_token))).status, 200);
      assert.equal((await me(String(rw.json.access_token))).status, 200);
      const bad = await token({ grant_type: 'refresh_token', refresh_token: rt, scope: 'admin' });
      assert.equal(bad.json.error, 'invalid_scope');
      assert.equal(bad.json.error_description, 'Invalid scope parameter provided.');
      const foreign = await token({ grant_type: 'refresh_token', refresh_token: rt }, bearer(B.testSecret));
      assert.equal(foreign.json.error_description, 'Refresh token provided does not belong to you');
    });

    it('replays an Idempotency-Key instead of burning the code twice', async () => {
      const code = await testCode();
      const key = { 'idempotency-key': `retry-${randomBytes(6).toString('hex')}` };
      const first = await token({ grant_type: 'authorization_code', code }, bearer(A.testSecret), key);
      const again = await token({ grant_type: 'authorization_code', code }, bearer(A.testSecret), key);
      assert.equal(first.status, 200);
      assert.equal(again.status, 200);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(again.json, first.json);
      const me = await fetch(`${server.url}/v1/account`, { headers: bearer(String(first.json.access_token)) });
      assert.equal(me.status, 200, 'the connection was not revoked by the retry');
      const other = await token({ grant_type: 'authorization_code', code: await testCode() }, bearer(A.testSecret), key);
      assert.equal(other.status, 400);
      assert.equal(other.json.error, 'invalid_request');
      assert.match(String(other.json.error_description), /same parameters/);
    });

    it('binds the code to the redirect_uri when the client sends one', async () => {
      const code = await testCode();
      const res = await token({ grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:4000/other' });
      assert.equal(res.json.error, 'invalid_grant');
      const ok = await token({ grant_type: 'authorization_code', code, redirect_uri: A.redirect });
      assert.equal(ok.status, 200);
    });

    it('PKCE (S256 only): the verifier must match; a verifier without a challenge is refused', async () => {
      const verifier = randomBytes(40).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const code = (await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, code_challenge: challenge, code_challenge_method: 'S256' })).code;
      assert.equal((await token({ grant_type: 'authorization_code', code, code_verifier: `${verifier}x` })).json.error, 'invalid_grant');
      assert.equal((await token({ grant_type: 'authorization_code', code })).json.error, 'invalid_grant');
      assert.equal((await token({ grant_type: 'authorization_code', code, code_verifier: verifier })).status, 200);
      const plain = await token({ grant_type: 'authorization_code', code: await testCode(), code_verifier: verifier });
      assert.equal(plain.json.error, 'invalid_grant');
      const page = await fetch(`${server.url}/oauth/authorize?response_type=code&client_id=${A.clientIdTest}&code_challenge=${challenge}&code_challenge_method=plain`, { redirect: 'manual' });
      assert.equal(page.status, 400);
      assert.equal(((await page.json()) as { error: string }).error, 'invalid_request');
    });

    it('deauthorize revokes both modes, answers the same error twice, and emits events', async () => {
      const live = await exchange(server.url, A.liveSecret, await liveCode());
      const test = await token({ grant_type: 'refresh_token', refresh_token: live.refreshToken }, bearer(A.testSecret));
      const wrongMode = await post(`${server.url}/oauth/deauthorize`, { client_id: A.clientIdTest, stripe_user_id: M.id }, bearer(A.liveSecret));
      assert.equal(wrongMode.status, 401, 'the client_id must match the key mode');
      const testKey = await post(`${server.url}/oauth/deauthorize`, { client_id: A.clientIdTest, stripe_user_id: M.id }, bearer(A.testSecret));
      assert.equal(testKey.status, 401, 'a test key cannot end a live connection');
      assert.match(testKey.headers.get('www-authenticate') ?? '', /^Bearer /);
      const res = await post(`${server.url}/oauth/deauthorize`, { client_id: A.clientIdLive, stripe_user_id: M.id }, bearer(A.liveSecret));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { stripe_user_id: M.id });
      for (const accessToken of [live.accessToken, String(test.json.access_token)]) {
        assert.equal((await fetch(`${server.url}/v1/account`, { headers: bearer(accessToken) })).status, 401);
      }
      const rt = await token({ grant_type: 'refresh_token', refresh_token: live.refreshToken });
      assert.equal(rt.json.error, 'invalid_grant');
      const second = await post(`${server.url}/oauth/deauthorize`, { client_id: A.clientIdLive, stripe_user_id: M.id }, bearer(A.liveSecret));
      assert.equal(second.status, 401);
      assert.equal(second.json.error, 'invalid_client');
      assert.equal(second.json.error_description, `This application is not connected to stripe account ${M.id}, or that account does not exist.`);
      assert.match(second.headers.get('cache-control') ?? '', /no-store/);

      const events = await server.ctx.store.db.selectFrom('events').selectAll().where('account_id', '=', M.id).orderBy('seq').execute();
      const last = events.at(-1);
      assert.equal(last?.type, 'account.application.deauthorized');
      assert.deepEqual(JSON.parse(last?.data ?? '{}'), { object: { id: A.clientIdLive, object: 'application', name: 'Platform A' } });
      assert.ok(events.some((e) => e.type === 'account.application.authorized'));
    });

    it('never widens a connection without asking, and a narrower reauthorization revokes wider tokens', async () => {
      const c = new FormClient(server.url);
      await c.login(M.email, M.password);
      const ro = codeFrom(await c.connect({ response_type: 'code', client_id: A.clientIdTest, scope: 'read_write', always_prompt: 'true' }));
      const wide = await exchange(server.url, A.testSecret, ro);
      assert.equal(wide.scope, 'read_write');
      const narrow = codeFrom(await c.connect({ response_type: 'code', client_id: A.clientIdTest, scope: 'read_only', always_prompt: 'true' }));
      const t = await exchange(server.url, A.testSecret, narrow);
      assert.equal(t.scope, 'read_only');
      assert.equal((await fetch(`${server.url}/v1/account`, { headers: bearer(wide.accessToken) })).status, 401, 'the read_write token is revoked');
      const old = await token({ grant_type: 'refresh_token', refresh_token: wide.refreshToken });
      assert.equal(old.json.error, 'invalid_grant', 'the read_write refresh token is revoked');
      // Connected read_only now: asking for read_write shows the consent page again (no shortcut).
      const again = await c.authorize({ response_type: 'code', client_id: A.clientIdTest, scope: 'read_write' });
      assert.equal(again.status, 303);
      assert.match(again.location ?? '', /^\/oauth\/consent\//);
      const same = await c.authorize({ response_type: 'code', client_id: A.clientIdTest, scope: 'read_only' });
      assert.equal(same.status, 302, 'the same scope takes the shortcut');
    });

    it('the test helper never connects an existing account and refuses live keys', async () => {
      const fresh = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, 'stripe_user[email]': M.email });
      assert.notEqual(fresh.stripe_user_id, M.id);
      const live = await post(`${server.url}/v1/test_helpers/oauth/authorize`, { client_id: A.clientIdTest }, bearer(A.liveSecret));
      assert.equal(live.status, 400);
      assert.equal((live.json.error as { type: string }).type, 'invalid_request_error');
      const foreign = await post(`${server.url}/v1/test_helpers/oauth/authorize`, { client_id: A.clientIdTest }, bearer(B.testSecret));
      assert.equal(foreign.status, 400);
    });

    it('echoes state byte for byte', async () => {
      for (const state of ['a&b=c#d+e%f g', 'émoji 🚀 ‮rtl', '<script>alert(1)</script>', "quote\"'\\"]) {
        const res = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, state });
        assert.equal(new URL(res.redirect_url).searchParams.get('state'), state);
      }
    });

    it('keeps a registered query string and appends code, scope and state', async () => {
      const res = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, redirect_uri: A.queryRedirect, state: 's1' });
      const url = new URL(res.redirect_url);
      assert.equal(url.origin + url.pathname, 'https://platform-a.example/cb2');
      assert.deepEqual(url.searchParams.getAll('x'), ['1']);
      assert.equal(url.searchParams.get('state'), 's1');
      assert.equal(url.searchParams.get('scope'), 'read_only');
    });

    it('live client_id: http redirect URIs are not usable; the first https one is the default', async () => {
      const page = await fetch(`${server.url}/oauth/authorize?response_type=code&client_id=${A.clientIdLive}&redirect_uri=${encodeURIComponent(A.redirect)}&state=s`, { redirect: 'manual' });
      assert.equal(page.status, 400);
      assert.equal(page.headers.get('location'), null);
      assert.deepEqual(Object.keys((await page.json()) as object), ['error', 'error_description', 'state']);
      const location = await merchant.connect({ response_type: 'code', client_id: A.clientIdLive, always_prompt: 'true' });
      assert.ok(location.startsWith(`${A.liveRedirect}?`), location);
    });
  });
}
