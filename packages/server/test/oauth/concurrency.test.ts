// Single-use codes under concurrency (docs/security-model.md DS-01, CD-02): 20 parallel exchanges of one
// code give exactly one 200, in one process and across two processes sharing the database.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { randomBase62 } from '../../src/domain/ids.ts';
import { A, testSeed } from '../support/fixtures.ts';
import { connectNew, helperCode } from '../support/flow.ts';
import { post } from '../support/http.ts';
import { spawnServer, type ServerProcess } from '../support/process.ts';
import { DB_KINDS, dropSchema, PG_URL, startTestServer, type TestServer } from '../support/server.ts';

async function exchangeInParallel(urls: string[], code: string, n = 20) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      post(`${urls[i % urls.length]}/oauth/token`, { grant_type: 'authorization_code', code }, { authorization: `Bearer ${A.testSecret}` }),
    ),
  );
}

for (const db of DB_KINDS) {
  describe(`concurrent code exchange on ${db}`, () => {
    let server: TestServer;
    before(async () => (server = await startTestServer({ db })));
    after(() => server.close());

    it('20 parallel exchanges of one code give exactly one 200', async () => {
      const { code } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, scope: 'read_write' });
      const results = await exchangeInParallel([server.url], code);
      const winners = results.filter((r) => r.status === 200);
      assert.equal(winners.length, 1);
      for (const r of results.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 400);
        assert.equal(r.json.error, 'invalid_grant');
      }
      // The 19 replays ended the connection the winner made (docs/contract.md Part A "Codes").
      const me = await fetch(`${server.url}/v1/account`, { headers: { authorization: `Bearer ${String(winners[0]?.json.access_token)}` } });
      assert.equal(me.status, 401);
    });

    it('parallel refreshes leave exactly one live access token per scope and mode', async () => {
      const t = await connectNew(server.url, A);
      const refreshes = await Promise.all(
        Array.from({ length: 8 }, () =>
          post(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: t.refreshToken }, { authorization: `Bearer ${A.testSecret}` }),
        ),
      );
      assert.ok(refreshes.every((r) => r.status === 200));
      const live = await Promise.all(
        [t.accessToken, ...refreshes.map((r) => String(r.json.access_token))].map(async (token) => (await fetch(`${server.url}/v1/account`, { headers: { authorization: `Bearer ${token}` } })).status),
      );
      assert.equal(live.filter((s) => s === 200).length, 1, JSON.stringify(live));
    });
  });
}

describe('two server processes sharing one database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'connectd-mp-'));
  const seedFile = join(dir, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(testSeed()));
  const schema = `mp_${randomBase62(10).toLowerCase()}`;
  const targets: Array<{ name: string; db: string }> = [
    { name: 'sqlite', db: join(dir, 'shared.sqlite') },
    { name: 'postgres', db: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` },
  ];
  before(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`create schema "${schema}"`);
    await client.end();
  });
  after(async () => {
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const t of targets) {
    it(`${t.name}: one 200 out of 20 exchanges split across two processes`, async () => {
      const procs: ServerProcess[] = [];
      try {
        // Started one after the other, then both serve: migrations and seeding are idempotent.
        procs.push(await spawnServer(['--db', t.db, '--seed', seedFile, '--log-level', 'warn']));
        procs.push(await spawnServer(['--db', t.db, '--seed', seedFile, '--log-level', 'warn']));
        const urls = procs.map((p) => p.url);
        const { code } = await helperCode(urls[0] ?? '', A.testSecret, { client_id: A.clientIdTest, scope: 'read_write' });
        const results = await exchangeInParallel(urls, code);
        assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.status)));
        assert.ok(results.every((r) => r.status === 200 || r.json.error === 'invalid_grant'));
      } finally {
        for (const p of procs) assert.equal(await p.stop(), 0, 'graceful shutdown exits 0');
      }
    });
  }
});
