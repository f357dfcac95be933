// GET /v1/events and /v1/events/:id: the platform's own events (own key only), newest first.
import { z } from 'zod';
import { noSuch } from '../../domain/errors.ts';
import { findPlatformEvent, listEvents } from '../../store/events.ts';
import type { Db } from '../../store/schema.ts';
import { eventObject } from '../../webhooks/events.ts';
import { listPage, listQuery } from '../list.ts';
import { expandOnly, id, integer, listParams, paramSchema, parseParams } from '../params.ts';
import type { ApiRoute } from '../route-table.ts';

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
  const q = listQuery(p);
  const rows = await listEvents(
    db,
    {
      platformId,
      livemode,
      accountId: account,
      type: p.type,
      types: p.types,
      deliverySuccess: p.delivery_success === undefined ? undefined : p.delivery_success === 'true',
      created: p.created,
    },
    q,
  );
  return listPage('/v1/events', 'event', q, rows, (r) => eventObject(r));
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
      const onBehalf = req.caller.accountId !== req.caller.keyAccountId ? { accountId: req.caller.accountId } : {};
      const row = eventId.success ? await findPlatformEvent(ctx.store.db, req.caller.keyAccountId, eventId.data, { livemode: req.caller.mode === 'live', ...onBehalf }) : undefined;
      if (!row) throw noSuch('event', req.path.id ?? '');
      return eventObject(row);
    },
  },
];
