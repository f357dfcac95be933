// Idempotency keys (contract Part A "Idempotency"): claim first, store the response after.
import type { Db, IdempotencyKeysTable } from './schema.ts';

export type Claim =
  | { kind: 'claimed' }
  | { kind: 'replay'; status: number; body: string }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' };

/** How long an in-flight claim may live before a crashed holder's key can be taken over. */
const STALE_IN_FLIGHT = 60;
export const IDEMPOTENCY_TTL = 24 * 3600;

export async function claimIdempotencyKey(
  db: Db,
  row: Pick<IdempotencyKeysTable, 'scope' | 'key' | 'fingerprint'>,
  now: number,
): Promise<Claim> {
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({ ...row, state: 'in_flight', status: null, body: null, created: now })
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted) return { kind: 'claimed' };
  const existing = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('scope', '=', row.scope)
    .where('key', '=', row.key)
    .executeTakeFirst();
  if (!existing) return claimIdempotencyKey(db, row, now);
  const expired = existing.created + IDEMPOTENCY_TTL <= now;
  const stale = existing.state === 'in_flight' && existing.created + STALE_IN_FLIGHT <= now;
  if (expired || stale) {
    const taken = await db
      .updateTable('idempotency_keys')
      .set({ fingerprint: row.fingerprint, state: 'in_flight', status: null, body: null, created: now })
      .where('scope', '=', row.scope)
      .where('key', '=', row.key)
      .where('created', '=', existing.created)
      .returning('key')
      .executeTakeFirst();
    return taken ? { kind: 'claimed' } : { kind: 'in_flight' };
  }
  if (existing.fingerprint !== row.fingerprint) return { kind: 'mismatch' };
  if (existing.state === 'in_flight') return { kind: 'in_flight' };
  return { kind: 'replay', status: existing.status ?? 200, body: existing.body ?? '' };
}

export function completeIdempotencyKey(db: Db, scope: string, key: string, status: number, body: string): Promise<unknown> {
  return db
    .updateTable('idempotency_keys')
    .set({ state: 'done', status, body })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .execute();
}

export function releaseIdempotencyKey(db: Db, scope: string, key: string): Promise<unknown> {
  return db.deleteFrom('idempotency_keys').where('scope', '=', scope).where('key', '=', key).where('state', '=', 'in_flight').execute();
}
