// Verifying `Stripe-Signature` (Stripe's scheme, docs/contract.md Part B §4.4): HMAC-SHA256 of
// `<t>.<raw body>` under the endpoint secret, hex, in one or more `v1=` entries; any of the given
// secrets may match (during a roll both old and new sign). The timestamp must be within the
// tolerance, against replay.
import { createHmac } from 'node:crypto';
import { WebhookSignatureError } from './errors.ts';
import { safeEqual } from './state.ts';

export interface VerifyOptions {
  /** Seconds the timestamp may differ from now; default 300, as Stripe's SDKs. */
  tolerance?: number;
  /** Seconds since the epoch; injectable for tests. */
  now?: () => number;
}

export interface WebhookEvent {
  id: string;
  type: string;
  account?: string;
  created: number;
  livemode: boolean;
  data: { object: Record<string, unknown> };
  [field: string]: unknown;
}

/** `payload` must be the exact bytes received: parsing and re-serializing breaks the signature. */
export function verifyWebhook(payload: string | Buffer, header: string | string[] | undefined, secrets: string | string[], options: VerifyOptions = {}): WebhookEvent {
  if (typeof header !== 'string' || header === '') throw new WebhookSignatureError('no_header', 'No Stripe-Signature header.');
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (key === 't' && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) throw new WebhookSignatureError('malformed', 'The Stripe-Signature header has no timestamp or no v1 signature.');
  const keys = checkSecrets(secrets);
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const matched = keys.some((secret) => {
    // Over the bytes as received: decoding first would change bytes that are not valid UTF-8.
    const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(bytes).digest('hex');
    return signatures.some((s) => safeEqual(s, expected));
  });
  if (!matched) throw new WebhookSignatureError('no_match', 'No signature matches the payload for the given secrets.');
  const now = (options.now ?? (() => Math.floor(Date.now() / 1000)))();
  const tolerance = options.tolerance ?? 300;
  if (tolerance > 0 && Math.abs(now - timestamp) > tolerance) throw new WebhookSignatureError('too_old', 'The signature timestamp is outside the tolerance.');
  return JSON.parse(bytes.toString('utf8')) as WebhookEvent;
}

/**
 * The secrets as a non-empty list of non-empty strings. An empty secret would let anyone sign, and
 * an unset environment variable would fail every delivery: both are configuration errors, thrown.
 */
export function checkSecrets(secrets: string | string[]): string[] {
  const keys = typeof secrets === 'string' ? [secrets] : secrets;
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '')) {
    throw new TypeError('platform-kit: webhook secrets must be one or more non-empty strings (whsec_…)');
  }
  return keys;
}

/**
 * Remembers event ids for a window, so an event delivered twice (a retry after a lost answer) is
 * handled once. Stripe retries for up to three days in live mode: keep the window at least that
 * long; the default is 3 days. Memory-backed, per process; a multi-process app records ids in its
 * own database instead (a unique key on the event id).
 */
export function eventDeduper(options: { windowSeconds?: number; now?: () => number } = {}) {
  const window = options.windowSeconds ?? 3 * 24 * 3600;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const seen = new Map<string, number>();
  return {
    /** True the first time an id is seen within the window, false after. */
    firstTime(eventId: string): boolean {
      const t = now();
      for (const [id, at] of seen) {
        if (at + window > t) break; // insertion order is time order
        seen.delete(id);
      }
      if (seen.has(eventId)) return false;
      seen.set(eventId, t);
      return true;
    },
    /** Drops an id whose handling failed, so the provider's next delivery of it is handled. */
    forget(eventId: string): void {
      seen.delete(eventId);
    },
  };
}
