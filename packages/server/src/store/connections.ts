// Connections between a platform and an account, with their refresh tokens.
import type { Mode } from '../domain/ids.ts';
import { precompile } from './prepared.ts';
import type { ConnectionsTable, Db, RefreshTokensTable } from './schema.ts';

const activeConnection = precompile((db: Db, p: { platformId: string; accountId: string }) =>
  db
    .selectFrom('connections')
    .selectAll()
    .where('platform_id', '=', p.platformId)
    .where('account_id', '=', p.accountId)
    .where('revoked_at', 'is', null),
);

export function findActiveConnection(db: Db, platformId: string, accountId: string): Promise<ConnectionsTable | undefined> {
  return activeConnection.first(db, { platformId, accountId });
}

export function findConnection(db: Db, id: string): Promise<ConnectionsTable | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
}

const connectionInsert = precompile((db: Db, p: ConnectionsTable) =>
  db
    .insertInto('connections')
    .values({
      id: p.id,
      platform_id: p.platform_id,
      account_id: p.account_id,
      livemode: p.livemode,
      scope: p.scope,
      created: p.created,
      revoked_at: p.revoked_at,
      revoked_reason: p.revoked_reason,
    })
    .onConflict((oc) => oc.columns(['platform_id', 'account_id']).where('revoked_at', 'is', null).doNothing())
    .returning('id'),
);

/** Inserts unless an active connection for the pair exists (partial unique index); true if inserted. */
export async function insertConnectionIfNone(db: Db, row: ConnectionsTable): Promise<boolean> {
  return (await connectionInsert.first(db, row)) !== undefined;
}

const activeConnectionLock = precompile((db: Db, p: { id: string }) =>
  db
    .updateTable('connections')
    .set((eb) => ({ scope: eb.ref('scope') }))
    .where('id', '=', p.id)
    .where('revoked_at', 'is', null)
    .returningAll(),
);

/**
 * Locks an active connection for the rest of the transaction and returns it (undefined when it
 * is revoked). A no-op UPDATE: a row lock on PostgreSQL, where concurrent refreshes, exchanges and
 * revocations must serialize; SQLite's BEGIN IMMEDIATE already serializes writers.
 */
export function lockActiveConnection(db: Db, id: string): Promise<ConnectionsTable | undefined> {
  return activeConnectionLock.first(db, { id });
}

const refreshTokensOfScopeRevoke = precompile((db: Db, p: { connectionId: string; scope: string; now: number }) =>
  db
    .updateTable('refresh_tokens')
    .set({ revoked_at: p.now })
    .where('connection_id', '=', p.connectionId)
    .where('scope', '=', p.scope)
    .where('revoked_at', 'is', null),
);

/** Revokes a connection's refresh tokens of one scope (when a reauthorization narrows it). */
export function revokeRefreshTokensOfScope(db: Db, connectionId: string, scope: string, now: number): Promise<unknown> {
  return refreshTokensOfScopeRevoke.run(db, { connectionId, scope, now });
}

const connectionGrantUpdate = precompile((db: Db, p: { id: string; livemode: number; scope: string }) =>
  db.updateTable('connections').set({ livemode: p.livemode, scope: p.scope }).where('id', '=', p.id),
);

export function updateConnectionGrant(db: Db, id: string, livemode: number, scope: string): Promise<unknown> {
  return connectionGrantUpdate.run(db, { id, livemode, scope });
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

const refreshTokenInsert = precompile((db: Db, p: RefreshTokensTable) =>
  db.insertInto('refresh_tokens').values({
    hash: p.hash,
    connection_id: p.connection_id,
    platform_id: p.platform_id,
    account_id: p.account_id,
    scope: p.scope,
    livemode: p.livemode,
    created: p.created,
    revoked_at: p.revoked_at,
  }),
);

export function insertRefreshToken(db: Db, row: RefreshTokensTable): Promise<unknown> {
  return refreshTokenInsert.run(db, row);
}

const refreshTokenByHash = precompile((db: Db, p: { hash: string }) => db.selectFrom('refresh_tokens').selectAll().where('hash', '=', p.hash));

export function findRefreshToken(db: Db, hash: string): Promise<RefreshTokensTable | undefined> {
  return refreshTokenByHash.first(db, { hash });
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
