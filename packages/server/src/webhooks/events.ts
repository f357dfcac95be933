// Creates account.application.* events inside the caller's transaction (transactional outbox,
// contract Part A "Events"). Delivery reads only the events table.
import { newEventId } from '../domain/ids.ts';
import type { Context } from '../context.ts';
import type { Db } from '../store/schema.ts';
import { insertEvent, nextSeq } from '../store/events.ts';
import type { Platform } from '../store/platforms.ts';

export type ApplicationEventType = 'account.application.authorized' | 'account.application.deauthorized';

export interface EventOrigin {
  requestId: string | null;
  idempotencyKey: string | null;
}

export async function emitApplicationEvent(
  trx: Db,
  ctx: Context,
  input: { type: ApplicationEventType; platform: Platform; accountId: string; livemode: boolean; origin: EventOrigin },
): Promise<string> {
  const id = newEventId();
  // The application object is keyed by the client_id of the event's mode (contract Part B §4.2).
  const application = {
    id: input.livemode ? input.platform.client_id_live : input.platform.client_id_test,
    object: 'application',
    name: input.platform.name,
  };
  const endpoints = await trx
    .selectFrom('webhook_endpoints')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', input.platform.account_id)
    .where('connect', '=', 1)
    .where('status', '=', 'enabled')
    .where('livemode', '=', input.livemode ? 1 : 0)
    .executeTakeFirst();
  await insertEvent(trx, {
    id,
    platform_id: input.platform.account_id,
    account_id: input.accountId,
    type: input.type,
    livemode: input.livemode ? 1 : 0,
    api_version: ctx.config.apiVersion,
    data: JSON.stringify({ object: application }),
    request_id: input.origin.requestId,
    idempotency_key: input.origin.idempotencyKey,
    pending_webhooks: Number(endpoints?.n ?? 0),
    created: ctx.clock.now(),
    seq: nextSeq(),
  });
  return id;
}
