// Idempotency-Key completion commits with the handler's changes (docs/testing-platform-api.md,
// `Idempotency-Key`): a process killed right after POST /oauth/token committed leaves the key
// done, so the SDK's retry after a restart replays the token response instead of meeting the
// code-replay rule (which would revoke the connection).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { randomBase62 } from '../../src/domain/ids.ts';
import { A, testSeed } from '../support/fixtures.ts';
import { helperCode } from '../support/flow.ts';
import { call } from '../support/api.ts';
import { post } from '../support/http.ts';
import { spawnServer, type ServerProcess } from '../support/process.ts';
import { dropSchema, PG_URL } from '../support/server.ts';

const dir = mkdtempSync(join(tmpdir(), 'connectd-idem-crash-'));
const seedFile = join(dir, 'seed.json');
writeFileSync(seedFile, JSON.stringify(testSeed()));

interface Target {
  name: string;
  db: () => Promise<string>;
  cleanup: () => Promise<void>;
}

const schema = `idem_${randomBase62(10).toLowerCase()}`;
const targets: Target[] = [
  { name: 'SQLite', db: async () => join(dir, 'connectd.sqlite'), cleanup: async () => undefined },
  {
    name: 'PostgreSQL',
    db: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`create schema "${schema}"`);
      await client.end();
      return `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    },
    cleanup: () => dropSchema(schema),
  },
];

after(() => rmSync(dir, { recursive: true, force: true }));

for (const target of targets) {
  describe(`Idempotency-Key across a crash after commit (${target.name})`, () => {
    const procs: ServerProcess[] = [];
    after(async () => {
      for (const p of procs) await p.stop('SIGKILL');
      await target.cleanup();
    });

    it('a retry after the crash and the stale window replays the token response; the connection stays', async () => {
      const db = await target.db();
      const serve = (env: Record<string, string>) => spawnServer(['--db', db, '--seed', seedFile, '--log-level', 'warn'], env);
      const first = await serve({ CONNECTD_TEST_CRASH_AFTER_COMMIT: '/oauth/token' });
      procs.push(first);
      const { code, stripe_user_id: account } = await helperCode(first.url, A.testSecret, { client_id: A.clientIdTest, scope: 'read_write' });
      const exchange = (base: string) =>
        post(`${base}/oauth/token`, { grant_type: 'authorization_code', code }, { authorization: `Bearer ${A.testSecret}`, 'idempotency-key': 'exchange-1' });
      await assert.rejects(exchange(first.url), 'the process dies before answering');
      assert.equal(await first.stop(), null, 'killed by its own SIGKILL');
      assert.equal(first.child.signalCode, 'SIGKILL');

      // Restarted on the same database, 120 s later: past the 60 s after which an in-flight key
      // may be taken over, well within the code's 300 s lifetime.
      const second = await serve({ CONNECTD_TEST_CLOCK_OFFSET: '120' });
      procs.push(second);
      const retry = await exchange(second.url);
      assert.equal(retry.status, 200, retry.text);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(retry.json.stripe_user_id, account);
      const me = await fetch(`${second.url}/v1/account`, { headers: { authorization: `Bearer ${String(retry.json.access_token)}` } });
      assert.equal(me.status, 200, 'the access token from the replayed response still works: the connection was not revoked');
      const events = await call(second.url, 'GET', '/v1/events', { key: A.testSecret });
      const types = (events.json.data as Array<{ type: string }>).map((e) => e.type);
      assert.ok(!types.includes('account.application.deauthorized'), types.join(','));
    });
  });
}
