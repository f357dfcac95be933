// Events: written in the same transaction as the state change (transactional outbox).
import type { Db, EventsTable } from './schema.ts';

let lastSeq = 0;
/** Monotonic per process, time-ordered across processes: microseconds since the epoch. */
export function nextSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
}

export function insertEvent(db: Db, row: EventsTable): Promise<unknown> {
  return db.insertInto('events').values(row).execute();
}
