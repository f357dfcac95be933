// The delivery queue: rows claimed with a lease (under a lock on their endpoint on PostgreSQL, so
// several processes share the work without double sends or exceeding the per-endpoint cap), and
// the attempt log shown in the dashboard.
import { sql } from 'kysely';
import { randomBase62 } from '../domain/ids.ts';
import type { Store } from './dialect.ts';
import type { DeliveriesTable, Db } from './schema.ts';

export function newDeliveryId(): string {
  return `whdel_${randomBase62(24)}`;
}

export function insertDeliveries(db: Db, eventId: string, endpointIds: string[], now: number): Promise<unknown> {
  if (endpointIds.length === 0) return Promise.resolve();
  return db
    .insertInto('deliveries')
    .values(
      endpointIds.map((endpointId) => ({
        id: newDeliveryId(),
        event_id: eventId,
        endpoint_id: endpointId,
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: now,
        lease_until: null,
        lease_owner: null,
        last_status_code: null,
        last_error: null,
        last_duration_ms: null,
        created: now,
      })),
    )
    .execute();
}

export interface ClaimedDelivery extends DeliveriesTable {
  url: string;
  body: string;
  livemode: number;
}

/**
 * Claims up to `limit` due deliveries for `leaseMs`, never more than `perEndpoint` leased at once
 * to one endpoint, counted over every process sharing the database (docs/webhooks.md): a slow
 * endpoint's backlog waits for its own slots and never fills the batch ahead of other endpoints.
 * On PostgreSQL the endpoint rows are locked (FOR NO KEY UPDATE SKIP LOCKED) while their leases are
 * counted and taken, so two processes never both fill the same endpoint's free slots; an endpoint
 * another process is claiming for right now is skipped until the next poll. On SQLite the write
 * transaction (BEGIN IMMEDIATE) serializes claimers. Times: `now` in seconds for
 * next_attempt_at, `nowMs` for leases (a lease with lease_until >= nowMs is in flight).
 */
export async function claimDue(store: Store, owner: string, now: number, nowMs: number, leaseMs: number, limit: number, perEndpoint: number): Promise<ClaimedDelivery[]> {
  return store.transaction(async (trx) => {
    const due = trx
      .selectFrom('deliveries')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]));
    const leased = trx.selectFrom('deliveries').where('status', '=', 'pending').where('lease_until', '>=', nowMs);
    // Endpoints with due deliveries, oldest first, leaving out those that look full (counted
    // again below, under the lock).
    const candidates = await due
      .select((eb) => ['endpoint_id', eb.fn.min('next_attempt_at').as('first')])
      .where('endpoint_id', 'not in', leased.select('endpoint_id').groupBy('endpoint_id').having((eb) => eb.fn.countAll(), '>=', perEndpoint))
      .groupBy('endpoint_id')
      .orderBy('first')
      .limit(limit)
      .execute();
    let endpoints = candidates.map((c) => c.endpoint_id);
    if (endpoints.length === 0) return [];
    if (store.dialect === 'postgres') {
      const locked = await trx.selectFrom('webhook_endpoints').select('id').where('id', 'in', endpoints).forNoKeyUpdate().skipLocked().execute();
      const mine = new Set(locked.map((r) => r.id));
      endpoints = endpoints.filter((e) => mine.has(e));
      if (endpoints.length === 0) return [];
    }
    const inFlight = await leased
      .select((eb) => ['endpoint_id', eb.fn.countAll<number>().as('n')])
      .where('endpoint_id', 'in', endpoints)
      .groupBy('endpoint_id')
      .execute();
    const busy = new Map(inFlight.map((r) => [r.endpoint_id, Number(r.n)]));
    const ids: string[] = [];
    for (const endpointId of endpoints) {
      const take = Math.min(perEndpoint - (busy.get(endpointId) ?? 0), limit - ids.length);
      if (take <= 0) continue;
      const rows = await due.select('id').where('endpoint_id', '=', endpointId).orderBy('next_attempt_at').orderBy('id').limit(take).execute();
      ids.push(...rows.map((r) => r.id));
      if (ids.length >= limit) break;
    }
    if (ids.length === 0) return [];
    // Conditions again: a late recordAttempt of an expired lease's owner may have finished the row.
    const claimed = await trx
      .updateTable('deliveries')
      .set({ lease_until: nowMs + leaseMs, lease_owner: owner })
      .where('id', 'in', ids)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
      .returning('id')
      .execute();
    if (claimed.length === 0) return [];
    return trx
      .selectFrom('deliveries')
      .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'deliveries.endpoint_id')
      .innerJoin('events', 'events.id', 'deliveries.event_id')
      .selectAll('deliveries')
      .select(['webhook_endpoints.url as url', sql<string>`coalesce(events.body, events.data)`.as('body'), 'events.livemode as livemode'])
      .where('deliveries.id', 'in', claimed.map((r) => r.id))
      .execute();
  });
}

