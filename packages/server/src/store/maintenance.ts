// Purges rows that can no longer matter, so unauthenticated traffic cannot grow the database
// without bound (anonymous sessions, abandoned authorize requests, old codes and idempotency keys,
// Account Links and onboarding sessions).
import { IDEMPOTENCY_TTL } from './idempotency.ts';
import type { Db } from './schema.ts';
import { purgeThrottles } from './throttle.ts';

/** Codes are kept a day past expiry so a late replay still meets "already used" and revokes. */
export const CODE_RETENTION = 24 * 3600;

export async function purgeExpired(db: Db, now: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const count = (r: { numDeletedRows: bigint }[]) => Number(r[0]?.numDeletedRows ?? 0);
  counts.sessions = count(await db.deleteFrom('sessions').where('expires_at', '<=', now).execute());
  counts.authorize_requests = count(await db.deleteFrom('authorize_requests').where('expires_at', '<=', now).execute());
  counts.authorization_codes = count(await db.deleteFrom('authorization_codes').where('expires_at', '<=', now - CODE_RETENTION).execute());
  counts.throttles = await purgeThrottles(db, now, 900);
  counts.idempotency_keys = count(await db.deleteFrom('idempotency_keys').where('created', '<=', now - IDEMPOTENCY_TTL).execute());
  // Account Links and the onboarding sessions they opened, a day past their end.
  counts.account_links = count(await db.deleteFrom('account_links').where('expires_at', '<=', now - CODE_RETENTION).execute());
  counts.onboarding_sessions = count(await db.deleteFrom('onboarding_sessions').where('expires_at', '<=', now - CODE_RETENTION).execute());
  return counts;
}
