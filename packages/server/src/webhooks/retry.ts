// Retry schedules (docs/contract.md Part A "Webhook delivery"; Part B §4.5). Stripe's exact intervals are
// unpublished: live retries back off exponentially for up to 3 days, test mode retries 3 times over
// a few hours, and `fast` (--webhook-retry fast) compresses it to seconds for local work and tests.
export type RetryMode = 'standard' | 'fast';

// Live: 9 retries; the last comes about 64 h after the first attempt (≤ 70 h with jitter), inside
// Stripe's 3 days.
const LIVE = [300, 1800, 7200, 18000, 36000, 43200, 43200, 43200, 36000];
const TEST = [300, 3600, 10800];
const FAST = [1, 2, 4, 8, 16, 32];

/**
 * Seconds to wait before the next attempt, after `failures` failed attempts (1 after the first),
 * or null when the delivery has failed for good. Jitter ±10 % spreads retries of many endpoints.
 */
export function retryDelay(mode: RetryMode, livemode: boolean, failures: number, random: () => number = Math.random): number | null {
  const schedule = mode === 'fast' ? FAST : livemode ? LIVE : TEST;
  const base = schedule[failures - 1];
  if (base === undefined) return null;
  const jitter = 1 + (random() * 0.2 - 0.1);
  return Math.max(1, Math.round(base * jitter));
}