export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Records an attempt; only the lease holder may (a crashed worker's late answer is dropped). */
export async function recordAttempt(
  store: Store,
  d: { id: string; eventId: string; owner: string; attemptedAt: number },
  result: AttemptResult,
  outcome: { kind: 'succeeded' } | { kind: 'retry'; at: number } | { kind: 'failed' },
): Promise<boolean> {
  return store.transaction(async (trx) => {
    const updated = await trx
      .updateTable('deliveries')
      .set((eb) => ({
        status: outcome.kind === 'retry' ? 'pending' : outcome.kind,
        attempts: eb('attempts', '+', 1),
        next_attempt_at: outcome.kind === 'retry' ? outcome.at : d.attemptedAt,
        lease_until: null,
        lease_owner: null,
        last_status_code: result.statusCode,
        last_error: result.error,
        last_duration_ms: result.durationMs,
      }))
      .where('id', '=', d.id)
      .where('lease_owner', '=', d.owner)
      .where('status', '=', 'pending')
      .returning('id')
      .executeTakeFirst();
    if (!updated) return false;
    await trx
      .insertInto('delivery_attempts')
      .values({ id: `whatt_${randomBase62(24)}`, delivery_id: d.id, attempted_at: d.attemptedAt, status_code: result.statusCode, error: result.error, duration_ms: result.durationMs, owner: d.owner })
      .execute();
    if (outcome.kind === 'succeeded') {
      await trx
        .updateTable('events')
        .set((eb) => ({ pending_webhooks: eb('pending_webhooks', '-', 1) }))
        .where('id', '=', d.eventId)
        .where('pending_webhooks', '>', 0)
        .execute();
    }
    return true;
  });
}

/** Resend from the dashboard: a new pending delivery of the same event to the same endpoint. */
export async function resend(db: Db, deliveryId: string, now: number): Promise<string | null> {
  const d = await db.selectFrom('deliveries').selectAll().where('id', '=', deliveryId).executeTakeFirst();
  if (!d) return null;
  const id = newDeliveryId();
  await db
    .insertInto('deliveries')
    .values({ ...d, id, status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, lease_owner: null, last_status_code: null, last_error: null, last_duration_ms: null, created: now })
    .execute();
  return id;
}

export interface DeliveryLogRow extends DeliveriesTable {
  event_type: string;
  account_id: string;
}

export function listDeliveriesOfEndpoint(db: Db, endpointId: string, limit = 50): Promise<DeliveryLogRow[]> {
  return db
    .selectFrom('deliveries')
    .innerJoin('events', 'events.id', 'deliveries.event_id')
    .selectAll('deliveries')
    .select(['events.type as event_type', 'events.account_id as account_id'])
    .where('deliveries.endpoint_id', '=', endpointId)
    .orderBy('deliveries.created', 'desc')
    .orderBy('deliveries.id')
    .limit(limit)
    .execute();
}
