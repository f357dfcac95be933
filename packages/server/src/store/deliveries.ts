// The delivery queue: rows claimed in batches with a lease, one endpoint held by one process at a
// time (under a lock on the endpoint row on PostgreSQL), so several processes share the work
// without double sends or exceeding the per-endpoint cap; attempts recorded in batches; and the
// attempt log shown in the dashboard.
import { sql } from 'kysely';
import { sortableBase62 } from '../domain/ids.ts';
import type { Store } from './dialect.ts';
import { precompile } from './prepared.ts';
import type { DeliveriesTable, Db } from './schema.ts';

export function newDeliveryId(): string {
  return `whdel_${sortableBase62(24)}`;
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

/** What a worker needs to send to an endpoint: read with each claim, so no send selects it again. */
export interface EndpointTarget {
  id: string;
  url: string;
  status: string;
  livemode: number;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: number | null;
}

export interface ClaimedDelivery {
  id: string;
  event_id: string;
  attempts: number;
  next_attempt_at: number;
  /** The event's bytes as first rendered (every attempt sends the same body). */
  body: string;
  /** The event's mode (the retry schedule follows it). */
  event_livemode: number;
}

export interface EndpointBatch {
  endpoint: EndpointTarget;
  deliveries: ClaimedDelivery[];
  /** Unix milliseconds: the lease of every delivery in the batch ends then. */
  leaseUntil: number;
}

export interface ClaimRequest {
  owner: string;
  /** Unix seconds (next_attempt_at). */
  now: number;
  /** Unix milliseconds (leases): a lease with lease_until >= nowMs is live. */
  nowMs: number;
  leaseMs: number;
  /** Endpoints this process has enough of already: not looked at by this claim. */
  skip: readonly string[];
  /** Most endpoints looked at by one claim. */
  maxEndpoints: number;
  /** How many deliveries to lease for this endpoint now (0: none). */
  batchFor: (endpointId: string) => number;
  /** How long a process waiting for its turn on an endpoint keeps its place. */
  wantMs: number;
}

export interface ClaimResult {
  batches: EndpointBatch[];
  /** Endpoints with due deliveries that another process holds or is waiting for. */
  waiting: number;
  /** The claim looked at its most endpoints: there may be more due now. */
  full: boolean;
}

const targetColumns = ['id', 'url', 'status', 'livemode', 'secret_sealed', 'previous_secret_sealed', 'previous_secret_expires_at'] as const;

/**
 * Claims batches of due deliveries, one endpoint at a time (docs/webhooks.md "Delivery"). A
 * process leases an endpoint's deliveries only while no other process holds a live lease on that
 * endpoint, and then sends them with at most the per-endpoint cap in flight: so the cap holds over
 * every process sharing the database, and a batch of hundreds costs one statement. While it holds
 * deliveries of an endpoint it may lease more (the endpoint is already its own), unless another
 * process is waiting for its turn there (claim_wanted_by): then it lets its batch run out, and the
 * endpoint passes to the waiting process at that one's next claim.
 *
 * On PostgreSQL the endpoint rows are locked (FOR NO KEY UPDATE SKIP LOCKED) while the leases are
 * checked and taken, so two processes never both take the same endpoint; an endpoint another
 * process is claiming for right now is skipped until the next claim. On SQLite the write
 * transaction (BEGIN IMMEDIATE) serializes claimers.
 */
export async function claimDeliveries(store: Store, req: ClaimRequest): Promise<ClaimResult> {
  const { owner, now, nowMs } = req;
  return store.transaction(async (trx) => {
    let due = trx
      .selectFrom('deliveries')
      .select((eb) => [
        'endpoint_id',
        eb.fn.min('next_attempt_at').as('first'),
        // Another process holds a live lease on the endpoint.
        eb
          .exists(
            eb
              .selectFrom('deliveries as l')
              .select('l.id')
              .whereRef('l.endpoint_id', '=', 'deliveries.endpoint_id')
              .where('l.status', '=', 'pending')
              .where('l.lease_until', '>=', nowMs)
              .where('l.lease_owner', '!=', owner),
          )
          .as('busy'),
      ])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]));
    if (req.skip.length > 0) due = due.where('endpoint_id', 'not in', [...req.skip]);
    // Endpoints free to take first, each oldest first.
    const candidates = await due.groupBy('endpoint_id').orderBy('busy').orderBy('first').limit(req.maxEndpoints).execute();
    const result: ClaimResult = { batches: [], waiting: 0, full: candidates.length >= req.maxEndpoints };
    if (candidates.length === 0) return result;
    let endpoints = trx
      .selectFrom('webhook_endpoints')
      .select([...targetColumns, 'claim_wanted_by', 'claim_wanted_until'])
      .where('id', 'in', candidates.map((c) => c.endpoint_id));
    if (store.dialect === 'postgres') endpoints = endpoints.forNoKeyUpdate().skipLocked();
    const rows = new Map((await endpoints.execute()).map((e) => [e.id, e]));
    const leaseUntil = nowMs + req.leaseMs;
    for (const c of candidates) {
      const e = rows.get(c.endpoint_id);
      if (!e) continue;
      // SQLite: the candidates query ran in this same serialized transaction. PostgreSQL: look
      // again now that the endpoint is locked (another process may have leased it meanwhile).
      let busy = Boolean(c.busy);
      if (!busy && store.dialect === 'postgres') {
        busy = (await trx.selectFrom('deliveries').select('id').where('endpoint_id', '=', e.id).where('status', '=', 'pending').where('lease_until', '>=', nowMs).where('lease_owner', '!=', owner).limit(1).executeTakeFirst()) !== undefined;
      }
      const wantedByOther = e.claim_wanted_by !== null && e.claim_wanted_by !== owner && (e.claim_wanted_until ?? 0) >= nowMs;
      if (busy) {
        result.waiting++;
        // The first process waiting keeps its place until it gets the endpoint or stops asking.
        if (!wantedByOther) {
          await trx.updateTable('webhook_endpoints').set({ claim_wanted_by: owner, claim_wanted_until: nowMs + req.wantMs }).where('id', '=', e.id).execute();
        }
        continue;
      }
      if (wantedByOther) {
        // Another process's turn: it takes the endpoint at its next claim.
        result.waiting++;
        continue;
      }
      const limit = req.batchFor(e.id);
      if (limit <= 0) continue;
      // Conditions again in the outer query: on PostgreSQL a row finished meanwhile (a late
      // record of an expired lease's owner) is re-checked here and left alone.
      const leased = await trx
        .updateTable('deliveries')
        .set({ lease_until: leaseUntil, lease_owner: owner })
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('deliveries as d')
            .select('d.id')
            .where('d.endpoint_id', '=', e.id)
            .where('d.status', '=', 'pending')
            .where('d.next_attempt_at', '<=', now)
            .where((w) => w.or([w('d.lease_until', 'is', null), w('d.lease_until', '<', nowMs)]))
            .orderBy('d.next_attempt_at')
            .orderBy('d.id')
            .limit(limit),
        )
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
        .returning((eb) => [
          'id',
          'event_id',
          'attempts',
          'next_attempt_at',
          eb.selectFrom('events').select(sql<string>`coalesce(events.body, events.data)`.as('b')).whereRef('events.id', '=', 'deliveries.event_id').as('body'),
          eb.selectFrom('events').select('events.livemode').whereRef('events.id', '=', 'deliveries.event_id').as('event_livemode'),
        ])
        .execute();
      if (leased.length === 0) continue;
      if (e.claim_wanted_by === owner) {
        await trx.updateTable('webhook_endpoints').set({ claim_wanted_by: null, claim_wanted_until: null }).where('id', '=', e.id).where('claim_wanted_by', '=', owner).execute();
      }
      const deliveries = leased
        .map((d) => ({ id: d.id, event_id: d.event_id, attempts: d.attempts, next_attempt_at: d.next_attempt_at, body: d.body ?? '', event_livemode: Number(d.event_livemode ?? 0) }))
        .sort((a, b) => a.next_attempt_at - b.next_attempt_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const endpoint: EndpointTarget = {
        id: e.id,
        url: e.url,
        status: e.status,
        livemode: e.livemode,
        secret_sealed: e.secret_sealed,
        previous_secret_sealed: e.previous_secret_sealed,
        previous_secret_expires_at: e.previous_secret_expires_at,
      };
      result.batches.push({ endpoint, deliveries, leaseUntil });
    }
    return result;
  });
}

