// Creates account.application.* and account.updated events inside the caller's transaction, with one queued delivery
// per matching Connect endpoint (transactional outbox, docs/contract.md Part A "Events"). The delivery
// worker reads only this queue.
import { newEventId } from '../domain/ids.ts';
import type { Context } from '../context.ts';
import { insertDeliveries } from '../store/deliveries.ts';
import { afterCommit } from '../store/dialect.ts';
import { insertEvent, nextSeq } from '../store/events.ts';
import type { Platform } from '../store/platforms.ts';
import type { AccountsTable, Db, EventsTable } from '../store/schema.ts';
import { accountObject } from '../domain/account-object.ts';
import { previousAttributes } from '../domain/onboarding.ts';
import { listConnectionsOfAccount } from '../store/connections.ts';
import { endpointsFor } from '../store/webhook-endpoints.ts';

export type ApplicationEventType = 'account.application.authorized' | 'account.application.deauthorized';
export type ConnectEventType = ApplicationEventType | 'account.updated';

export interface EventOrigin {
  requestId: string | null;
  idempotencyKey: string | null;
}

/** Stripe's event object (docs/contract.md Part B §4.2), field order as Stripe renders it. */
export function eventObject(row: EventsTable, pendingWebhooks = row.pending_webhooks) {
  return {
    id: row.id,
    object: 'event',
    account: row.account_id,
    api_version: row.api_version,
    created: row.created,
    data: JSON.parse(row.data) as { object: unknown },
    livemode: row.livemode === 1,
    pending_webhooks: pendingWebhooks,
    request: { id: row.request_id, idempotency_key: row.idempotency_key },
    type: row.type,
  };
}

export async function emitApplicationEvent(
  trx: Db,
  ctx: Context,
  input: { type: ApplicationEventType; platform: Platform; accountId: string; livemode: boolean; origin: EventOrigin },
): Promise<string> {
  // The application object is keyed by the client_id of the event's mode (docs/contract.md Part B §4.2).
  const application = {
    id: input.livemode ? input.platform.client_id_live : input.platform.client_id_test,
    object: 'application',
    name: input.platform.name,
  };
  return emitConnectEvent(trx, ctx, { type: input.type, platformId: input.platform.account_id, accountId: input.accountId, livemode: input.livemode, data: { object: application }, origin: input.origin });
}

/** One event on a connected account for one platform, with a queued delivery per matching Connect endpoint. */
export async function emitConnectEvent(
  trx: Db,
  ctx: Context,
  input: { type: ConnectEventType; platformId: string; accountId: string; livemode: boolean; data: { object: unknown; previous_attributes?: unknown }; origin: EventOrigin },
): Promise<string> {
  const endpoints = await endpointsFor(trx, input.platformId, input.type, input.livemode);
  const row: EventsTable = {
    id: newEventId(),
    platform_id: input.platformId,
    account_id: input.accountId,
    type: input.type,
    livemode: input.livemode ? 1 : 0,
    api_version: ctx.config.apiVersion,
    data: JSON.stringify(input.data),
    request_id: input.origin.requestId,
    idempotency_key: input.origin.idempotencyKey,
    pending_webhooks: endpoints.length,
    created: ctx.clock.now(),
    seq: nextSeq(),
    body: null,
  };
  // Rendered once: every attempt to every endpoint sends the same bytes.
  row.body = JSON.stringify(eventObject(row));
  await insertEvent(trx, row);
  await insertDeliveries(trx, row.id, endpoints.map((e) => e.id), row.created);
  // The worker of this process claims them as soon as they are visible, not at its next poll.
  if (endpoints.length > 0) afterCommit(trx, () => ctx.deliveryNotifier.notify());
  return row.id;
}

/**
 * account.updated for a change of an account (docs/contract.md Part B §8.4): one event per platform
 * connected to it, in the connection's mode, with the account as that platform sees it and
 * `previous_attributes` of what changed. Nothing changed that the platform sees: no event.
 */
export async function emitAccountUpdated(trx: Db, ctx: Context, input: { before: AccountsTable; after: AccountsTable; origin: EventOrigin }): Promise<number> {
  let emitted = 0;
  for (const c of await listConnectionsOfAccount(trx, input.after.id)) {
    const view = { controller: c.platform_id === input.after.created_by };
    const object = accountObject(input.after, view);
    const previous = previousAttributes(accountObject(input.before, view), object);
    if (Object.keys(previous).length === 0) continue;
    await emitConnectEvent(trx, ctx, { type: 'account.updated', platformId: c.platform_id, accountId: input.after.id, livemode: c.livemode === 1, data: { object, previous_attributes: previous }, origin: input.origin });
    emitted++;
  }
  return emitted;
}
