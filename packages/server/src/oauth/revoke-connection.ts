// Ends a connection: every access and refresh token of it in both modes, and the
// account.application.deauthorized event, in the caller's transaction (docs/security-model.md DA-03, DA-04).
import type { Context } from '../context.ts';
import { markConnectionRevoked, revokeRefreshTokens } from '../store/connections.ts';
import { revokeAccessTokens } from '../store/keys.ts';
import type { Platform } from '../store/platforms.ts';
import type { ConnectionsTable, Db } from '../store/schema.ts';
import { emitApplicationEvent, type EventOrigin } from '../webhooks/events.ts';

export type RevokeReason = 'deauthorize' | 'dashboard_disconnect' | 'code_replay' | 'account_deleted';

/** Returns false when the connection was already revoked (no second event). */
export async function revokeConnection(
  trx: Db,
  ctx: Context,
  input: { connection: ConnectionsTable; platform: Platform; reason: RevokeReason; livemode: boolean; origin: EventOrigin },
): Promise<boolean> {
  const now = ctx.clock.now();
  if (!(await markConnectionRevoked(trx, input.connection.id, now, input.reason))) return false;
  await revokeAccessTokens(trx, input.connection.id, now);
  await revokeRefreshTokens(trx, input.connection.id, now);
  await emitApplicationEvent(trx, ctx, {
    type: 'account.application.deauthorized',
    platform: input.platform,
    accountId: input.connection.account_id,
    livemode: input.livemode,
    origin: input.origin,
  });
  return true;
}
