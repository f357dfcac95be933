// Charges and refunds with Stripe's test tokens (tok_visa, tok_mastercard succeed;
// tok_chargeDeclined is a 402 card_error card_declined).
import { z } from 'zod';
import { ApiError } from '../../domain/errors.ts';
import { randomBase62 } from '../../domain/ids.ts';
import type { Context } from '../../context.ts';
import { findResource, insertResource, listResources, lockResource, updateResource, type Scope } from '../../store/resources.ts';
import { listObject, listQuery, missingCursor } from '../list.ts';
import { expand, id, integer, listParams, mergeMetadata, metadata, parseParams, text } from '../params.ts';
import type { ApiRoute } from '../route-table.ts';
import { loadCustomer, noSuch, scopeOf, TEST_TOKENS, type Customer } from './customers.ts';

export interface Charge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  balance_transaction: string | null;
  captured: boolean;
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  failure_code: string | null;
  failure_message: string | null;
  livemode: boolean;
  metadata: Record<string, string>;
  outcome: { network_status: string; reason: string | null; risk_level: string; seller_message: string; type: string };
  paid: boolean;
  payment_method_details: { card: { brand: string; last4: string; exp_month: number; exp_year: number }; type: 'card' };
  receipt_email: string | null;
  refunded: boolean;
  status: 'succeeded' | 'failed';
}

export interface Refund {
  id: string;
  object: 'refund';
  amount: number;
  charge: string;
  created: number;
  currency: string;
  metadata: Record<string, string>;
  reason: string | null;
  status: 'succeeded';
}

const currency = z.string().regex(/^[a-zA-Z]{3}$/, 'must be a three-letter ISO currency code').transform((c) => c.toLowerCase());

async function loadCharge(ctx: Context, scope: Scope, chargeId: string, param = 'id') {
  const found = await findResource<Charge>(ctx.store.db, scope, 'charge', chargeId);
  if (!found) throw noSuch('charge', chargeId, param);
  return found.object;
}

function tokenOf(source: string | undefined, customer: Customer | null): string | null {
  if (source !== undefined) return source;
  const def = customer?.default_source;
  return def ? (/_(tok_[A-Za-z]+)$/.exec(def)?.[1] ?? null) : null;
}

