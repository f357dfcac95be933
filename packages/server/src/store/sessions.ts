// Browser sessions (hashed ids) and pending authorize requests bound to them.
import type { AuthorizeRequestsTable, Db, SessionsTable } from './schema.ts';

export function insertSession(db: Db, row: SessionsTable): Promise<unknown> {
  return db.insertInto('sessions').values(row).execute();
}

export function findSession(db: Db, hash: string, now: number): Promise<SessionsTable | undefined> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('hash', '=', hash)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

export function deleteSession(db: Db, hash: string): Promise<unknown> {
  return db.deleteFrom('sessions').where('hash', '=', hash).execute();
}

/** Ends every browser session of an account (it was deleted). */
export async function deleteSessionsOfAccount(db: Db, accountId: string): Promise<void> {
  await db.deleteFrom('sessions').where('account_id', '=', accountId).execute();
}

export function insertAuthorizeRequest(db: Db, row: AuthorizeRequestsTable): Promise<unknown> {
  return db.insertInto('authorize_requests').values(row).execute();
}

export function findAuthorizeRequest(db: Db, id: string, now: number): Promise<AuthorizeRequestsTable | undefined> {
  return db
    .selectFrom('authorize_requests')
    .selectAll()
    .where('id', '=', id)
    .where('expires_at', '>', now)
    .where('completed_at', 'is', null)
    .executeTakeFirst();
}

/** Completes a request once: a double-submitted consent form issues one code (docs/security-model.md BI-36). */
export async function completeAuthorizeRequest(db: Db, id: string, sessionHash: string, now: number): Promise<boolean> {
  const rows = await db
    .updateTable('authorize_requests')
    .set({ completed_at: now })
    .where('id', '=', id)
    .where('session_hash', '=', sessionHash)
    .where('completed_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('id')
    .execute();
  return rows.length === 1;
}

/** After login rotates the session id, the pending request follows the new session. */
export function rebindAuthorizeRequests(db: Db, fromHash: string, toHash: string): Promise<unknown> {
  return db.updateTable('authorize_requests').set({ session_hash: toHash }).where('session_hash', '=', fromHash).execute();
}
