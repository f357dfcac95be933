// One store suite, run against SQLite and PostgreSQL, including real concurrency: two SQLite
// connections on one file (as two processes would have), and a PostgreSQL pool.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newAuthorizationCode, randomBase62 } from '../../src/domain/ids.ts';
import { createAccount, findLoginAccount } from '../../src/store/accounts.ts';
import { consumeCode, insertCode } from '../../src/store/codes.ts';
import { insertConnectionIfNone } from '../../src/store/connections.ts';
import { openStore, type Store } from '../../src/store/dialect.ts';
import { claimIdempotencyKey, completeIdempotencyKey } from '../../src/store/idempotency.ts';
import { findKeyByHash } from '../../src/store/keys.ts';
import { insertPlatform } from '../../src/store/platforms.ts';
import { getOrCreateSetting } from '../../src/store/settings.ts';
import { sql } from 'kysely';
import { DB_KINDS, dropSchema, PG_URL, startTestServer, type DbKind } from '../support/server.ts';

const hash = (v: string) => `h:${v}`;
const NOW = 1_800_000_000;

/**
 * Two handles on one database. On PostgreSQL they are independent pools. On SQLite both are the
 * one connection of this process: better-sqlite3 waits for locks synchronously, so a second
 * connection in the same thread would block the first one's transaction; cross-process SQLite
 * concurrency is exercised by the multi-process test instead.
 */
