// GET /v1/events and /v1/events/:id: the platform's own events (own key only), newest first.
import { z } from 'zod';
import { ApiError } from '../../domain/errors.ts';
import type { Db, EventsTable } from '../../store/schema.ts';
import { eventObject } from '../../webhooks/events.ts';
import { listObject } from '../list.ts';
import { expandOnly, id, integer, listParams, paramSchema, parseParams } from '../params.ts';
import type { ApiRoute } from '../route-table.ts';
import { noSuch } from './customers.ts';

const created = z.union([integer(), z.object({ gt: integer(), gte: integer(), lt: integer(), lte: integer() }).partial().strict()]).optional();
const listEventsParams = paramSchema({ ...listParams, type: z.string().max(200).optional(), created, types: z.array(z.string()).optional(), delivery_success: z.enum(['true', 'false']).optional() });

interface EventListParams {
  limit?: number | undefined;
  starting_after?: string | undefined;
  ending_before?: string | undefined;
  type?: string | undefined;
  types?: string[] | undefined;
  delivery_success?: 'true' | 'false' | undefined;
  created?: number | { gt?: number; gte?: number; lt?: number; lte?: number } | undefined;
}

/**
 * The platform's events; with Stripe-Account, only those about that connected account (the
 * `stripe.events.retrieve(id, {stripeAccount: event.account})` check platforms make).
 */
async function page(db: Db, platformId: string, account: string | null, livemode: boolean, p: EventListParams) {
  let q = db.selectFrom('events').selectAll().where('platform_id', '=', platformId).where('livemode', '=', livemode ? 1 : 0);
  if (account !== null) q = q.where('account_id', '=', account);
  if (p.type !== undefined) {
    // `type` may end in `.*` to match a family, as Stripe allows.
    q = p.type.endsWith('.*') ? q.where('type', 'like', `${p.type.slice(0, -1)}%`) : q.where('type', '=', p.type);
  }
  if (p.types !== undefined && p.types.length > 0) q = q.where('type', 'in', p.types);
  if (p.delivery_success !== undefined) q = q.where('pending_webhooks', p.delivery_success === 'true' ? '=' : '>', 0);
  const c = p.created;
  if (typeof c === 'number') q = q.where('created', '=', c);
  else if (c) {
    if (c.gt !== undefined) q = q.where('created', '>', c.gt);
    if (c.gte !== undefined) q = q.where('created', '>=', c.gte);
    if (c.lt !== undefined) q = q.where('created', '<', c.lt);
    if (c.lte !== undefined) q = q.where('created', '<=', c.lte);
  }
  if (p.starting_after !== undefined && p.ending_before !== undefined) {
    throw new ApiError(400, 'invalid_request_error', 'You may only specify one of these parameters: ending_before, starting_after.');
  }
  const cursorId = p.starting_after ?? p.ending_before;
  if (cursorId !== undefined) {
    const cursor = await db.selectFrom('events').select('seq').where('id', '=', cursorId).where('platform_id', '=', platformId).executeTakeFirst();
    if (!cursor) throw noSuch('event', cursorId, p.starting_after !== undefined ? 'starting_after' : 'ending_before');
    // Ties on seq (two processes in one microsecond) are broken by id, as in the order below.
    const after = p.starting_after !== undefined;
    q = q.where((eb) => eb.or([eb('seq', after ? '<' : '>', cursor.seq), eb.and([eb('seq', '=', cursor.seq), eb('id', after ? '<' : '>', cursorId)])]));
  }
  const limit = p.limit ?? 10;
  const dir = p.ending_before !== undefined ? 'asc' : 'desc';
  const rows: EventsTable[] = await q.orderBy('seq', dir).orderBy('id', dir).limit(limit + 1).execute();
  const data = rows.slice(0, limit);
  if (p.ending_before !== undefined) data.reverse();
  return listObject('/v1/events', data.map((r) => eventObject(r)), rows.length > limit);
}

export const eventRoutes: ApiRoute[] = [
  {
    method: 'GET',
    path: '/v1/events',
    access: 'read',
    ownKeyOnly: true,
    onBehalf: true,
    handler: async (ctx, req) => {
      const p = parseParams(listEventsParams, req.params);
      const onBehalf = req.caller.accountId !== req.caller.keyAccountId ? req.caller.accountId : null;
      return page(ctx.store.db, req.caller.keyAccountId, onBehalf, req.caller.mode === 'live', p);
    },
  },
  {
    method: 'GET',
    path: '/v1/events/:id',
    access: 'read',
    ownKeyOnly: true,
    onBehalf: true,
    handler: async (ctx, req) => {
      parseParams(expandOnly, req.params);
      const eventId = id('evt_').safeParse(req.path.id);
      let q = ctx.store.db
        .selectFrom('events')
        .selectAll()
        .where('id', '=', eventId.success ? eventId.data : '')
        .where('platform_id', '=', req.caller.keyAccountId)
        .where('livemode', '=', req.caller.mode === 'live' ? 1 : 0);
      if (req.caller.accountId !== req.caller.keyAccountId) q = q.where('account_id', '=', req.caller.accountId);
      const row = eventId.success ? await q.executeTakeFirst() : undefined;
      if (!row) throw noSuch('event', req.path.id ?? '');
      return eventObject(row);
    },
  },
];
