// Server-wide settings kept in the database, so every process sharing it agrees.
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