async function openPair(kind: DbKind): Promise<{ a: Store; b: Store; cleanup: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'connectd-store-'));
    const a = openStore({ database: join(dir, 'db.sqlite') });
    await a.migrate();
    return { a, b: a, cleanup: async () => { await a.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const schema = `s_${randomBase62(12).toLowerCase()}`;
  const a = openStore({ database: PG_URL, pgSchema: schema });
  const b = openStore({ database: PG_URL, pgSchema: schema });
  await Promise.all([a.migrate(), b.migrate()]);
  return { a, b, cleanup: async () => { await a.close(); await b.close(); await dropSchema(schema); } };
}

async function seedPlatformAndMerchant(store: Store) {
  const platform = await store.transaction((trx) =>
    createAccount(trx, hash, NOW, { email: `p-${randomBase62(6)}@example.com`, passwordHash: 'x', businessName: 'P', country: 'US' }),
  );
  await insertPlatform(store.db, {
    account_id: platform.account.id, name: 'P', icon_url: null, brand_color: null,
    client_id_test: `ca_${randomBase62(32)}`, client_id_live: `ca_${randomBase62(32)}`, redirect_uris: ['https://p.example/cb'], require_pkce: 0, created: NOW,
  });
  const merchant = await store.transaction((trx) =>
    createAccount(trx, hash, NOW, { email: `m-${randomBase62(6)}@example.com`, passwordHash: 'x', businessName: 'M', country: 'GB' }),
  );
  return { platformId: platform.account.id, merchantId: merchant.account.id, keys: platform.keys };
}

for (const kind of DB_KINDS) {
  describe(`store on ${kind}`, () => {
    let a: Store;
    let b: Store;
    let cleanup: () => Promise<void>;
    before(async () => ({ a, b, cleanup } = await openPair(kind)));
    after(() => cleanup());

    it('migrations are idempotent', async () => {
      await a.migrate();
      await b.migrate();
      await a.ping();
    });

    it('creates an account with four keys; only the live secret is unrevealable', async () => {
      const { account, keys } = await a.transaction((trx) =>
        createAccount(trx, hash, NOW, { email: 'Keys@Example.com', passwordHash: 'x', businessName: 'K', country: 'FR' }),
      );
      assert.equal(account.email, 'keys@example.com');
      assert.equal(account.default_currency, 'eur');
      const live = await findKeyByHash(b.db, hash(keys.live_secret));
      assert.equal(live?.kind, 'secret');
      assert.equal(live?.revealable, null);
      const test = await findKeyByHash(b.db, hash(keys.test_secret));
      assert.equal(test?.revealable, keys.test_secret);
      assert.equal((await findLoginAccount(b.db, 'KEYS@example.com'))?.id, account.id);
    });

    it('refuses a second login account with the same email, but not passwordless test accounts', async () => {
      const email = `dup-${randomBase62(6)}@example.com`;
      await a.transaction((trx) => createAccount(trx, hash, NOW, { email, passwordHash: 'x', businessName: null, country: 'US' }));
      await assert.rejects(a.transaction((trx) => createAccount(trx, hash, NOW, { email, passwordHash: 'y', businessName: null, country: 'US' })));
      await a.transaction((trx) => createAccount(trx, hash, NOW, { email, passwordHash: null, businessName: null, country: 'US', testOnly: true }));
      await a.transaction((trx) => createAccount(trx, hash, NOW, { email, passwordHash: null, businessName: null, country: 'US', testOnly: true }));
    });

    it('rolls back everything when a transaction fails', async () => {
      const email = `rollback-${randomBase62(6)}@example.com`;
      await assert.rejects(
        a.transaction(async (trx) => {
          await createAccount(trx, hash, NOW, { email, passwordHash: 'x', businessName: null, country: 'US' });
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await findLoginAccount(a.db, email), undefined);
    });

    it('consumes a code exactly once under 20 concurrent attempts from two handles', async () => {
      const { platformId, merchantId } = await seedPlatformAndMerchant(a);
      const code = newAuthorizationCode();
      await insertCode(a.db, {
        hash: hash(code), platform_id: platformId, client_id: 'ca_x', livemode: 0, scope: 'read_write', redirect_uri: 'https://p.example/cb',
        account_id: merchantId, code_challenge: null, created: NOW, expires_at: NOW + 300, consumed_at: null, connection_id: null,
      });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).transaction((trx) => consumeCode(trx, hash(code), NOW + 1))),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('never consumes an expired code', async () => {
      const { platformId, merchantId } = await seedPlatformAndMerchant(a);
      const code = newAuthorizationCode();
      await insertCode(a.db, {
        hash: hash(code), platform_id: platformId, client_id: 'ca_x', livemode: 0, scope: 'read_only', redirect_uri: 'https://p.example/cb',
        account_id: merchantId, code_challenge: null, created: NOW, expires_at: NOW + 300, consumed_at: null, connection_id: null,
      });
      assert.equal(await consumeCode(a.db, hash(code), NOW + 300), undefined);
      assert.ok(await consumeCode(a.db, hash(code), NOW + 299));
    });

    it('keeps one active connection per platform and account under concurrent inserts', async () => {
      const { platformId, merchantId } = await seedPlatformAndMerchant(a);
      const inserted = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).transaction((trx) =>
            insertConnectionIfNone(trx, {
              id: `conn_${randomBase62(24)}`, platform_id: platformId, account_id: merchantId, livemode: 0, scope: 'read_write',
              created: NOW, revoked_at: null, revoked_reason: null,
            }),
          ),
        ),
      );
      assert.equal(inserted.filter(Boolean).length, 1);
    });

    it('claims an idempotency key once, replays it, and refuses other parameters', async () => {
      const key = `idem-${randomBase62(8)}`;
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => claimIdempotencyKey(i % 2 ? a.db : b.db, { scope: 's', key, fingerprint: 'f1' }, NOW)),
      );
      assert.equal(claims.filter((c) => c.kind === 'claimed').length, 1);
      assert.ok(claims.filter((c) => c.kind !== 'claimed').every((c) => c.kind === 'in_flight'));
      await completeIdempotencyKey(a.db, 's', key, 200, '{"ok":true}');
      assert.deepEqual(await claimIdempotencyKey(b.db, { scope: 's', key, fingerprint: 'f1' }, NOW + 1), { kind: 'replay', status: 200, body: '{"ok":true}' });
      assert.deepEqual(await claimIdempotencyKey(b.db, { scope: 's', key, fingerprint: 'f2' }, NOW + 1), { kind: 'mismatch' });
      // Another scope (another key or Stripe-Account) is another namespace.
      assert.deepEqual(await claimIdempotencyKey(b.db, { scope: 's2', key, fingerprint: 'f2' }, NOW + 1), { kind: 'claimed' });
      // After 24 hours the key may be reused.
      assert.deepEqual(await claimIdempotencyKey(a.db, { scope: 's', key, fingerprint: 'f3' }, NOW + 24 * 3600), { kind: 'claimed' });
    });

    it('purges expired sessions, authorize requests, old codes, idempotency keys, Account Links and onboarding sessions only', async () => {
      const { platformId, merchantId } = await seedPlatformAndMerchant(a);
      const t0 = NOW + 10_000_000;
      await a.db.insertInto('sessions').values([
        { hash: `old-${randomBase62(6)}`, account_id: null, csrf: 'x', created: t0 - 100, expires_at: t0 - 1 },
        { hash: `new-${randomBase62(6)}`, account_id: null, csrf: 'x', created: t0, expires_at: t0 + 100 },
      ]).execute();
      await insertCode(a.db, {
        hash: `gone-${randomBase62(6)}`, platform_id: platformId, client_id: 'ca_x', livemode: 0, scope: 'read_only', redirect_uri: 'https://p.example/cb',
        account_id: merchantId, code_challenge: null, created: t0 - 200_000, expires_at: t0 - 100_000, consumed_at: null, connection_id: null,
      });
      const kept = `kept-${randomBase62(6)}`;
      await insertCode(a.db, {
        hash: kept, platform_id: platformId, client_id: 'ca_x', livemode: 0, scope: 'read_only', redirect_uri: 'https://p.example/cb',
        account_id: merchantId, code_challenge: null, created: t0 - 400, expires_at: t0 - 100, consumed_at: t0 - 300, connection_id: null,
      });
      // Account Links and onboarding sessions: kept a day past their end, then purged.
      const link = (hash: string, expires: number) => ({
        hash, account_id: merchantId, platform_id: platformId, livemode: 0, type: 'account_onboarding' as const, collect: 'currently_due' as const,
        refresh_url: 'https://p.example/r', return_url: 'https://p.example/x', created: expires - 300, expires_at: expires, used_at: null,
      });
      const oldLink = `old-${randomBase62(6)}`;
      const recentLink = `recent-${randomBase62(6)}`;
      await a.db.insertInto('account_links').values([link(oldLink, t0 - 90_000), link(recentLink, t0 - 100)]).execute();
      const session = (id: string, expires: number) => ({
        id, session_hash: 'h', account_id: merchantId, platform_id: platformId, livemode: 0, refresh_url: 'https://p.example/r', return_url: 'https://p.example/x',
        created: expires - 3600, expires_at: expires, finished_at: null,
      });
      await a.db.insertInto('onboarding_sessions').values([session(oldLink, t0 - 90_000), session(recentLink, t0 - 100)]).execute();
      const { purgeExpired } = await import('../../src/store/maintenance.ts');
      const counts = await purgeExpired(a.db, t0);
      assert.equal(counts.account_links, 1);
      assert.equal(counts.onboarding_sessions, 1);
      assert.deepEqual((await a.db.selectFrom('account_links').select('hash').where('hash', 'in', [oldLink, recentLink]).execute()).map((r) => r.hash), [recentLink]);
      assert.deepEqual((await a.db.selectFrom('onboarding_sessions').select('id').where('id', 'in', [oldLink, recentLink]).execute()).map((r) => r.id), [recentLink]);
      assert.ok((counts.sessions ?? 0) >= 1);
      assert.ok((counts.authorization_codes ?? 0) >= 1);
      const sessions = await a.db.selectFrom('sessions').select('hash').where('expires_at', '<=', t0).execute();
      assert.equal(sessions.length, 0);
      assert.ok(await a.db.selectFrom('sessions').select('hash').where('expires_at', '>', t0).executeTakeFirst());
      assert.ok(await a.db.selectFrom('authorization_codes').select('hash').where('hash', '=', kept).executeTakeFirst(), 'a recently used code is kept for replay detection');
    });

    it('agrees on one generated setting across handles', async () => {
      const values = await Promise.all(
        Array.from({ length: 6 }, (_, i) => getOrCreateSetting(i % 2 ? a.db : b.db, 'probe', () => randomBase62(10))),
      );
      assert.equal(new Set(values).size, 1);
    });
  });
}

describe('SQLite durability (docs/configuration.md "Durability")', () => {
  for (const [flag, expected] of [[[], 1], [['--durability', 'full'], 2]] as const) {
    it(`a server started with ${flag.join(' ') || 'no --durability'} commits with synchronous=${expected === 1 ? 'NORMAL' : 'FULL'} in WAL mode`, async () => {
      const server = await startTestServer({ args: [...flag] });
      try {
        const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(server.ctx.store.db);
        const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(server.ctx.store.db);
        assert.equal(mode.rows[0]?.journal_mode, 'wal');
        assert.equal(sync.rows[0]?.synchronous, expected);
      } finally {
        await server.close();
      }
    });
  }
});