/** The endpoint as a send needs it, read again while a batch is being sent (it may have changed). */
export function endpointTarget(db: Db, id: string): Promise<EndpointTarget | undefined> {
  return db.selectFrom('webhook_endpoints').select([...targetColumns]).where('id', '=', id).executeTakeFirst();
}

export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export type AttemptOutcome = { kind: 'succeeded' } | { kind: 'retry'; at: number } | { kind: 'failed' };

/** What a worker reports for a leased delivery: an attempt, or giving the lease back unsent. */
export type DeliveryReport =
  | { kind: 'attempt'; id: string; eventId: string; attemptedAt: number; result: AttemptResult; outcome: AttemptOutcome }
  | { kind: 'release'; id: string };

const finishDelivery = precompile((db, p: { id: string; owner: string; status: string; nextAttemptAt: number; code: number | null; error: string | null; durationMs: number }) =>
  db
    .updateTable('deliveries')
    .set((eb) => ({
      status: p.status as DeliveriesTable['status'],
      attempts: eb('attempts', '+', 1),
      next_attempt_at: p.nextAttemptAt,
      lease_until: null,
      lease_owner: null,
      last_status_code: p.code,
      last_error: p.error,
      last_duration_ms: p.durationMs,
    }))
    .where('id', '=', p.id)
    .where('lease_owner', '=', p.owner)
    .where('status', '=', 'pending'),
);

