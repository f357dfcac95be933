// /v1/webhook_endpoints (Stripe API reference "Webhook Endpoints"): the secret is returned once,
// at creation; `connect: true` endpoints receive the events of connected accounts.
import { z } from 'zod';
import { ApiError, noSuch } from '../../domain/errors.ts';
import type { Context } from '../../context.ts';
import type { WebhookEndpointsTable } from '../../store/schema.ts';
import { recordResponse } from '../../store/idempotency.ts';
import { findEndpoint, listEndpoints, lockEndpoint, updateEndpoint } from '../../store/webhook-endpoints.ts';
import { listObject, pageInMemory } from '../list.ts';
import { expand, expandOnly, integer, listOnly, mergeMetadata, metadata, noParams, paramSchema, parseParams, text } from '../params.ts';
import { DEFAULT_OVERLAP, rollEndpointSecret } from '../../webhooks/roll-secret.ts';
import { createEndpoint, isWebhookUrl, MAX_URL_LENGTH, refuseWebhookUrl } from '../../webhooks/endpoints.ts';
import type { ApiRoute } from '../route-table.ts';


const url = z.string().max(MAX_URL_LENGTH).refine(isWebhookUrl, 'must be an absolute http(s) URL');
const events = z.array(z.string().max(100)).min(1).max(50);
const createParams = paramSchema({ url, enabled_events: events, connect: z.enum(['true', 'false']).optional(), description: text(5000).optional(), metadata: metadata.optional(), api_version: z.string().optional(), expand });
const updateParams = paramSchema({ url: url.optional(), enabled_events: events.optional(), disabled: z.enum(['true', 'false']).optional(), description: text(5000).optional(), metadata: metadata.optional(), expand });
const rollSecretParams = paramSchema({ expires_in: integer({ min: 0, max: 7 * 24 * 3600 }).optional() });

export function endpointObject(e: WebhookEndpointsTable, secret?: string) {
  return {
    id: e.id,
    object: 'webhook_endpoint',
    api_version: null,
    application: null,
    created: e.created,
    description: e.description,
    enabled_events: JSON.parse(e.enabled_events) as string[],
    livemode: e.livemode === 1,
    metadata: {},
    ...(secret ? { secret } : {}),
    status: e.status,
    url: e.url,
    connect: e.connect === 1,
  };
}

/**
 * Any well-formed Stripe event type is accepted (platforms register many); connectd itself only
 * ever sends account.application.authorized, account.application.deauthorized and account.updated.
 */
function checkEvents(list: string[] | undefined): void {
  const bad = list?.find((t) => t !== '*' && !/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/.test(t));
  if (bad) throw new ApiError(400, `Invalid enabled_events: '${bad.slice(0, 100)}' is not an event type.`, { code: 'parameter_invalid_string', param: 'enabled_events' });
}

function checkUrl(ctx: Context, u: string, livemode: boolean): void {
  const refusal = refuseWebhookUrl(ctx, u, livemode);
  if (refusal?.reason === 'https_required') throw new ApiError(400, 'Live-mode webhook endpoints must use https.', { code: 'url_invalid', param: 'url' });
  if (refusal) throw new ApiError(400, `Invalid URL: ${refusal.detail}.`, { code: 'url_invalid', param: 'url' });
}

async function load(ctx: Context, accountId: string, livemode: boolean, endpointId: string) {
  const e = await findEndpoint(ctx.store.db, accountId, endpointId);
  if (!e || (e.livemode === 1) !== livemode) throw noSuch('webhook endpoint', endpointId);
  return e;
}

