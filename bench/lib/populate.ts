// The scale run's database: `n` more connected accounts of the bench platform written straight
// into the SQLite file of the running (idle) server. Each account gets what a real connection
// leaves behind (store/schema.ts): the account row, an active connection, a test access token in
// api_keys (keyed-hash primary key) and a refresh token. Batches of 50,000 rows per transaction,
// so the server's delivery worker waits for the write lock no longer than one batch.
import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';

const BATCH = 50_000;

export function populate(file: string, platformId: string, n: number): number {
  const t0 = performance.now();
  const db = new SQLite(file);
  try {
    // A bulk load of a throwaway database: no fsync, the indexes' pages kept in memory (random
    // keys touch every page), no foreign-key lookups (every reference is written here). The file
    // stays in WAL mode: the server has it open.
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    db.pragma('foreign_keys = OFF');
    db.pragma('busy_timeout = 10000');
    const now = Math.floor(Date.now() / 1000);
    const account = db.prepare(
      `insert into accounts (id, email, password_hash, business_name, country, default_currency, url, test_only, created)
       values (?, ?, null, null, 'US', 'usd', null, 1, ?)`,
    );
    const connection = db.prepare(
      `insert into connections (id, platform_id, account_id, livemode, scope, created, revoked_at, revoked_reason)
       values (?, ?, ?, 0, 'read_write', ?, null, null)`,
    );
    const key = db.prepare(
      `insert into api_keys (hash, account_id, mode, kind, connection_id, scope, last4, revealable, created, revoked_at)
       values (?, ?, 'test', 'access_token', ?, 'read_write', ?, null, ?, null)`,
    );
    const refresh = db.prepare(
      `insert into refresh_tokens (hash, connection_id, platform_id, account_id, scope, livemode, created, revoked_at)
       values (?, ?, ?, ?, 'read_write', 0, ?, null)`,
    );
    const pool = randomBytes(64 * 1024);
    let off = pool.length;
    const rnd = (bytes: number): Buffer => {
      if (off + bytes > pool.length) {
        randomBytes(pool.length).copy(pool);
        off = 0;
      }
      off += bytes;
      return pool.subarray(off - bytes, off);
    };
    // Random ids inserted in sorted order: the same rows as random arrival, in about half the
    // time (appends instead of page splits on the id indexes); the token hashes stay random.
    const accounts = Array.from({ length: n }, () => `acct_${rnd(8).toString('hex')}`).sort();
    const connections = Array.from({ length: n }, () => `conn_${rnd(12).toString('hex')}`).sort();
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const acct = accounts[i] ?? '';
        const conn = connections[i] ?? '';
        const token = rnd(32).toString('base64url');
        account.run(acct, `scale-${i}@example.com`, now);
        connection.run(conn, platformId, acct, now);
        key.run(token, acct, conn, token.slice(-4), now);
        refresh.run(rnd(32).toString('base64url'), conn, platformId, acct, now);
      }
    });
    for (let from = 0; from < n; from += BATCH) batch(from, Math.min(n, from + BATCH));
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return performance.now() - t0;
}

export function countAccounts(file: string): number {
  const db = new SQLite(file, { readonly: true });
  try {
    return (db.prepare('select count(*) as n from accounts').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Any populated account (for `Stripe-Account`): an active connection of the platform. */
export function someConnectedAccount(file: string, platformId: string): string {
  const db = new SQLite(file, { readonly: true });
  try {
    const row = db.prepare(`select account_id from connections where platform_id = ? and revoked_at is null order by id limit 1`).get(platformId) as
      | { account_id: string }
      | undefined;
    if (!row) throw new Error('no connected account in the scale database');
    return row.account_id;
  } finally {
    db.close();
  }
}
