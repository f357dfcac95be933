// API keys and OAuth access tokens: one table, looked up by keyed hash (one indexed read).
import type { Mode } from '../domain/ids.ts';
import { precompile } from './prepared.ts';
import type { ApiKeysTable, Db } from './schema.ts';

export interface KeyRecord extends ApiKeysTable {
  /** For access tokens: the owning connection's platform and whether it was revoked. */
  connection_platform_id: string | null;
  connection_revoked_at: number | null;
}

const keyByHash = precompile((db: Db, p: { hash: string }) =>
  db
    .selectFrom('api_keys')
    .leftJoin('connections', 'connections.id', 'api_keys.connection_id')
    .selectAll('api_keys')
    .select(['connections.platform_id as connection_platform_id', 'connections.revoked_at as connection_revoked_at'])
    .where('api_keys.hash', '=', p.hash),
);

export function findKeyByHash(db: Db, hash: string): Promise<KeyRecord | undefined> {
  return keyByHash.first(db, { hash });
}

export interface RequestKeyRecord extends KeyRecord {
  /** The active connection from this key's account to the Stripe-Account, if any. */
  on_behalf_scope: string | null;
  on_behalf_livemode: number | null;
}

/**
 * The /v1 hot path in one indexed read: the key (or access token) by hash, its own connection if
 * it is an access token, and the key account's active connection to `onBehalfOf`.
 */
const keyForRequest = precompile((db: Db, p: { hash: string; onBehalfOf: string }) =>
  db
    .selectFrom('api_keys')
    .leftJoin('connections as tc', 'tc.id', 'api_keys.connection_id')
    .leftJoin('connections as oc', (join) =>
      join
        .onRef('oc.platform_id', '=', 'api_keys.account_id')
        .on('oc.account_id', '=', p.onBehalfOf)
        .on('oc.revoked_at', 'is', null),
    )
    .selectAll('api_keys')
    .select([
      'tc.platform_id as connection_platform_id',
      'tc.revoked_at as connection_revoked_at',
      'oc.scope as on_behalf_scope',
      'oc.livemode as on_behalf_livemode',
    ])
    .where('api_keys.hash', '=', p.hash),
);

export function findKeyForRequest(db: Db, hash: string, onBehalfOf: string | null): Promise<RequestKeyRecord | undefined> {
  return keyForRequest.first(db, { hash, onBehalfOf: onBehalfOf ?? '' });
}

const accessTokenInsert = precompile(
  (db: Db, p: { hash: string; accountId: string; mode: Mode; connectionId: string; scope: string; last4: string; now: number }) =>
    db.insertInto('api_keys').values({
      hash: p.hash,
      account_id: p.accountId,
      mode: p.mode,
      kind: 'access_token',
      connection_id: p.connectionId,
      scope: p.scope,
      last4: p.last4,
      revealable: null,
      created: p.now,
      revoked_at: null,
    }),
);

export function insertAccessToken(
  db: Db,
  row: { hash: string; accountId: string; mode: Mode; connectionId: string; scope: string; last4: string; now: number },
): Promise<unknown> {
  return accessTokenInsert.run(db, row);
}

const accessTokensRevoke = precompile((db: Db, p: { connectionId: string; now: number }) =>
  db.updateTable('api_keys').set({ revoked_at: p.now }).where('connection_id', '=', p.connectionId).where('revoked_at', 'is', null),
);

const accessTokensOfScopeRevoke = precompile((db: Db, p: { connectionId: string; now: number; scope: string; mode: Mode }) =>
  db
    .updateTable('api_keys')
    .set({ revoked_at: p.now })
    .where('connection_id', '=', p.connectionId)
    .where('revoked_at', 'is', null)
    .where('scope', '=', p.scope)
    .where('mode', '=', p.mode),
);

/** Revokes a connection's access tokens, optionally only those of one scope and mode. */
export function revokeAccessTokens(
  db: Db,
  connectionId: string,
  now: number,
  only?: { scope: string; mode: Mode },
): Promise<unknown> {
  return only
    ? accessTokensOfScopeRevoke.run(db, { connectionId, now, scope: only.scope, mode: only.mode })
    : accessTokensRevoke.run(db, { connectionId, now });
}

export function listOwnKeys(db: Db, accountId: string): Promise<ApiKeysTable[]> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('kind', 'in', ['secret', 'publishable'])
    .where('revoked_at', 'is', null)
    .orderBy('created')
    .execute();
}

const publishable = precompile((db: Db, p: { accountId: string; mode: Mode }) =>
  db
    .selectFrom('api_keys')
    .select('revealable')
    .where('account_id', '=', p.accountId)
    .where('kind', '=', 'publishable')
    .where('mode', '=', p.mode)
    .where('revoked_at', 'is', null)
    .orderBy('created', 'desc')
    .limit(1),
);

export async function publishableKey(db: Db, accountId: string, mode: Mode): Promise<string | null> {
  const row = await publishable.first(db, { accountId, mode });
  return row?.revealable ?? null;
}

/** Revokes the account's live secret key of a mode and stores `key` (hashed) in its place. */
export async function replaceSecretKey(db: Db, row: { accountId: string; mode: Mode; hash: string; last4: string; revealable: string | null; now: number }): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ revoked_at: row.now })
    .where('account_id', '=', row.accountId)
    .where('kind', '=', 'secret')
    .where('mode', '=', row.mode)
    .where('revoked_at', 'is', null)
    .execute();
  await db
    .insertInto('api_keys')
    .values({
      hash: row.hash,
      account_id: row.accountId,
      mode: row.mode,
      kind: 'secret',
      connection_id: null,
      scope: null,
      last4: row.last4,
      revealable: row.revealable,
      created: row.now,
      revoked_at: null,
    })
    .execute();
}

/** Revokes every key an account holds in its own name (its account was deleted). */
export async function revokeOwnKeys(db: Db, accountId: string, now: number): Promise<void> {
  await db.updateTable('api_keys').set({ revoked_at: now }).where('account_id', '=', accountId).where('connection_id', 'is', null).where('revoked_at', 'is', null).execute();
}