export const webhookEndpointRoutes: ApiRoute[] = [
  {
    method: 'POST',
    path: '/v1/webhook_endpoints',
    access: 'write',
    ownKeyOnly: true,
    handler: async (ctx, req) => {
      const p = parseParams(createParams, req.params);
      mergeMetadata({}, p.metadata);
      checkEvents(p.enabled_events);
      const livemode = req.caller.mode === 'live';
      checkUrl(ctx, p.url, livemode);
      // The Idempotency-Key's answer commits with the change (docs/testing-platform-api.md).
      return ctx.store.transaction(async (trx) => {
        const { endpoint, secret } = await createEndpoint(ctx, trx, {
          accountId: req.caller.accountId, url: p.url, livemode, connect: p.connect === 'true', enabledEvents: p.enabled_events, description: p.description ?? null,
        });
        const body = endpointObject(endpoint, secret);
        await recordResponse(trx, { body });
        return body;
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/webhook_endpoints/:id',
    access: 'read',
    ownKeyOnly: true,
    handler: async (ctx, req) => {
      parseParams(expandOnly, req.params);
      return endpointObject(await load(ctx, req.caller.accountId, req.caller.mode === 'live', req.path.id ?? ''));
    },
  },
  {
    method: 'POST',
    path: '/v1/webhook_endpoints/:id',
    access: 'write',
    ownKeyOnly: true,
    handler: async (ctx, req) => {
      const p = parseParams(updateParams, req.params);
      const livemode = req.caller.mode === 'live';
      const e = await load(ctx, req.caller.accountId, livemode, req.path.id ?? '');
      checkEvents(p.enabled_events);
      if (p.url) checkUrl(ctx, p.url, livemode);
      return ctx.store.transaction(async (trx) => {
        if (!(await lockEndpoint(trx, req.caller.accountId, e.id))) throw noSuch('webhook endpoint', e.id);
        await updateEndpoint(trx, e.id, {
          ...(p.url ? { url: p.url } : {}),
          ...(p.enabled_events ? { enabled_events: JSON.stringify(p.enabled_events) } : {}),
          ...(p.disabled ? { status: p.disabled === 'true' ? 'disabled' : 'enabled' } : {}),
          ...(p.description !== undefined ? { description: p.description || null } : {}),
        });
        const updated = await findEndpoint(trx, req.caller.accountId, e.id);
        if (!updated) throw noSuch('webhook endpoint', e.id);
        const body = endpointObject(updated);
        await recordResponse(trx, { body });
        return body;
      });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/webhook_endpoints/:id',
    access: 'write',
    ownKeyOnly: true,
    handler: async (ctx, req) => {
      parseParams(noParams, req.params);
      const e = await load(ctx, req.caller.accountId, req.caller.mode === 'live', req.path.id ?? '');
      await updateEndpoint(ctx.store.db, e.id, { status: 'deleted' });
      return { id: e.id, object: 'webhook_endpoint', deleted: true };
    },
  },
  {
    // Extension (not in Stripe's API): roll the secret; the old one signs too until expires_in.
    method: 'POST',
    path: '/v1/webhook_endpoints/:id/roll_secret',
    access: 'write',
    ownKeyOnly: true,
    handler: async (ctx, req) => {
      const p = parseParams(rollSecretParams, req.params);
      const e = await load(ctx, req.caller.accountId, req.caller.mode === 'live', req.path.id ?? '');
      let body: ReturnType<typeof endpointObject> | undefined;
      const secret = await rollEndpointSecret(ctx, req.caller.accountId, e.id, p.expires_in ?? DEFAULT_OVERLAP, async (trx, rolled) => {
        const updated = await findEndpoint(trx, req.caller.accountId, e.id);
        if (!updated) return;
        body = endpointObject(updated, rolled);
        await recordResponse(trx, { body });
      });
      if (!secret || !body) throw noSuch('webhook endpoint', e.id);
      return body;
    },
  },
  {
    method: 'GET',
    path: '/v1/webhook_endpoints',
    access: 'read',
    ownKeyOnly: true,
    handler: async (ctx, req) => {
      const p = parseParams(listOnly, req.params);
      const livemode = req.caller.mode === 'live';
      const all = (await listEndpoints(ctx.store.db, req.caller.accountId)).filter((e) => (e.livemode === 1) === livemode);
      const { page: pageRows, hasMore } = pageInMemory(all, (e) => e.id, p, 'webhook endpoint');
      return listObject('/v1/webhook_endpoints', pageRows.map((e) => endpointObject(e)), hasMore);
    },
  },
];
