// Counters for throttling (docs/security.md "Throttling"), kept in the database so that every
// process sharing it counts together: failed authentication per address, failed sign-ins per
// account and address, anonymous rows per address.
import { sql } from 'kysely';
import { precompile } from './prepared.ts';
import type { Db } from './schema.ts';

export interface ThrottleRule {
  /** Counting window in seconds, from the first hit. */
  window: number;
  /** Hits within the window that lock the key. */
  max: number;
  /** Seconds a key stays locked once it reaches `max`. */
  lock: number;
}

/**
 * Counts one hit. Returns the hits in the current window and the time until which the key is
 * locked (0 when it is not): the hit that reaches `max` sets the lock.
 */
export async function hit(db: Db, key: string, rule: ThrottleRule, now: number): Promise<{ hits: number; lockedUntil: number }> {
  const fresh = sql<boolean>`throttles.window_start <= ${now - rule.window}`;
  const row = await db
    .insertInto('throttles')
    .values({ key, window_start: now, hits: 1, locked_until: rule.max <= 1 ? now + rule.lock : 0 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        window_start: sql<number>`case when ${fresh} then ${now} else throttles.window_start end`,
        hits: sql<number>`case when ${fresh} then 1 else throttles.hits + 1 end`,
        locked_until: sql<number>`case when (case when ${fresh} then 1 else throttles.hits + 1 end) >= ${rule.max} then ${now + rule.lock} else throttles.locked_until end`,
      }),
    )
    .returning(['hits', 'locked_until'])
    .executeTakeFirstOrThrow();
  return { hits: Number(row.hits), lockedUntil: Number(row.locked_until) > now ? Number(row.locked_until) : 0 };
}

/** The time until which `key` is locked, 0 when it is not. */
export async function lockedUntil(db: Db, key: string, now: number): Promise<number> {
  const row = await db.selectFrom('throttles').select('locked_until').where('key', '=', key).executeTakeFirst();
  return row && Number(row.locked_until) > now ? Number(row.locked_until) : 0;
}

/** Every key locked now whose name starts with `prefix` (a process refreshes its cache with it). */
const locked = precompile((db: Db, p: { now: number; pattern: string }) =>
  db.selectFrom('throttles').select(['key', 'locked_until']).where('locked_until', '>', p.now).where('key', 'like', p.pattern),
);

export async function lockedKeys(db: Db, prefix: string, now: number): Promise<Array<{ key: string; locked_until: number }>> {
  return locked.all(db, { now, pattern: `${prefix}%` });
}

export async function clearThrottle(db: Db, key: string): Promise<void> {
  await db.deleteFrom('throttles').where('key', '=', key).execute();
}

/** Rows whose window and lock have both passed (housekeeping). */
export async function purgeThrottles(db: Db, now: number, longestWindow: number): Promise<number> {
  const r = await db.deleteFrom('throttles').where('window_start', '<=', now - longestWindow).where('locked_until', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
