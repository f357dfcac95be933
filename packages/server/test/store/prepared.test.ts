// Precompiled hot queries (store/prepared.ts) and the SQLite statement driver (store/sqlite-driver.ts):
// the same rows as the Kysely-built queries on both databases, named statements on PostgreSQL,
// and on SQLite no statement of one caller ever runs inside another caller's open transaction.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { randomBase62 } from '../../src/domain/ids.ts';
import { createAccount } from '../../src/store/accounts.ts';
import { insertConnectionIfNone } from '../../src/store/connections.ts';
import { openStore, type Store } from '../../src/store/dialect.ts';
import { findKeyByHash, findKeyForRequest } from '../../src/store/keys.ts';
import { insertPlatform } from '../../src/store/platforms.ts';
import { precompile } from '../../src/store/prepared.ts';
import { findResource, insertResource } from '../../src/store/resources.ts';
import type { Db } from '../../src/store/schema.ts';
import { SqliteStatements } from '../../src/store/sqlite-driver.ts';
import { DB_KINDS, dropSchema, PG_URL, type DbKind } from '../support/server.ts';

const hash = (v: string) => `h:${v}`;
const NOW = 1_800_000_000;

async function open(kind: DbKind): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'connectd-prepared-'));
    const store = openStore({ database: join(dir, 'db.sqlite') });
    await store.migrate();
    return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const schema = `s_${randomBase62(12).toLowerCase()}`;
  const store = openStore({ database: PG_URL, pgSchema: schema });
  await store.migrate();
  return { store, cleanup: async () => { await store.close(); await dropSchema(schema); } };
}

/** The query findKeyForRequest ran before it was precompiled, built by Kysely on every call. */
function kyselyKeyForRequest(db: Db, keyHash: string, onBehalfOf: string | null) {
  return db
    .selectFrom('api_keys')
    .leftJoin('connections as tc', 'tc.id', 'api_keys.connection_id')
    .leftJoin('connections as oc', (join) =>
      join.onRef('oc.platform_id', '=', 'api_keys.account_id').on('oc.account_id', '=', onBehalfOf ?? '').on('oc.revoked_at', 'is', null),
    )
    .selectAll('api_keys')
    .select(['tc.platform_id as connection_platform_id', 'tc.revoked_at as connection_revoked_at', 'oc.scope as on_behalf_scope', 'oc.livemode as on_behalf_livemode'])
    .where('api_keys.hash', '=', keyHash)
    .executeTakeFirst();
}

