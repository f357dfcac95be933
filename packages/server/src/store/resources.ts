// /v1 resources of an account and mode, with Stripe-style cursor pagination (newest first).
import { keysetPage, type Page, type PageRequest } from './paging.ts';
import { nextSeq } from './events.ts';
import { precompile } from './prepared.ts';
import type { Db, ResourcesTable } from './schema.ts';

export type ResourceType = ResourcesTable['type'];

export interface Scope {
  accountId: string;
  livemode: boolean;
}

export interface ResourceRow<T> {
  row: ResourcesTable;
  object: T;
}

const resourceInsert = precompile((db: Db, p: ResourcesTable) =>
  db.insertInto('resources').values({
    id: p.id,
    account_id: p.account_id,
    livemode: p.livemode,
    type: p.type,
    seq: p.seq,
    created: p.created,
    email: p.email,
    customer: p.customer,
    charge: p.charge,
    deleted: p.deleted,
    data: p.data,
  }),
);

export async function insertResource<T extends { id: string; created: number }>(
  db: Db,
  scope: Scope,
  type: ResourceType,
  object: T,
  index: { email?: string | null; customer?: string | null; charge?: string | null } = {},
): Promise<T> {
  await resourceInsert.run(db, {
    id: object.id,
    account_id: scope.accountId,
    livemode: scope.livemode ? 1 : 0,
    type,
    seq: nextSeq(),
    created: object.created,
    email: index.email ?? null,
    customer: index.customer ?? null,
    charge: index.charge ?? null,
    deleted: 0,
    data: JSON.stringify(object),
  });
  return object;
}

type ResourceKey = { id: string; accountId: string; livemode: number; type: ResourceType };

/** One resource by id, within its account, mode and type; deleted ones included. */
const selectResource = (db: Db, p: ResourceKey) =>
  db
    .selectFrom('resources')
    .selectAll()
    .where('id', '=', p.id)
    .where('account_id', '=', p.accountId)
    .where('livemode', '=', p.livemode)
    .where('type', '=', p.type);

const resourceFind = precompile((db: Db, p: ResourceKey) => selectResource(db, p).where('deleted', '=', 0));

const resourceFindWithDeleted = precompile(selectResource);

/** A resource visible to this account in this mode; another account's id is simply not found. */
export async function findResource<T>(
  db: Db,
  scope: Scope,
  type: ResourceType,
  id: string,
  opts: { includeDeleted?: boolean } = {},
): Promise<ResourceRow<T> | undefined> {
  const key = { id, accountId: scope.accountId, livemode: scope.livemode ? 1 : 0, type };
  const row = await (opts.includeDeleted ? resourceFindWithDeleted : resourceFind).first(db, key);
  return row && { row, object: JSON.parse(row.data) as T };
}

/**
 * Reads a resource under a row lock (PostgreSQL READ COMMITTED would otherwise let concurrent
 * read-modify-writes lose updates or over-refund); a no-op UPDATE, so SQLite needs no special SQL.
 */
export async function lockResource<T>(db: Db, scope: Scope, type: ResourceType, id: string): Promise<ResourceRow<T> | undefined> {
  const row = await db
    .updateTable('resources')
    .set((eb) => ({ deleted: eb.ref('deleted') }))
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode ? 1 : 0)
    .where('type', '=', type)
    .where('deleted', '=', 0)
    .returningAll()
    .executeTakeFirst();
  return row && { row, object: JSON.parse(row.data) as T };
}

export async function updateResource<T extends { id: string }>(
  db: Db,
  object: T,
  index: { email?: string | null; deleted?: boolean } = {},
): Promise<T> {
  await db
    .updateTable('resources')
    .set({
      data: JSON.stringify(object),
      ...(index.email !== undefined ? { email: index.email } : {}),
      ...(index.deleted ? { deleted: 1 } : {}),
    })
    .where('id', '=', object.id)
    .execute();
  return object;
}

export interface ListQuery extends PageRequest {
  filter?: { email?: string; customer?: string; charge?: string; createdGte?: number; createdLte?: number };
}

/** Returns up to `limit` objects newest first, and whether more exist past them. */
export async function listResources<T>(db: Db, scope: Scope, type: ResourceType, q: ListQuery): Promise<Page<T>> {
  let query = db
    .selectFrom('resources')
    .select(['data', 'seq'])
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode ? 1 : 0)
    .where('type', '=', type)
    .where('deleted', '=', 0);
  const f = q.filter ?? {};
  // Exact match: Stripe's customer email filter is case-sensitive.
  if (f.email !== undefined) query = query.where('email', '=', f.email);
  if (f.customer !== undefined) query = query.where('customer', '=', f.customer);
  if (f.charge !== undefined) query = query.where('charge', '=', f.charge);
  if (f.createdGte !== undefined) query = query.where('created', '>=', f.createdGte);
  if (f.createdLte !== undefined) query = query.where('created', '<=', f.createdLte);

  let cursorSeq: number | undefined;
  if (q.cursor) {
    const row = await db
      .selectFrom('resources')
      .select('seq')
      .where('id', '=', q.cursor.id)
      .where('account_id', '=', scope.accountId)
      .where('livemode', '=', scope.livemode ? 1 : 0)
      .where('type', '=', type)
      .executeTakeFirst();
    if (!row) return { missingCursor: true };
    cursorSeq = row.seq;
  }
  const { rows, hasMore } = await keysetPage(query, q, cursorSeq);
  return { data: rows.map((r) => JSON.parse(r.data) as T), hasMore };
}
