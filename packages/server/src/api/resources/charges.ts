// Charges and refunds with Stripe's test tokens (tok_visa, tok_mastercard succeed;
// tok_chargeDeclined is a 402 card_error card_declined); `capture=false` authorizes only, and
// POST /v1/charges/:id/capture captures (Stripe API reference "Charges").
import { z } from 'zod';
import { ApiError, noSuch } from '../../domain/errors.ts';
import { randomBase62, sortableBase62 } from '../../domain/ids.ts';
import { invalidCurrencyMessage, isStripeCurrency } from '../../domain/currencies.ts';
import type { Context } from '../../context.ts';
import { recordResponse } from '../../store/idempotency.ts';
import { findResource, insertResource, listResources, lockResource, updateResource, type Scope } from '../../store/resources.ts';
import { expandObject } from '../expand.ts';
import { listPage, listQuery } from '../list.ts';
import { expandable, id, integer, listParams, mergeMetadata, metadata, paramSchema, parseParams, text } from '../params.ts';
import type { ApiRoute } from '../route-table.ts';
import { loadCustomer, scopeOf, TEST_TOKENS, type Customer } from './customers.ts';

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

/** Checked against Stripe's list in the handler, for Stripe's own message (domain/currencies.ts). */
const currency = z.string().max(100);

function checkCurrency(code: string): string {
  if (isStripeCurrency(code)) return code.toLowerCase();
  throw new ApiError(400, invalidCurrencyMessage(code.replace(/[^\x20-\x7e]/g, '').slice(0, 20)), { param: 'currency' });
}

const expandCharge = expandable('charge');

/**
 * Locks a charge, applies `change` (which may refuse by throwing), stores the result and records
 * the answer for an Idempotency-Key, in one transaction.
 */
function changeCharge(ctx: Context, req: Parameters<ApiRoute['handler']>[1], expand: string[] | undefined, change: (c: Charge) => Charge): Promise<unknown> {
  const scope = scopeOf(req);
  return ctx.store.transaction(async (trx) => {
    const found = await lockResource<Charge>(trx, scope, 'charge', req.path.id ?? '');
    if (!found) throw noSuch('charge', req.path.id ?? '');
    const next = await updateResource(trx, change(found.object));
    const body = await expandObject(trx, scope, 'charge', next, expand);
    await recordResponse(trx, { body });
    return body;
  });
}
const expandRefund = expandable('refund');
const expandChargeList = expandable('list:charge');
const expandRefundList = expandable('list:refund');

