// The delivery queue: rows claimed with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, so several
// processes share the work without double sends), and the attempt log shown in the dashboard.
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
 * Claims up to `limit` due deliveries for `leaseMs`. On PostgreSQL the inner SELECT skips rows
 * another process holds; on SQLite the write transaction (BEGIN IMMEDIATE) serializes claimers.
 * Times: `now` in seconds for next_attempt_at, `nowMs` for leases. Deliveries to `skipEndpoints`
 * (endpoints at this worker's concurrency cap) are left alone, so a backlog on a slow endpoint
 * never fills the batch and starves the others.
 */
export async function claimDue(store: Store, owner: string, now: number, nowMs: number, leaseMs: number, limit: number, skipEndpoints: readonly string[] = []): Promise<ClaimedDelivery[]> {
  return store.transaction(async (trx) => {
    let due = trx
      .selectFrom('deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
      .orderBy('next_attempt_at')
      .limit(limit);
    if (skipEndpoints.length > 0) due = due.where('endpoint_id', 'not in', [...skipEndpoints]);
    if (store.dialect === 'postgres') due = due.forUpdate().skipLocked();
    const ids = (await due.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    await trx
      .updateTable('deliveries')
      .set({ lease_until: nowMs + leaseMs, lease_owner: owner })
      .where('id', 'in', ids)
      .execute();
    return trx
      .selectFrom('deliveries')
      .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'deliveries.endpoint_id')
      .innerJoin('events', 'events.id', 'deliveries.event_id')
      .selectAll('deliveries')
      .select(['webhook_endpoints.url as url', sql<string>`coalesce(events.body, events.data)`.as('body'), 'events.livemode as livemode'])
      .where('deliveries.id', 'in', ids)
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

/** Releases a claim without an attempt (the endpoint is at its concurrency cap). */
export function releaseClaim(db: Db, id: string, owner: string): Promise<unknown> {
  return db.updateTable('deliveries').set({ lease_until: null, lease_owner: null }).where('id', '=', id).where('lease_owner', '=', owner).execute();
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