for (const kind of DB_KINDS) {
  describe(`precompiled queries on ${kind}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let platformId: string;
    let merchantId: string;
    let platformKey: string;
    before(async () => {
      ({ store, cleanup } = await open(kind));
      const platform = await store.transaction((trx) =>
        createAccount(trx, hash, NOW, { email: `p-${randomBase62(6)}@example.com`, passwordHash: 'x', businessName: 'P', country: 'US' }),
      );
      const merchant = await store.transaction((trx) =>
        createAccount(trx, hash, NOW, { email: `m-${randomBase62(6)}@example.com`, passwordHash: 'x', businessName: 'M', country: 'GB' }),
      );
      platformId = platform.account.id;
      merchantId = merchant.account.id;
      platformKey = hash(platform.keys.test_secret);
      await insertPlatform(store.db, {
        account_id: platformId, name: 'P', icon_url: null, brand_color: null,
        client_id_test: `ca_${randomBase62(32)}`, client_id_live: `ca_${randomBase62(32)}`, redirect_uris: ['https://p.example/cb'], require_pkce: 0, created: NOW,
      });
      await insertConnectionIfNone(store.db, {
        id: `conn_${randomBase62(24)}`, platform_id: platformId, account_id: merchantId, livemode: 0, scope: 'read_write', created: NOW, revoked_at: null, revoked_reason: null,
      });
    });
    after(() => cleanup());

    it('returns the same rows as the Kysely-built query, outside and inside a transaction', async () => {
      const cases: Array<[string, string | null]> = [
        [platformKey, merchantId],
        [platformKey, null],
        [platformKey, 'acct_Nobody'],
        ['h:unknown', merchantId],
      ];
      for (const [keyHash, onBehalfOf] of cases) {
        const expected = await kyselyKeyForRequest(store.db, keyHash, onBehalfOf);
        assert.deepEqual(await findKeyForRequest(store.db, keyHash, onBehalfOf), expected);
        assert.deepEqual(await store.transaction((trx) => findKeyForRequest(trx, keyHash, onBehalfOf)), expected);
      }
      const withConnection = await findKeyForRequest(store.db, platformKey, merchantId);
      assert.equal(withConnection?.on_behalf_scope, 'read_write');
    });

    it('binds new values on every call (a resource written and read back through precompiled statements)', async () => {
      const scope = { accountId: merchantId, livemode: false };
      for (const n of [1, 2, 3]) {
        const id = `cus_${randomBase62(14)}`;
        await store.transaction((trx) => insertResource(trx, scope, 'customer', { id, object: 'customer', created: NOW + n, n }, { email: `${n}@example.com` }));
        const found = await findResource<{ n: number }>(store.db, scope, 'customer', id);
        assert.equal(found?.object.n, n);
        assert.equal(found?.row.email, `${n}@example.com`);
        const expected = await store.db.selectFrom('resources').selectAll().where('id', '=', id).executeTakeFirst();
        assert.deepEqual(found?.row, expected);
        assert.equal(await findResource(store.db, { accountId: platformId, livemode: false }, 'customer', id), undefined);
      }
    });

    it('refuses to precompile a query that does more with an input than pass it as a value', async () => {
      const derived = precompile((db: Db, p: { now: number }) => db.selectFrom('api_keys').select('hash').where('created', '>', p.now - 1));
      await assert.rejects(derived.all(store.db, { now: NOW }), /not a plain parameter/);
    });

    it('a transaction handed out earlier cannot be used once it has ended', async () => {
      let leaked: Db | undefined;
      await store.transaction(async (trx) => {
        leaked = trx;
        return findKeyByHash(trx, platformKey);
      });
      assert.ok(leaked);
      await assert.rejects(findKeyByHash(leaked, platformKey));
      await assert.rejects(leaked.selectFrom('api_keys').select('hash').execute());
    });

    if (kind === 'postgres') {
      it('sends the hot statements as named prepared statements', async () => {
        const names = await store.transaction(async (trx) => {
          await findKeyByHash(trx, platformKey);
          return (await sql<{ name: string }>`select name from pg_prepared_statements`.execute(trx)).rows.map((r) => r.name);
        });
        assert.ok(names.some((n) => n.startsWith('connectd_')), `prepared: ${names.join(', ')}`);
      });
    }

    if (kind === 'sqlite') {
      it("never runs another caller's statement inside an open transaction", async () => {
        const pendingHash = `h:pending-${randomBase62(8)}`;
        let release: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let inserted: () => void = () => undefined;
        const insertedSignal = new Promise<void>((resolve) => (inserted = resolve));
        const trxDone = store.transaction(async (trx) => {
          await trx
            .insertInto('api_keys')
            .values({ hash: pendingHash, account_id: platformId, mode: 'test', kind: 'secret', connection_id: null, scope: null, last4: 'xxxx', revealable: null, created: NOW, revoked_at: null })
            .execute();
          inserted();
          await gate;
          throw new Error('roll back');
        });
        await insertedSignal;
        // Both kinds of statement from outside: precompiled and Kysely-built. Had either run on
        // the connection now, it would have seen the uncommitted row.
        const order: string[] = [];
        const precompiled = findKeyByHash(store.db, pendingHash).then((r) => (order.push('precompiled'), r));
        const built = store.db.selectFrom('api_keys').select('hash').where('hash', '=', pendingHash).executeTakeFirst().then((r) => (order.push('built'), r));
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(order, [], 'no outside statement completed while the transaction was open');
        release();
        await assert.rejects(trxDone, /roll back/);
        assert.equal(await precompiled, undefined);
        assert.equal(await built, undefined);
        assert.deepEqual(order, ['precompiled', 'built']);
      });

      it('a statement failing inside a transaction rolls it back and surfaces the driver error', async () => {
        await assert.rejects(
          store.transaction(async (trx) => {
            await insertConnectionIfNone(trx, {
              id: `conn_${randomBase62(24)}`, platform_id: 'acct_Missing', account_id: merchantId, livemode: 0, scope: 'read_write', created: NOW, revoked_at: null, revoked_reason: null,
            });
          }),
          (err: { code?: string }) => err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY',
        );
        // The connection is free again and no transaction is left open.
        assert.deepEqual(await findKeyByHash(store.db, 'h:none'), undefined);
        await store.transaction((trx) => findKeyByHash(trx, platformKey));
      });
    }
  });
}

describe('SQLite statement cache', () => {
  it('prepares each SQL text once and stays bounded', () => {
    const raw = new SQLite(':memory:');
    try {
      const statements = new SqliteStatements(raw);
      statements.run('create table t (n integer)', []);
      for (let i = 0; i < 3; i++) statements.run('insert into t (n) values (?)', [i]);
      assert.deepEqual(statements.run<{ n: number }>('select n from t order by n', []).rows, [{ n: 0 }, { n: 1 }, { n: 2 }]);
      assert.equal(statements.size, 3);
      for (let i = 0; i < 600; i++) statements.run(`select ${i} as n`, []);
      assert.ok(statements.size <= 500);
      assert.equal(statements.run('insert into t (n) values (?)', [9]).numAffectedRows, 1n);
    } finally {
      raw.close();
    }
  });
});

describe('random identifiers from the pooled CSPRNG bytes', () => {
  it('have the requested length and alphabet and never repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = randomBase62(i % 50 + 1);
      assert.equal(id.length, i % 50 + 1);
      assert.match(id, /^[0-9A-Za-z]+$/);
      if (id.length >= 12) {
        assert.ok(!seen.has(id));
        seen.add(id);
      }
    }
  });
});
