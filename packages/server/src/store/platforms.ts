// Platforms: any account may enable Connect and get a development and a live client_id.
import { precompile } from './prepared.ts';
import type { Db, PlatformsTable } from './schema.ts';

export interface Platform extends Omit<PlatformsTable, 'redirect_uris'> {
  redirect_uris: string[];
}

function decode(row: PlatformsTable): Platform {
  return { ...row, redirect_uris: JSON.parse(row.redirect_uris) as string[] };
}

export async function findPlatformByClientId(db: Db, clientId: string): Promise<Platform | undefined> {
  const row = await db
    .selectFrom('platforms')
    .selectAll()
    .where((eb) => eb.or([eb('client_id_test', '=', clientId), eb('client_id_live', '=', clientId)]))
    .executeTakeFirst();
  return row && decode(row);
}

/** Reads a platform under a row lock (PostgreSQL), for read-modify-write of its settings. */
export async function lockPlatform(db: Db, accountId: string): Promise<Platform | undefined> {
  const row = await db
    .updateTable('platforms')
    .set((eb) => ({ account_id: eb.ref('account_id') }))
    .where('account_id', '=', accountId)
    .returningAll()
    .executeTakeFirst();
  return row && decode(row);
}

const platformById = precompile((db: Db, p: { accountId: string }) => db.selectFrom('platforms').selectAll().where('account_id', '=', p.accountId));

export async function findPlatform(db: Db, accountId: string): Promise<Platform | undefined> {
  const row = await platformById.first(db, { accountId });
  return row && decode(row);
}

export function insertPlatform(db: Db, p: Platform): Promise<unknown> {
  return db
    .insertInto('platforms')
    .values({ ...p, redirect_uris: JSON.stringify(p.redirect_uris) })
    .execute();
}

/** Inserts unless the account already is a platform (a double-submitted "Enable Connect"). */
export function insertPlatformIfNone(db: Db, p: Platform): Promise<unknown> {
  return db
    .insertInto('platforms')
    .values({ ...p, redirect_uris: JSON.stringify(p.redirect_uris) })
    .onConflict((oc) => oc.column('account_id').doNothing())
    .execute();
}

export function updatePlatform(
  db: Db,
  accountId: string,
  patch: Partial<Pick<Platform, 'name' | 'icon_url' | 'brand_color' | 'redirect_uris' | 'require_pkce'>>,
): Promise<unknown> {
  const { redirect_uris, ...rest } = patch;
  return db
    .updateTable('platforms')
    .set({ ...rest, ...(redirect_uris ? { redirect_uris: JSON.stringify(redirect_uris) } : {}) })
    .where('account_id', '=', accountId)
    .execute();
}
