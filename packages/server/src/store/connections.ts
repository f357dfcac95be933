// Connections between a platform and an account, with their refresh tokens.
import type { Mode } from '../domain/ids.ts';
import type { ConnectionsTable, Db, RefreshTokensTable } from './schema.ts';

export function findActiveConnection(db: Db, platformId: string, accountId: string): Promise<ConnectionsTable | undefined> {
  return db
    .selectFrom('connections')
    .selectAll()
    .where('platform_id', '=', platformId)
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export function findConnection(db: Db, id: string): Promise<ConnectionsTable | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Inserts unless an active connection for the pair exists (partial unique index); true if inserted. */
export async function insertConnectionIfNone(db: Db, row: ConnectionsTable): Promise<boolean> {
  const inserted = await db
    .insertInto('connections')
    .values(row)
    .onConflict((oc) => oc.columns(['platform_id', 'account_id']).where('revoked_at', 'is', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Locks an active connection for the rest of the transaction and returns it (undefined when it
 * is revoked). A no-op UPDATE: a row lock on PostgreSQL, where concurrent refreshes, exchanges and
 * revocations must serialize; SQLite's BEGIN IMMEDIATE already serializes writers.
 */
export function lockActiveConnection(db: Db, id: string): Promise<ConnectionsTable | undefined> {
  return db
    .updateTable('connections')
    .set((eb) => ({ scope: eb.ref('scope') }))
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Revokes a connection's refresh tokens of one scope (when a reauthorization narrows it). */
export function revokeRefreshTokensOfScope(db: Db, connectionId: string, scope: string, now: number): Promise<unknown> {
  return db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('connection_id', '=', connectionId)
    .where('scope', '=', scope)
    .where('revoked_at', 'is', null)
    .execute();
}

export function updateConnectionGrant(db: Db, id: string, livemode: number, scope: string): Promise<unknown> {
  return db.updateTable('connections').set({ livemode, scope }).where('id', '=', id).execute();
}

/** Marks a live connection revoked; returns false if it was already revoked (someone else won). */
export async function markConnectionRevoked(db: Db, id: string, now: number, reason: string): Promise<boolean> {
  const rows = await db
    .updateTable('connections')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning('id')
    .execute();
  return rows.length === 1;
}

export interface ConnectionWithNames extends ConnectionsTable {
  platform_name: string;
  account_email: string;
  account_business_name: string | null;
}

function withNames(db: Db) {
  return db
    .selectFrom('connections')
    .innerJoin('platforms', 'platforms.account_id', 'connections.platform_id')
    .innerJoin('accounts', 'accounts.id', 'connections.account_id')
    .selectAll('connections')
    .select([
      'platforms.name as platform_name',
      'accounts.email as account_email',
      'accounts.business_name as account_business_name',
    ])
    .where('connections.revoked_at', 'is', null);
}

export function listConnectionsOfAccount(db: Db, accountId: string): Promise<ConnectionWithNames[]> {
  return withNames(db).where('connections.account_id', '=', accountId).orderBy('connections.created', 'desc').execute();
}

export function listConnectionsOfPlatform(db: Db, platformId: string): Promise<ConnectionWithNames[]> {
  return withNames(db).where('connections.platform_id', '=', platformId).orderBy('connections.created', 'desc').execute();
}

export function insertRefreshToken(db: Db, row: RefreshTokensTable): Promise<unknown> {
  return db.insertInto('refresh_tokens').values(row).execute();
}

export function findRefreshToken(db: Db, hash: string): Promise<RefreshTokensTable | undefined> {
  return db.selectFrom('refresh_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
}

export function revokeRefreshTokens(db: Db, connectionId: string, now: number): Promise<unknown> {
  return db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('connection_id', '=', connectionId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Whether an active connection covers a mode: a live connection also grants test access. */
export function connectionCovers(conn: Pick<ConnectionsTable, 'livemode'>, mode: Mode): boolean {
  return mode === 'test' || conn.livemode === 1;
}
