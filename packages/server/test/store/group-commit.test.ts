// Group commit on SQLite (store/group-commit.ts, docs/performance.md "Group commit"): write
// transactions started in the same turn share one COMMIT, yet each resolves only once its work is
// committed (a second connection, which sees only committed data, finds it), a member that throws
// is undone alone, a failed COMMIT fails every member, and a write outside the transactions is
// never acknowledged before it is committed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/dialect.ts';

describe('group commit on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'connectd-group-'));
  const file = join(dir, 'db.sqlite');
  let store: Store;
  let reader: SQLite.Database;
  /** What another connection sees: committed rows only. */
  const committed = () => (reader.prepare('select v from t order by v').all() as Array<{ v: string }>).map((r) => r.v);

  before(async () => {
    store = openStore({ database: file });
    await store.migrate();
    await sql`create table t (v text primary key)`.execute(store.db);
    // A deferred foreign key is checked only at COMMIT: the way to make a COMMIT fail on demand.
    await sql`create table parent (id text primary key)`.execute(store.db);
    await sql`create table child (id text primary key, parent text references parent (id) deferrable initially deferred)`.execute(store.db);
    reader = new SQLite(file, { readonly: true });
  });
  after(async () => {
    reader.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await sql`delete from t`.execute(store.db);
  });

  const insert = (v: string) =>
    store.transaction(async (trx) => {
      await sql`insert into t (v) values (${v})`.execute(trx);
      return v;
    });

  it('commits transactions started together, each visible to another connection once it resolves', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => insert(`r${String(i).padStart(2, '0')}`).then((v) => ({ v, seen: committed() }))));
    const values = results.map((r) => r.v);
    // Every member resolved only after a COMMIT that included its own row.
    for (const { v, seen } of results) assert.ok(seen.includes(v), `${v} resolved before it was committed`);
    assert.deepEqual(committed(), values.slice().sort());
  });

  it('resolves a member only after its own row is committed', async () => {
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((v) => insert(v).then(() => committed().includes(v))),
    );
    assert.deepEqual(results, [true, true, true, true]);
  });

  it('undoes a member that throws, alone, and commits the others', async () => {
    const outcomes = await Promise.allSettled([
      insert('keep-1'),
      store.transaction(async (trx) => {
        await sql`insert into t (v) values ('undone')`.execute(trx);
        throw new Error('member failed');
      }),
      insert('keep-2'),
    ]);
    assert.equal(outcomes[0].status, 'fulfilled');
    assert.equal(outcomes[1].status, 'rejected');
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /member failed/);
    assert.equal(outcomes[2].status, 'fulfilled');
    assert.deepEqual(committed(), ['keep-1', 'keep-2']);
  });

  it('fails every member of a group whose COMMIT fails, and keeps none of their rows', async () => {
    const outcomes = await Promise.allSettled([
      insert('lost-1'),
      store.transaction(async (trx) => {
        // Accepted now, refused at COMMIT: no parent row.
        await sql`insert into child (id, parent) values ('c1', 'missing')`.execute(trx);
      }),
      insert('lost-2'),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected', 'rejected'],
    );
    for (const o of outcomes) assert.match(String((o as PromiseRejectedResult).reason), /FOREIGN KEY/);
    assert.deepEqual(committed(), []);
    // The connection is usable again afterwards.
    await insert('after');
    assert.deepEqual(committed(), ['after']);
  });

  it('commits a waiting group before a write outside the transactions, which is then committed too', async () => {
    const grouped = insert('grouped');
    // Same turn: the group has not committed yet when this plain write runs.
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    await sql`insert into t (v) values ('plain')`.execute(store.db);
    assert.deepEqual(committed(), ['grouped', 'plain']);
    await grouped;
  });
});
