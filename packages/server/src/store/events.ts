// Events: written in the same transaction as the state change (transactional outbox).
import { precompile } from './prepared.ts';
import type { Db, EventsTable } from './schema.ts';

let lastSeq = 0;
/** Monotonic per process, time-ordered across processes: microseconds since the epoch. */
export function nextSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
}

const eventInsert = precompile((db: Db, p: EventsTable) =>
  db.insertInto('events').values({
    id: p.id,
    platform_id: p.platform_id,
    account_id: p.account_id,
    type: p.type,
    livemode: p.livemode,
    api_version: p.api_version,
    data: p.data,
    request_id: p.request_id,
    idempotency_key: p.idempotency_key,
    pending_webhooks: p.pending_webhooks,
    created: p.created,
    seq: p.seq,
    body: p.body,
  }),
);

export function insertEvent(db: Db, row: EventsTable): Promise<unknown> {
  return eventInsert.run(db, row);
}
