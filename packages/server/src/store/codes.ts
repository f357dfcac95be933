// Authorization codes: stored by hash, consumed by one atomic statement (ARCHITECTURE "Habits").
import type { AuthorizationCodesTable, Db } from './schema.ts';

export function insertCode(db: Db, row: AuthorizationCodesTable): Promise<unknown> {
  return db.insertInto('authorization_codes').values(row).execute();
}

export function findCode(db: Db, hash: string): Promise<AuthorizationCodesTable | undefined> {
  return db.selectFrom('authorization_codes').selectAll().where('hash', '=', hash).executeTakeFirst();
}

/**
 * Consumes a code if it is unused and unexpired, in one UPDATE … RETURNING: of any number of
 * concurrent callers exactly one gets the row (security plan CD-02, DS-01).
 */
export function consumeCode(db: Db, hash: string, now: number): Promise<AuthorizationCodesTable | undefined> {
  return db
    .updateTable('authorization_codes')
    .set({ consumed_at: now })
    .where('hash', '=', hash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
}

export function setCodeConnection(db: Db, hash: string, connectionId: string): Promise<unknown> {
  return db.updateTable('authorization_codes').set({ connection_id: connectionId }).where('hash', '=', hash).execute();
}