const insertAttempt = precompile((db, p: { id: string; deliveryId: string; attemptedAt: number; code: number | null; error: string | null; durationMs: number; owner: string }) =>
  db.insertInto('delivery_attempts').values({ id: p.id, delivery_id: p.deliveryId, attempted_at: p.attemptedAt, status_code: p.code, error: p.error, duration_ms: p.durationMs, owner: p.owner }),
);

const eventDelivered = precompile((db, p: { id: string }) =>
  db
    .updateTable('events')
    .set((eb) => ({ pending_webhooks: eb('pending_webhooks', '-', 1) }))
    .where('id', '=', p.id)
    .where('pending_webhooks', '>', 0),
);

const releaseLease = precompile((db, p: { id: string; owner: string }) =>
  db.updateTable('deliveries').set({ lease_until: null, lease_owner: null }).where('id', '=', p.id).where('lease_owner', '=', p.owner).where('status', '=', 'pending'),
);

/**
 * Records a batch of reports in one transaction (docs/webhooks.md "Delivery"). Only the lease
 * holder may: a report on a delivery another process has taken since (its lease expired) or
 * finished is dropped, so a crashed or late worker never overwrites it. Returns how many
 * attempts were recorded.
 */
export async function recordReports(store: Store, owner: string, reports: readonly DeliveryReport[]): Promise<number> {
  if (reports.length === 0) return 0;
  return store.transaction(async (trx) => (store.dialect === 'postgres' ? recordPostgres(trx, owner, reports) : recordSqlite(trx, owner, reports)));
}

/** SQLite: statements prepared once, each running synchronously on the held connection. */
async function recordSqlite(trx: Db, owner: string, reports: readonly DeliveryReport[]): Promise<number> {
  let recorded = 0;
  for (const r of reports) {
    if (r.kind === 'release') {
      await releaseLease.run(trx, { id: r.id, owner });
      continue;
    }
    const { result, outcome } = r;
    const changed = await finishDelivery.run(trx, {
      id: r.id,
      owner,
      status: outcome.kind === 'retry' ? 'pending' : outcome.kind,
      nextAttemptAt: outcome.kind === 'retry' ? outcome.at : r.attemptedAt,
      code: result.statusCode,
      error: result.error,
      durationMs: result.durationMs,
    });
    if (changed === 0) continue;
    recorded++;
    await insertAttempt.run(trx, { id: newAttemptId(), deliveryId: r.id, attemptedAt: r.attemptedAt, code: result.statusCode, error: result.error, durationMs: result.durationMs, owner });
    if (outcome.kind === 'succeeded') await eventDelivered.run(trx, { id: r.eventId });
  }
  return recorded;
}