export const chargeRoutes: ApiRoute[] = [
  {
    method: 'POST',
    path: '/v1/charges',
    access: 'write',
    handler: async (ctx, req) => {
      const p = parseParams(
        {
          amount: integer({ min: 1, max: 99_999_999 }),
          currency,
          source: text(255).optional(),
          customer: id('cus_').optional(),
          description: text(1000).optional(),
          receipt_email: z.email().optional(),
          metadata: metadata.optional(),
          capture: z.enum(['true', 'false']).optional(),
          expand,
        },
        req.params,
      );
      const scope = scopeOf(req);
      const customer = p.customer ? await loadCustomer(ctx, scope, p.customer, 'customer') : null;
      const token = tokenOf(p.source, customer);
      if (!token) {
        throw new ApiError(400, 'invalid_request_error', customer ? 'Cannot charge a customer that has no active card' : 'Must provide source or customer.', 'missing', customer ? 'customer' : 'source');
      }
      const card = TEST_TOKENS[token];
      if (!card) throw noSuch('token', token, 'source');
      const charge: Charge = {
        id: `ch_${randomBase62(24)}`,
        object: 'charge',
        amount: p.amount,
        amount_captured: card.declined ? 0 : p.amount,
        amount_refunded: 0,
        balance_transaction: card.declined ? null : `txn_${randomBase62(24)}`,
        captured: !card.declined,
        created: ctx.clock.now(),
        currency: p.currency,
        customer: customer?.id ?? null,
        description: p.description ?? null,
        failure_code: card.declined ? 'card_declined' : null,
        failure_message: card.declined ? 'Your card was declined.' : null,
        livemode: req.caller.mode === 'live',
        metadata: mergeMetadata({}, p.metadata),
        outcome: card.declined
          ? { network_status: 'declined_by_network', reason: 'generic_decline', risk_level: 'normal', seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' }
          : { network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' },
        paid: !card.declined,
        payment_method_details: { card: { brand: card.brand, last4: card.last4, exp_month: 12, exp_year: 2034 }, type: 'card' },
        receipt_email: p.receipt_email ?? null,
        refunded: false,
        status: card.declined ? 'failed' : 'succeeded',
      };
      // A declined charge is still recorded, as Stripe does, and the error names it.
      await insertResource(ctx.store.db, scope, 'charge', charge, { customer: charge.customer });
      if (card.declined) {
        throw new ApiError(402, 'card_error', 'Your card was declined.', 'card_declined', undefined, {}, { decline_code: 'generic_decline', charge: charge.id });
      }
      return charge;
    },
  },
  {
    method: 'GET',
    path: '/v1/charges/:id',
    access: 'read',
    handler: async (ctx, req) => {
      parseParams({ expand }, req.params);
      return loadCharge(ctx, scopeOf(req), req.path.id ?? '');
    },
  },
  {
    method: 'POST',
    path: '/v1/charges/:id',
    access: 'write',
    handler: async (ctx, req) => {
      const p = parseParams({ description: text(1000).optional(), metadata: metadata.optional(), receipt_email: z.email().optional(), expand }, req.params);
      return ctx.store.transaction(async (trx) => {
        const found = await lockResource<Charge>(trx, scopeOf(req), 'charge', req.path.id ?? '');
        if (!found) throw noSuch('charge', req.path.id ?? '');
        const c = found.object;
        return updateResource(trx, {
          ...c,
          ...(p.description !== undefined ? { description: p.description || null } : {}),
          ...(p.receipt_email !== undefined ? { receipt_email: p.receipt_email } : {}),
          metadata: mergeMetadata(c.metadata, p.metadata),
        });
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/charges',
    access: 'read',
    handler: async (ctx, req) => {
      const p = parseParams({ ...listParams, customer: id('cus_').optional() }, req.params);
      const q = listQuery(p);
      const result = await listResources<Charge>(ctx.store.db, scopeOf(req), 'charge', {
        ...q,
        filter: p.customer !== undefined ? { customer: p.customer } : {},
      });
      if ('missingCursor' in result) throw missingCursor('charge', q);
      return listObject('/v1/charges', result.data, result.hasMore);
    },
  },
  {
    method: 'POST',
    path: '/v1/refunds',
    access: 'write',
    handler: async (ctx, req) => {
      const p = parseParams(
        {
          charge: id('ch_'),
          amount: integer({ min: 1, max: 99_999_999 }).optional(),
          reason: z.enum(['duplicate', 'fraudulent', 'requested_by_customer']).optional(),
          metadata: metadata.optional(),
          expand,
        },
        req.params,
      );
      const scope = scopeOf(req);
      // The charge's refunded amount and the refund commit together: concurrent refunds cannot
      // exceed the charge.
      return ctx.store.transaction(async (trx) => {
        const found = await lockResource<Charge>(trx, scope, 'charge', p.charge);
        if (!found) throw noSuch('charge', p.charge, 'charge');
        const charge = found.object;
        if (charge.status !== 'succeeded') {
          throw new ApiError(400, 'invalid_request_error', `Charge ${charge.id} has no successful payment to refund.`, 'charge_not_refundable', 'charge');
        }
        const remaining = charge.amount - charge.amount_refunded;
        const amount = p.amount ?? remaining;
        if (remaining <= 0) {
          throw new ApiError(400, 'invalid_request_error', `Charge ${charge.id} has already been refunded.`, 'charge_already_refunded', 'charge');
        }
        if (amount > remaining) {
          throw new ApiError(400, 'invalid_request_error', `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, 'amount_too_large', 'amount');
        }
        const refund: Refund = {
          id: `re_${randomBase62(24)}`,
          object: 'refund',
          amount,
          charge: charge.id,
          created: ctx.clock.now(),
          currency: charge.currency,
          metadata: mergeMetadata({}, p.metadata),
          reason: p.reason ?? null,
          status: 'succeeded',
        };
        await insertResource(trx, scope, 'refund', refund, { charge: charge.id });
        const refunded = charge.amount_refunded + amount;
        await updateResource(trx, { ...charge, amount_refunded: refunded, refunded: refunded === charge.amount });
        return refund;
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/refunds/:id',
    access: 'read',
    handler: async (ctx, req) => {
      parseParams({ expand }, req.params);
      const found = await findResource<Refund>(ctx.store.db, scopeOf(req), 'refund', req.path.id ?? '');
      if (!found) throw noSuch('refund', req.path.id ?? '');
      return found.object;
    },
  },
  {
    method: 'GET',
    path: '/v1/refunds',
    access: 'read',
    handler: async (ctx, req) => {
      const p = parseParams({ ...listParams, charge: id('ch_').optional() }, req.params);
      const q = listQuery(p);
      const result = await listResources<Refund>(ctx.store.db, scopeOf(req), 'refund', {
        ...q,
        filter: p.charge !== undefined ? { charge: p.charge } : {},
      });
      if ('missingCursor' in result) throw missingCursor('refund', q);
      return listObject('/v1/refunds', result.data, result.hasMore);
    },
  },
];
