// Server-wide settings kept in the database, so every process sharing it agrees.
import { sql } from 'kysely';
import type { Store } from './dialect.ts';
import type { Db } from './schema.ts';

/** Returns the stored value, inserting `make()` first if the name is new (race-safe). */
export async function getOrCreateSetting(db: Db, name: string, make: () => string): Promise<string> {
  await db
    .insertInto('settings')
    .values({ name, value: make() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirstOrThrow();
  return row.value;
}

export async function readSetting(db: Db, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst();
  return row?.value;
}

/**
 * Deletes a setting so that its bytes do not linger: on SQLite with secure_delete (freed pages
 * are zeroed) and a WAL checkpoint that truncates the log (a reader holding an old snapshot can
 * delay it); on PostgreSQL with a vacuum of the table.
 */
export async function deleteSetting(store: Store, name: string): Promise<void> {
  if (store.dialect === 'sqlite') await sql`pragma secure_delete = on`.execute(store.db);
  await store.db.deleteFrom('settings').where('name', '=', name).execute();
  if (store.dialect === 'sqlite') {
    await sql`pragma wal_checkpoint(truncate)`.execute(store.db);
    await sql`pragma secure_delete = off`.execute(store.db);
  } else {
    // The deleted row stays as a dead tuple until vacuumed; vacuum now (outside any transaction).
    await sql`vacuum settings`.execute(store.db);
  }
}