/** PostgreSQL: one statement per kind of change for the whole batch (a round trip each). */
async function recordPostgres(trx: Db, owner: string, reports: readonly DeliveryReport[]): Promise<number> {
  const released = reports.filter((r) => r.kind === 'release').map((r) => r.id);
  if (released.length > 0) {
    await sql`update deliveries set lease_until = null, lease_owner = null
      where id = any(${released}::text[]) and lease_owner = ${owner} and status = 'pending'`.execute(trx);
  }
  const attempts = reports.filter((r): r is Extract<DeliveryReport, { kind: 'attempt' }> => r.kind === 'attempt');
  if (attempts.length === 0) return 0;
  const col = <T>(f: (r: (typeof attempts)[number]) => T) => attempts.map(f);
  const updated = await sql<{ id: string }>`update deliveries d set
      status = v.status, attempts = d.attempts + 1, next_attempt_at = v.next_attempt_at,
      lease_until = null, lease_owner = null,
      last_status_code = v.code, last_error = v.error, last_duration_ms = v.duration_ms
    from unnest(${col((r) => r.id)}::text[], ${col((r) => (r.outcome.kind === 'retry' ? 'pending' : r.outcome.kind))}::text[],
      ${col((r) => (r.outcome.kind === 'retry' ? r.outcome.at : r.attemptedAt))}::bigint[], ${col((r) => r.result.statusCode)}::int[],
      ${col((r) => r.result.error)}::text[], ${col((r) => r.result.durationMs)}::int[])
      as v(id, status, next_attempt_at, code, error, duration_ms)
    where d.id = v.id and d.lease_owner = ${owner} and d.status = 'pending'
    returning d.id`.execute(trx);
  const done = new Set(updated.rows.map((r) => r.id));
  const mine = attempts.filter((r) => done.has(r.id));
  if (mine.length === 0) return 0;
  await sql`insert into delivery_attempts (id, delivery_id, attempted_at, status_code, error, duration_ms, owner)
    select v.id, v.delivery_id, v.attempted_at, v.code, v.error, v.duration_ms, ${owner}
    from unnest(${mine.map(() => newAttemptId())}::text[], ${mine.map((r) => r.id)}::text[], ${mine.map((r) => r.attemptedAt)}::bigint[],
      ${mine.map((r) => r.result.statusCode)}::int[], ${mine.map((r) => r.result.error)}::text[], ${mine.map((r) => r.result.durationMs)}::int[])
      as v(id, delivery_id, attempted_at, code, error, duration_ms)`.execute(trx);
  // Sorted, and locked in that order: two processes decrementing the same events never deadlock.
  const delivered = mine.filter((r) => r.outcome.kind === 'succeeded').map((r) => r.eventId).sort();
  if (delivered.length > 0) {
    await sql`select id from events where id = any(${delivered}::text[]) order by id for no key update`.execute(trx);
    await sql`update events e set pending_webhooks = greatest(e.pending_webhooks - v.n, 0)
      from (select id, count(*)::int as n from unnest(${delivered}::text[]) as id group by id) v
      where e.id = v.id and e.pending_webhooks > 0`.execute(trx);
  }
  return mine.length;
}

function newAttemptId(): string {
  return `whatt_${sortableBase62(24)}`;
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

/** The latest `limit` deliveries of each endpoint, newest first, in one query (the dashboard's log). */
export async function listRecentDeliveries(db: Db, endpointIds: string[], limit = 50): Promise<Map<string, DeliveryLogRow[]>> {
  const byEndpoint = new Map<string, DeliveryLogRow[]>(endpointIds.map((id) => [id, []]));
  if (endpointIds.length === 0) return byEndpoint;
  const ranked = db
    .selectFrom('deliveries')
    .innerJoin('events', 'events.id', 'deliveries.event_id')
    .selectAll('deliveries')
    .select(['events.type as event_type', 'events.account_id as account_id'])
    .select(sql<number>`row_number() over (partition by deliveries.endpoint_id order by deliveries.created desc, deliveries.id)`.as('rank'))
    .where('deliveries.endpoint_id', 'in', endpointIds)
    .as('ranked');
  const rows = await db.selectFrom(ranked).selectAll().where('rank', '<=', limit).orderBy('created', 'desc').orderBy('id').execute();
  for (const row of rows) byEndpoint.get(row.endpoint_id)?.push(row);
  return byEndpoint;
}

/** A delivery's id if it exists and goes to one of the account's endpoints. */
export async function findOwnedDelivery(db: Db, accountId: string, deliveryId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('deliveries')
    .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'deliveries.endpoint_id')
    .select('deliveries.id')
    .where('deliveries.id', '=', deliveryId)
    .where('webhook_endpoints.account_id', '=', accountId)
    .executeTakeFirst();
  return row?.id;
}
