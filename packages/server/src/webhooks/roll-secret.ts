// Rolling an endpoint's signing secret with an overlap: the old secret keeps signing (a second
// v1 in every Stripe-Signature) until it expires, 24 h by default, so receivers can switch over.
import { newWebhookSecret } from '../domain/ids.ts';
import { encryptSecret } from '../domain/secrets.ts';
import type { Context } from '../context.ts';
import type { Db } from '../store/schema.ts';
import { lockEndpoint, updateEndpoint } from '../store/webhook-endpoints.ts';

export const DEFAULT_OVERLAP = 24 * 3600;

/** `then` runs in the same transaction, after the roll (the API stores its answer there). */
export async function rollEndpointSecret(
  ctx: Context,
  accountId: string,
  endpointId: string,
  overlapSeconds = DEFAULT_OVERLAP,
  then?: (trx: Db, secret: string) => Promise<void>,
): Promise<string | null> {
  const secret = newWebhookSecret();
  const done = await ctx.store.transaction(async (trx) => {
    const e = await lockEndpoint(trx, accountId, endpointId);
    if (!e) return false;
    await updateEndpoint(trx, e.id, {
      secret_sealed: encryptSecret(ctx.sealKey, secret),
      previous_secret_sealed: overlapSeconds > 0 ? e.secret_sealed : null,
      previous_secret_expires_at: overlapSeconds > 0 ? ctx.clock.now() + overlapSeconds : null,
    });
    await then?.(trx, secret);
    return true;
  });
  return done ? secret : null;
}
