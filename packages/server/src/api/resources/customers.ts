// Customers (Stripe API reference "Customers"): create, retrieve, update, delete, list by email.
import { z } from 'zod';
import { noSuch } from '../../domain/errors.ts';
import { randomBase62 } from '../../domain/ids.ts';
import type { Context } from '../../context.ts';
import { recordResponse } from '../../store/idempotency.ts';
import { findResource, insertResource, listResources, lockResource, updateResource, type Scope } from '../../store/resources.ts';
import { listPage, listQuery } from '../list.ts';
import { expand, expandOnly, listParams, mergeMetadata, metadata, noParams, paramSchema, parseParams, text } from '../params.ts';
import type { ApiRequest, ApiRoute } from '../route-table.ts';

export interface Customer {
  id: string;
  object: 'customer';
  address: null;
  balance: number;
  created: number;
  currency: string | null;
  default_source: string | null;
  delinquent: boolean;
  description: string | null;
  email: string | null;
  invoice_prefix: string;
  livemode: boolean;
  metadata: Record<string, string>;
  name: string | null;
  phone: string | null;
  preferred_locales: string[];
  shipping: null;
  tax_exempt: 'none';
}

const fields = paramSchema({
  email: z.union([z.literal(''), z.email().max(512)]).optional(),
  name: text(256).optional(),
  description: text(350).optional(),
  phone: text(20).optional(),
  metadata: metadata.optional(),
  source: text(255).optional(),
  expand,
});
const listCustomersParams = paramSchema({ ...listParams, email: z.string().max(512).optional() });

/** Stripe's test card tokens (Stripe testing docs): the brand, and whether charges succeed. */
export const TEST_TOKENS: Record<string, { brand: string; last4: string; declined: boolean }> = {
  tok_visa: { brand: 'visa', last4: '4242', declined: false },
  tok_mastercard: { brand: 'mastercard', last4: '4444', declined: false },
  tok_amex: { brand: 'amex', last4: '8431', declined: false },
  tok_chargeDeclined: { brand: 'visa', last4: '0002', declined: true },
};

function attachSource(token: string): string {
  if (!TEST_TOKENS[token]) throw noSuch('token', token, 'source');
  return `card_${randomBase62(24)}_${token}`;
}

export const scopeOf = (req: ApiRequest): Scope => ({ accountId: req.caller.accountId, livemode: req.caller.mode === 'live' });
const orNull = (v: string | undefined) => (v === undefined || v === '' ? null : v);


export async function loadCustomer(ctx: Context, scope: Scope, id: string, param = 'id') {
  const found = await findResource<Customer>(ctx.store.db, scope, 'customer', id);
  if (!found) throw noSuch('customer', id, param);
  return found.object;
}

export const customerRoutes: ApiRoute[] = [
  {
    method: 'POST',
    path: '/v1/customers',
    access: 'write',
    handler: async (ctx, req) => {
      const p = parseParams(fields, req.params);
      const customer: Customer = {
        id: `cus_${randomBase62(14)}`,
        object: 'customer',
        address: null,
        balance: 0,
        created: ctx.clock.now(),
        currency: null,
        default_source: p.source !== undefined ? attachSource(p.source) : null,
        delinquent: false,
        description: orNull(p.description),
        // Stored as given: Stripe keeps the case, and its email filter is case-sensitive.
        email: orNull(p.email),
        invoice_prefix: randomBase62(8).toUpperCase(),
        livemode: req.caller.mode === 'live',
        metadata: mergeMetadata({}, p.metadata),
        name: orNull(p.name),
        phone: orNull(p.phone),
        preferred_locales: [],
        shipping: null,
        tax_exempt: 'none',
      };
      // The Idempotency-Key's answer commits with the change (docs/testing-platform-api.md).
      return ctx.store.transaction(async (trx) => {
        await insertResource(trx, scopeOf(req), 'customer', customer, { email: customer.email });
        await recordResponse(trx, { body: customer });
        return customer;
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/customers/:id',
    access: 'read',
    handler: async (ctx, req) => {
      parseParams(expandOnly, req.params);
      const id = req.path.id ?? '';
      // A deleted customer is still retrievable, as Stripe's DeletedCustomer (id, object, deleted).
      const found = await findResource<Customer>(ctx.store.db, scopeOf(req), 'customer', id, { includeDeleted: true });
      if (!found) throw noSuch('customer', id);
      return found.row.deleted ? { id: found.object.id, object: 'customer', deleted: true } : found.object;
    },
  },
  {
    method: 'POST',
    path: '/v1/customers/:id',
    access: 'write',
    handler: async (ctx, req) => {
      const p = parseParams(fields, req.params);
      return ctx.store.transaction(async (trx) => {
        const found = await lockResource<Customer>(trx, scopeOf(req), 'customer', req.path.id ?? '');
        if (!found) throw noSuch('customer', req.path.id ?? '');
        const c = found.object;
        const next: Customer = {
          ...c,
          ...(p.email !== undefined ? { email: orNull(p.email) } : {}),
          ...(p.name !== undefined ? { name: orNull(p.name) } : {}),
          ...(p.description !== undefined ? { description: orNull(p.description) } : {}),
          ...(p.phone !== undefined ? { phone: orNull(p.phone) } : {}),
          metadata: mergeMetadata(c.metadata, p.metadata),
        };
        await updateResource(trx, next, { email: next.email });
        await recordResponse(trx, { body: next });
        return next;
      });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/customers/:id',
    access: 'write',
    handler: async (ctx, req) => {
      parseParams(noParams, req.params);
      return ctx.store.transaction(async (trx) => {
        const found = await lockResource<Customer>(trx, scopeOf(req), 'customer', req.path.id ?? '');
        if (!found) throw noSuch('customer', req.path.id ?? '');
        await updateResource(trx, found.object, { deleted: true });
        return { id: found.object.id, object: 'customer', deleted: true };
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/customers',
    access: 'read',
    handler: async (ctx, req) => {
      const p = parseParams(listCustomersParams, req.params);
      const q = listQuery(p);
      const result = await listResources<Customer>(ctx.store.db, scopeOf(req), 'customer', {
        ...q,
        filter: p.email !== undefined ? { email: p.email } : {},
      });
      return listPage('/v1/customers', 'customer', q, result);
    },
  },
];