// Each route's parameters, built once (api/params.ts paramSchema).
const createChargeParams = paramSchema({
  amount: integer({ min: 1, max: 99_999_999 }),
  currency,
  source: text(255).optional(),
  customer: id('cus_').optional(),
  description: text(1000).optional(),
  receipt_email: z.email().optional(),
  metadata: metadata.optional(),
  capture: z.enum(['true', 'false']).optional(),
  expand: expandCharge,
});
const retrieveChargeParams = paramSchema({ expand: expandCharge });
const updateChargeParams = paramSchema({ description: text(1000).optional(), metadata: metadata.optional(), receipt_email: z.email().optional(), expand: expandCharge });
const captureParams = paramSchema({ amount: integer({ min: 1, max: 99_999_999 }).optional(), receipt_email: z.email().optional(), expand: expandCharge });
const listChargesParams = paramSchema({ ...listParams, customer: id('cus_').optional(), expand: expandChargeList });
const createRefundParams = paramSchema({
  charge: id('ch_'),
  amount: integer({ min: 1, max: 99_999_999 }).optional(),
  reason: z.enum(['duplicate', 'fraudulent', 'requested_by_customer']).optional(),
  metadata: metadata.optional(),
  expand: expandRefund,
});
const retrieveRefundParams = paramSchema({ expand: expandRefund });
const listRefundsParams = paramSchema({ ...listParams, charge: id('ch_').optional(), expand: expandRefundList });

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
      const p = parseParams(createChargeParams, req.params);
      const chargeCurrency = checkCurrency(p.currency);
      const scope = scopeOf(req);
      const authorizeOnly = p.capture === 'false';
      const customer = p.customer ? await loadCustomer(ctx, scope, p.customer, 'customer') : null;
      const token = tokenOf(p.source, customer);
      if (!token) {
        throw new ApiError(400, customer ? 'Cannot charge a customer that has no active card' : 'Must provide source or customer.', { code: 'missing', param: customer ? 'customer' : 'source' });
      }
      const card = TEST_TOKENS[token];
      if (!card) throw noSuch('token', token, 'source');
      const charge: Charge = {
        id: `ch_${sortableBase62(24)}`,
        object: 'charge',
        amount: p.amount,
        // An uncaptured charge succeeded (the card is authorized) but moved no money yet.
        amount_captured: card.declined || authorizeOnly ? 0 : p.amount,
        amount_refunded: 0,
        balance_transaction: card.declined || authorizeOnly ? null : `txn_${randomBase62(24)}`,
        captured: !card.declined && !authorizeOnly,
        created: ctx.clock.now(),
        currency: chargeCurrency,
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
      // A declined charge is still recorded, as Stripe does, and the error names it; either answer
      // commits with the charge under an Idempotency-Key (docs/testing-platform-api.md).
      const declined = card.declined
        ? new ApiError(402, 'Your card was declined.', { type: 'card_error', code: 'card_declined', extra: { decline_code: 'generic_decline', charge: charge.id } })
        : null;
      const body = await ctx.store.transaction(async (trx) => {
        await insertResource(trx, scope, 'charge', charge, { customer: charge.customer });
        const expanded = await expandObject(trx, scope, 'charge', charge, p.expand);
        await recordResponse(trx, declined ? { error: declined } : { body: expanded });
        return expanded;
      });
      if (declined) throw declined;
      return body;
    },
  },
  {
    method: 'GET',
    path: '/v1/charges/:id',
    access: 'read',
    handler: async (ctx, req) => {
      const p = parseParams(retrieveChargeParams, req.params);
      const scope = scopeOf(req);
      return expandObject(ctx.store.db, scope, 'charge', await loadCharge(ctx, scope, req.path.id ?? ''), p.expand);
    },
  },
  {
    method: 'POST',
    path: '/v1/charges/:id',
    access: 'write',
    handler: async (ctx, req) => {
      const p = parseParams(updateChargeParams, req.params);
      return changeCharge(ctx, req, p.expand, (c) => ({
        ...c,
        ...(p.description !== undefined ? { description: p.description || null } : {}),
        ...(p.receipt_email !== undefined ? { receipt_email: p.receipt_email } : {}),
        metadata: mergeMetadata(c.metadata, p.metadata),
      }));
    },
  },
  {
    method: 'POST',
    path: '/v1/charges/:id/capture',
    access: 'write',
    handler: async (ctx, req) => {
      const p = parseParams(captureParams, req.params);
      return changeCharge(ctx, req, p.expand, (c) => {
        if (c.status !== 'succeeded') {
          throw new ApiError(400, `Charge ${c.id} has no successful authorization to capture.`, { param: 'charge' });
        }
        if (c.captured) throw new ApiError(400, `Charge ${c.id} has already been captured.`, { code: 'charge_already_captured' });
        if (c.refunded) throw new ApiError(400, `Charge ${c.id} has been refunded.`, { code: 'charge_already_refunded' });
        const amount = p.amount ?? c.amount - c.amount_refunded;
        if (amount > c.amount - c.amount_refunded) {
          throw new ApiError(400, `Capture amount (${amount}) is greater than the amount authorized on the charge (${c.amount - c.amount_refunded}).`, { code: 'amount_too_large', param: 'amount' });
        }
        // A partial capture releases the rest, which Stripe reports as refunded.
        return {
          ...c,
          captured: true,
          amount_captured: amount,
          amount_refunded: c.amount - amount,
          balance_transaction: `txn_${randomBase62(24)}`,
          ...(p.receipt_email !== undefined ? { receipt_email: p.receipt_email } : {}),
        };
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/charges',
    access: 'read',
    handler: async (ctx, req) => {
      const p = parseParams(listChargesParams, req.params);
      const q = listQuery(p);
      const scope = scopeOf(req);
      const result = await listResources<Charge>(ctx.store.db, scope, 'charge', {
        ...q,
        filter: p.customer !== undefined ? { customer: p.customer } : {},
      });
      return expandObject(ctx.store.db, scope, 'list:charge', listPage('/v1/charges', 'charge', q, result), p.expand);
    },
  },
  {
    method: 'POST',
    path: '/v1/refunds',
    access: 'write',
    handler: async (ctx, req) => {
      const p = parseParams(createRefundParams, req.params);
      const scope = scopeOf(req);
      // The charge's refunded amount and the refund commit together: concurrent refunds cannot
      // exceed the charge.
      return ctx.store.transaction(async (trx) => {
        const found = await lockResource<Charge>(trx, scope, 'charge', p.charge);
        if (!found) throw noSuch('charge', p.charge, 'charge');
        const charge = found.object;
        if (charge.status !== 'succeeded') {
          throw new ApiError(400, `Charge ${charge.id} has no successful payment to refund.`, { code: 'charge_not_refundable', param: 'charge' });
        }
        const remaining = charge.amount - charge.amount_refunded;
        const amount = p.amount ?? remaining;
        if (remaining <= 0) {
          throw new ApiError(400, `Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded', param: 'charge' });
        }
        if (amount > remaining) {
          throw new ApiError(400, `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, { code: 'amount_too_large', param: 'amount' });
        }
        const refund: Refund = {
          id: `re_${sortableBase62(24)}`,
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
        const body = await expandObject(trx, scope, 'refund', refund, p.expand);
        await recordResponse(trx, { body });
        return body;
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/refunds/:id',
    access: 'read',
    handler: async (ctx, req) => {
      const p = parseParams(retrieveRefundParams, req.params);
      const scope = scopeOf(req);
      const found = await findResource<Refund>(ctx.store.db, scope, 'refund', req.path.id ?? '');
      if (!found) throw noSuch('refund', req.path.id ?? '');
      return expandObject(ctx.store.db, scope, 'refund', found.object, p.expand);
    },
  },
  {
    method: 'GET',
    path: '/v1/refunds',
    access: 'read',
    handler: async (ctx, req) => {
      const p = parseParams(listRefundsParams, req.params);
      const q = listQuery(p);
      const scope = scopeOf(req);
      const result = await listResources<Refund>(ctx.store.db, scope, 'refund', {
        ...q,
        filter: p.charge !== undefined ? { charge: p.charge } : {},
      });
      return expandObject(ctx.store.db, scope, 'list:refund', listPage('/v1/refunds', 'refund', q, result), p.expand);
    },
  },
];
