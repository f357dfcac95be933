// Events: written in the same transaction as the state change (transactional outbox).
import { keysetPage, type Page, type PageRequest } from './paging.ts';
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

/** One of a platform's events, optionally only in one mode and about one connected account. */
export function findPlatformEvent(db: Db, platformId: string, eventId: string, only: { livemode?: boolean; accountId?: string } = {}): Promise<EventsTable | undefined> {
  let q = db.selectFrom('events').selectAll().where('id', '=', eventId).where('platform_id', '=', platformId);
  if (only.livemode !== undefined) q = q.where('livemode', '=', only.livemode ? 1 : 0);
  if (only.accountId !== undefined) q = q.where('account_id', '=', only.accountId);
  return q.executeTakeFirst();
}

export interface EventFilter {
  platformId: string;
  livemode: boolean;
  /** Only events about this connected account. */
  accountId: string | null;
  /** A type, or a family ending in `.*`. */
  type?: string | undefined;
  types?: string[] | undefined;
  /** true: every delivery succeeded (pending_webhooks = 0); false: some still pending. */
  deliverySuccess?: boolean | undefined;
  created?: number | { gt?: number | undefined; gte?: number | undefined; lt?: number | undefined; lte?: number | undefined } | undefined;
}

/** A page of a platform's events, newest first; the cursor must be one of the platform's events. */
export async function listEvents(db: Db, f: EventFilter, page: PageRequest): Promise<Page<EventsTable>> {
  let q = db.selectFrom('events').selectAll().where('platform_id', '=', f.platformId).where('livemode', '=', f.livemode ? 1 : 0);
  if (f.accountId !== null) q = q.where('account_id', '=', f.accountId);
  if (f.type !== undefined) q = f.type.endsWith('.*') ? q.where('type', 'like', `${f.type.slice(0, -1)}%`) : q.where('type', '=', f.type);
  if (f.types !== undefined && f.types.length > 0) q = q.where('type', 'in', f.types);
  if (f.deliverySuccess !== undefined) q = q.where('pending_webhooks', f.deliverySuccess ? '=' : '>', 0);
  const c = f.created;
  if (typeof c === 'number') q = q.where('created', '=', c);
  else if (c) {
    if (c.gt !== undefined) q = q.where('created', '>', c.gt);
    if (c.gte !== undefined) q = q.where('created', '>=', c.gte);
    if (c.lt !== undefined) q = q.where('created', '<', c.lt);
    if (c.lte !== undefined) q = q.where('created', '<=', c.lte);
  }
  let cursorSeq: number | undefined;
  if (page.cursor) {
    const row = await findPlatformEvent(db, f.platformId, page.cursor.id);
    if (!row) return { missingCursor: true };
    cursorSeq = row.seq;
  }
  const { rows, hasMore } = await keysetPage(q, page, cursorSeq);
  return { data: rows, hasMore };
}
