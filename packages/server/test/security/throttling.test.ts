// Throttling (docs/security.md "Throttling"), counted in the database: failed authentication per
// address on /oauth and /v1, shared by two processes on one PostgreSQL database, as login
// throttling is; and the rows anonymous visitors may make per address.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apiError, call } from '../support/api.ts';
import { A, testSeed } from '../support/fixtures.ts';
import { FormClient } from '../support/flow.ts';
import { post, request } from '../support/http.ts';
import { spawnServer, type ServerProcess } from '../support/process.ts';
import { DB_KINDS, PG_URL, startTestServer } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';

const authorizeQuery = (extra: Record<string, string> = {}) =>
  new URLSearchParams({ response_type: 'code', client_id: A.clientIdTest, scope: 'read_write', ...extra }).toString();

describe('throttling of failed authentication', () => {
  for (const db of DB_KINDS) {
    it(`answers 429 with Retry-After after 20 wrong keys or codes from one address, on /oauth and /v1 (${db})`, async () => {
      const server = await startTestServer({ db });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) {
          const r = await post(`${server.url}/oauth/token`, { grant_type: 'authorization_code', code: 'ac_x' }, { authorization: `Bearer sk_test_wrong${i}wrongwrongwrongwrong` });
          statuses.push(r.status);
        }
        assert.deepEqual([...new Set(statuses)], [401], 'each wrong key is answered 401 until the limit');
        const locked = await post(`${server.url}/oauth/token`, { grant_type: 'authorization_code', code: 'ac_x' }, { authorization: `Bearer ${A.testSecret}` });
        assert.equal(locked.status, 429, 'even the right key waits');
        assert.equal(locked.json.error, 'invalid_request');
        assert.ok(Number(locked.headers.get('retry-after')) > 0);
        const v1 = apiError(await call(server.url, 'GET', '/v1/account', { key: A.testSecret }), 429);
        assert.equal(v1.code, 'rate_limit');
        // Pages are not affected: the merchant can still sign in from the same address.
        assert.equal((await fetch(`${server.url}/login`)).status, 200);
        // After the lock, guessed codes count too (with a valid key).
        const later = await startTestServer({ db });
        try {
          const guesses: number[] = [];
          for (let i = 0; i < 21; i++) {
            guesses.push((await post(`${later.url}/oauth/token`, { grant_type: 'authorization_code', code: `ac_guess${i}` }, { authorization: `Bearer ${A.testSecret}` })).status);
          }
          assert.deepEqual(guesses.slice(0, 20), Array(20).fill(400));
          assert.equal(guesses[20], 429);
        } finally {
          await later.close();
        }
      } finally {
        await server.close();
      }
    });
  }

  it('is shared by two processes on one PostgreSQL database, and so is login throttling', { timeout: 90_000 }, async () => {
    const server = await startTestServer({ db: 'postgres' });
    const dir = mkdtempSync(join(tmpdir(), 'connectd-throttle-'));
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(testSeed()));
    let second: ServerProcess | undefined;
    try {
      second = await spawnServer(['--db', `${PG_URL}?options=${encodeURIComponent(`-c search_path=${server.pgSchema ?? ''}`)}`, '--seed', seedFile, '--log-level', 'warn']);
      // 10 failures through each process: together they reach the limit.
      for (let i = 0; i < 10; i++) {
        assert.equal((await call(server.url, 'GET', '/v1/account', { key: `sk_test_wrongA${i}xxxxxxxxxxxxxxxxxxxx` })).status, 401);
        assert.equal((await call(second.url, 'GET', '/v1/account', { key: `sk_test_wrongB${i}xxxxxxxxxxxxxxxxxxxx` })).status, 401);
      }
      // Each process reads the shared lock within a second of the failure that set it.
      for (const base of [server.url, second.url]) {
        await waitUntil(`429 from ${base}`, async () => ((await call(base, 'GET', '/v1/account', { key: A.testSecret })).status === 429 ? true : undefined), 4_000);
      }

      // Login: 3 failures through one process and 2 through the other lock the pair.
      const email = 'merchant-m@example.com';
      const attempt = async (base: string, password: string) => {
        const c = new FormClient(base);
        const page = await c.get('/login');
        return c.post('/login', { _csrf: FormClient.csrfFrom(page.text), email, password });
      };
      for (const base of [server.url, second.url, server.url, second.url, server.url]) assert.equal((await attempt(base, 'wrong-password')).status, 400);
      assert.equal((await attempt(second.url, 'merchant-m-password')).status, 429);
    } finally {
      if (second) await second.stop();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('anonymous growth', () => {
  it('limits the rows stored for visitors without an account, per address', async () => {
    const server = await startTestServer();
    try {
      const statuses: number[] = [];
      // Cookie-less requests: each would store a session and an authorize request (2 rows).
      for (let i = 0; i < 151; i++) {
        statuses.push((await fetch(`${server.url}/oauth/authorize?${authorizeQuery({ state: `s${i}` })}`, { redirect: 'manual' })).status);
      }
      assert.deepEqual([...new Set(statuses.slice(0, 150))], [303]);
      const last = statuses[150];
      assert.equal(last, 429);
      const res = await request(`${server.url}/oauth/authorize?${authorizeQuery()}`);
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      const rows = await server.ctx.store.db.selectFrom('authorize_requests').select('id').execute();
      assert.ok(rows.length <= 150, `${rows.length} authorize requests stored`);
    } finally {
      await server.close();
    }
  });
});

