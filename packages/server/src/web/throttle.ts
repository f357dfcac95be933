// Throttling rules and the per-process view of locked addresses (docs/security.md "Throttling").
// Counts live in the database (store/throttle.ts), so several processes sharing it count together.
import type { Context } from '../context.ts';
import { hit, lockedKeys, lockedUntil, clearThrottle, type ThrottleRule } from '../store/throttle.ts';

/** Wrong keys, codes or refresh tokens at /oauth and /v1: 20 a minute per address (--auth-failure-limit), then 60 s of 429. */
export const AUTH_FAILURES: ThrottleRule = { window: 60, max: 20, lock: 60 };
/** Failed sign-ins: 5 for one account from one address lock that pair for 15 min (docs/security-model.md AC-09). */
export const LOGIN_PAIR: ThrottleRule = { window: 900, max: 5, lock: 900 };
/** 50 failed sign-ins for one account from anywhere lock it for 15 min: slows a distributed guess. */
export const LOGIN_ACCOUNT: ThrottleRule = { window: 900, max: 50, lock: 900 };
/** Rows stored for visitors without an account (sessions, authorize requests): 300 a minute per address. */
export const ANONYMOUS_ROWS: ThrottleRule = { window: 60, max: 300, lock: 60 };

export const LONGEST_WINDOW = 900;

const AUTH_PREFIX = 'auth:';

/**
 * Which addresses are locked out of /oauth and /v1 for failed authentication. The hot path reads a
 * Map; the database is read at most once a second per process, so a lock set by another process
 * takes effect here within a second.
 */
export class AuthFailureLocks {
  private locked = new Map<string, number>();
  private refreshedAt = -Infinity;
  private refreshing: Promise<void> | null = null;

  constructor(private readonly ctx: Context) {}

  /** Seconds until the address may try again, 0 when it may now. */
  async retryAfter(address: string): Promise<number> {
    if (performance.now() - this.refreshedAt > 1000) await (this.refreshing ??= this.refresh());
    const until = this.locked.get(address) ?? 0;
    const now = this.ctx.clock.now();
    return until > now ? until - now : 0;
  }

  /** Counts a failure; returns seconds until the address may try again (0: not locked yet). */
  async fail(address: string): Promise<number> {
    const now = this.ctx.clock.now();
    const { lockedUntil: until } = await hit(this.ctx.store.db, AUTH_PREFIX + address, { ...AUTH_FAILURES, max: this.ctx.config.authFailureLimit }, now);
    if (until) this.locked.set(address, until);
    return until ? until - now : 0;
  }

  private async refresh(): Promise<void> {
    try {
      const rows = await lockedKeys(this.ctx.store.db, AUTH_PREFIX, this.ctx.clock.now());
      this.locked = new Map(rows.map((r) => [r.key.slice(AUTH_PREFIX.length), r.locked_until]));
      this.refreshedAt = performance.now();
    } finally {
      this.refreshing = null;
    }
  }
}

/**
 * Counts a sign-in attempt for this email from this address before the password is checked, so
 * guesses sent in parallel are counted too; a success clears it. Seconds to wait, 0 to go ahead.
 */
export async function loginAttempt(ctx: Context, email: string, address: string): Promise<number> {
  const now = ctx.clock.now();
  const account = await lockedUntil(ctx.store.db, `login-account:${email}`, now);
  if (account) return account - now;
  const { hits, lockedUntil: until } = await hit(ctx.store.db, `login:${email}|${address}`, LOGIN_PAIR, now);
  return hits > LOGIN_PAIR.max && until ? until - now : 0;
}

export async function loginFailed(ctx: Context, email: string): Promise<void> {
  await hit(ctx.store.db, `login-account:${email}`, LOGIN_ACCOUNT, ctx.clock.now());
}

export async function loginSucceeded(ctx: Context, email: string, address: string): Promise<void> {
  await clearThrottle(ctx.store.db, `login:${email}|${address}`);
}

/** Counts a row stored for an anonymous visitor; seconds to wait when over the limit, else 0. */
export async function anonymousRow(ctx: Context, address: string): Promise<number> {
  const now = ctx.clock.now();
  // The row that reaches the limit is still stored; the ones after it wait.
  const { hits, lockedUntil } = await hit(ctx.store.db, `anon:${address}`, ANONYMOUS_ROWS, now);
  return hits > ANONYMOUS_ROWS.max && lockedUntil ? lockedUntil - now : 0;
}
