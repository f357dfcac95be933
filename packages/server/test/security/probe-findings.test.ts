// The findings of a probe made as an attacker would (issue 7 §2), on both databases: non-ASCII
// redirect URIs, the Host header (docs/security.md), NUL bytes in page forms, guessable seeded
// keys. Throttling has its own file (throttling.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { updatePlatform } from '../../src/store/platforms.ts';
import { A, M, testSeed } from '../support/fixtures.ts';
import { FormClient } from '../support/flow.ts';
import { rawRequest } from '../support/http.ts';
import { runCli } from '../support/process.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';

for (const db of DB_KINDS) {
  describe(`the probe's findings on ${db}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ db });
    });
    after(() => server?.close());

    it('refuses a non-ASCII redirect URI at registration, and never stores a code for one registered before', async () => {
      const c = new FormClient(server.url);
      await c.login(A.email, A.password);
      const page = await c.get('/dashboard/platform');
      const csrf = FormClient.csrfFrom(page.text);
      for (const uri of ['https://platform.example/cb?q=日本', 'https://日本.example/cb']) {
        const res = await c.post('/dashboard/platform/redirect-uris/add', { _csrf: csrf, uri });
        assert.equal(res.status, 400, uri);
        assert.match(res.text, /must be ASCII/);
      }
      assert.equal((await c.post('/dashboard/platform/redirect-uris/add', { _csrf: csrf, uri: 'https://platform.example/cb?q=%E6%97%A5%E6%9C%AC' })).status, 303);

      // As a release before this check may have stored it.
      const raw = 'https://platform.example/cb?q=日本';
      const platform = testSeed().accounts.find((a) => a.id === A.id)?.platform;
      await updatePlatform(server.ctx.store.db, A.id, { redirect_uris: [raw, ...(platform?.redirect_uris ?? [])] });
      const codesBefore = await server.ctx.store.db.selectFrom('authorization_codes').select('hash').execute();
      const merchant = new FormClient(server.url);
      await merchant.login('merchant-m@example.com', 'merchant-m-password');
      const res = await merchant.authorize({ response_type: 'code', client_id: A.clientIdTest, scope: 'read_write', redirect_uri: raw, state: 's' });
      assert.equal(res.status, 400, res.text);
      assert.equal((JSON.parse(res.text) as { error: string }).error, 'invalid_redirect_uri');
      const codesAfter = await server.ctx.store.db.selectFrom('authorization_codes').select('hash').execute();
      assert.equal(codesAfter.length, codesBefore.length, 'no code stored');
    });

    it('answers 421 to a Host it does not serve (DNS rebinding), on pages, /oauth and /v1', async () => {
      const evil = 'rebind.evil.example:12111';
      const reg = await rawRequest(`${server.url}/register`, { headers: { host: evil } });
      assert.equal(reg.status, 421);
      assert.match(reg.text, /does not answer for that host name/);
      const form = 'email=x%40example.com&password=long-password&business_name=X&country=US';
      const posted = await rawRequest(`${server.url}/register`, { method: 'POST', headers: { host: evil, 'content-type': 'application/x-www-form-urlencoded', origin: 'http://rebind.evil.example:12111' }, body: form });
      assert.equal(posted.status, 421);
      const token = await rawRequest(`${server.url}/oauth/token`, { method: 'POST', headers: { host: evil, 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${A.testSecret}` }, body: 'grant_type=authorization_code&code=ac_x' });
      assert.equal(token.status, 421);
      assert.equal(token.json.error, 'invalid_request');
      const v1 = await rawRequest(`${server.url}/v1/account`, { headers: { host: evil, authorization: `Bearer ${A.testSecret}` } });
      assert.equal(v1.status, 421);
      assert.equal((v1.json.error as { type: string }).type, 'invalid_request_error');
      assert.equal((await rawRequest(`${server.url}/healthz`, { headers: { host: evil } })).status, 200, 'health probes may name any host');
      // Our own names: the public URL's host, IP literals, localhost.
      const port = new URL(server.url).port;
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'app.localhost']) {
        assert.equal((await rawRequest(`${server.url}/login`, { headers: { host } })).status, 200, host);
      }
      const named = await startTestServer({ db, args: ['--allowed-hosts', 'connectd.test'] });
      try {
        assert.equal((await rawRequest(`${named.url}/login`, { headers: { host: 'connectd.test' } })).status, 200);
        assert.equal((await rawRequest(`${named.url}/login`, { headers: { host: 'CONNECTD.test.:443' } })).status, 200, 'case and a trailing dot do not matter');
        assert.equal((await rawRequest(`${named.url}/login`, { headers: { host: 'other.test' } })).status, 421);
      } finally {
        await named.close();
      }
    });

    it('accepts a page form whose Origin is the configured public URL under another Host, and refuses another Origin', async () => {
      // The public URL is the server's own address; `localhost` is a name it answers too, so under
      // that Host the origin derived from the request differs from the configured one.
      assert.equal(server.ctx.config.publicUrl, server.url);
      const host = `localhost:${new URL(server.url).port}`;
      const signIn = async (origin: string) => {
        const c = new FormClient(server.url);
        const page = await c.get('/login');
        const form = new URLSearchParams({ _csrf: FormClient.csrfFrom(page.text), email: M.email, password: M.password }).toString();
        return rawRequest(`${server.url}/login`, { method: 'POST', headers: { host, 'content-type': 'application/x-www-form-urlencoded', cookie: c.cookieHeader(), origin }, body: form });
      };
      assert.equal((await signIn(server.url)).status, 303, `Origin ${server.url} (the public URL) under Host ${host}`);
      assert.equal((await signIn(`http://${host}`)).status, 303, 'Origin derived from the Host');
      for (const origin of ['http://evil.example', `https://${host}`, 'http://127.0.0.1:1']) {
        assert.equal((await signIn(origin)).status, 403, origin);
      }
    });

    it('refuses NUL bytes in page forms, as /v1 does, and stores nothing', async () => {
      const c = new FormClient(server.url);
      const page = await c.get('/register');
      const email = `nul-${db}@example.com`;
      const res = await c.post('/register', { _csrf: FormClient.csrfFrom(page.text), email, password: 'long-password', business_name: 'Bad\u0000Name', country: 'US' });
      assert.equal(res.status, 400);
      assert.match(res.text, /Invalid business_name: NUL characters are not allowed/);
      const stored = await server.ctx.store.db.selectFrom('accounts').select('id').where('email', '=', email).execute();
      assert.deepEqual(stored, []);
      const platform = new FormClient(server.url);
      await platform.login(A.email, A.password);
      const settings = await platform.get('/dashboard/platform');
      const renamed = await platform.post('/dashboard/platform/settings', { _csrf: FormClient.csrfFrom(settings.text), name: 'Evil\u0000Co', icon_url: '', brand_color: '#123abc' });
      assert.equal(renamed.status, 400);
      const row = await server.ctx.store.db.selectFrom('platforms').select('name').where('account_id', '=', A.id).executeTakeFirst();
      assert.ok(!row?.name?.includes('\u0000'));
    });
  });
}

describe('seeded keys', () => {
  it('refuses a live secret key too short to be unguessable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'connectd-seedkey-'));
    try {
      const seed = { accounts: [{ email: 'p@example.com', password: 'long-password', keys: { live_secret: 'sk_live_1' } }] };
      writeFileSync(join(dir, 'seed.json'), JSON.stringify(seed));
      const r = await runCli(['serve', '--port', '0', '--db', ':memory:', '--seed', join(dir, 'seed.json')]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /accounts\[0\]\.keys\.live_secret: must have at least 24 letters and digits/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

