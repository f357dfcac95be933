// The OAuth `state` parameter against CSRF (RFC 6749 §10.12): a fresh value from the CSPRNG per
// authorize URL, bound to the user's session, single-use and short-lived. A callback whose state is
// missing, unknown, expired, already used or bound to another session is refused before any token
// request is made.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { StateError } from './errors.ts';

/** 256 bits from the CSPRNG, base64url: well above the 128 bits RFC 6749 §10.10 asks for. */
export function newState(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time string comparison (equal lengths compared without early exit). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface StateStoreOptions {
  /** Seconds a state stays usable; default 600 (ten minutes to sign in at the provider). */
  ttlSeconds?: number;
  /** Seconds since the epoch; injectable for tests. */
  now?: () => number;
}

/**
 * States kept on the server, keyed by the app's own session id: `issue` remembers one, `consume`
 * takes it back exactly once. Memory-backed; an app with several processes implements the same
 * two methods over its session store.
 */
export interface StateStore {
  issue(sessionId: string): Promise<string> | string;
  /** Throws StateError unless `state` is the live state issued to this session; it is used up either way. */
  consume(sessionId: string, state: unknown): Promise<void> | void;
}

export function memoryStateStore(options: StateStoreOptions = {}): StateStore {
  const ttl = options.ttlSeconds ?? 600;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const pending = new Map<string, { state: string; expiresAt: number }>();
  return {
    issue(sessionId) {
      // Expired entries are dropped as new ones come in, so the map stays small.
      const t = now();
      for (const [key, entry] of pending) if (entry.expiresAt <= t) pending.delete(key);
      const state = newState();
      pending.set(sessionId, { state, expiresAt: t + ttl });
      return state;
    },
    consume(sessionId, state) {
      const entry = pending.get(sessionId);
      pending.delete(sessionId);
      check(entry, state, now());
    },
  };
}

function check(entry: { state: string; expiresAt: number } | undefined, state: unknown, now: number): void {
  if (typeof state !== 'string' || state === '') throw new StateError('missing', 'The callback carries no state.');
  if (!entry) throw new StateError('unknown', 'No authorization was started in this session, or its state was already used.');
  if (!safeEqual(entry.state, state)) throw new StateError('mismatch', 'The state does not match the one issued to this session.');
  if (entry.expiresAt <= now) throw new StateError('expired', 'The authorization took too long; start again.');
}

/**
 * State bound to the browser by a signed cookie, for apps without a server-side session: `issue`
 * returns the state and the cookie value to set (HttpOnly, SameSite=Lax, path of the callback);
 * `consume` checks the callback's state against the cookie sent back. The cookie is signed with
 * HMAC-SHA256 under the app's secret, so it cannot be forged. Single use: states seen are
 * remembered until they expire, in this process.
 *
 * `binding` ties the state to the app's signed-in user as well as to the browser (a user id or
 * session id): a callback that arrives in another user's session is refused (`unknown`). Give the
 * same value to `issue` and `consume`, or none to both.
 */
export interface CookieState {
  issue(binding?: string): { state: string; cookie: string };
  consume(cookie: string | undefined, state: unknown, binding?: string): void;
}

export function cookieState(secret: string, options: StateStoreOptions = {}): CookieState {
  if (secret.length < 32) throw new TypeError('cookieState needs a secret of at least 32 characters');
  const ttl = options.ttlSeconds ?? 600;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const used = new Map<string, number>();
  const sign = (body: string, binding: string | undefined) => createHmac('sha256', secret).update(`${body}\n${binding ?? ''}`).digest('base64url');
  return {
    issue(binding) {
      const state = newState();
      const body = `${state}.${now() + ttl}`;
      return { state, cookie: `${body}.${sign(body, binding)}` };
    },
    consume(cookie, state, binding) {
      const t = now();
      for (const [s, expiresAt] of used) if (expiresAt <= t) used.delete(s);
      const parts = cookie?.split('.') ?? [];
      const [issued, expires, mac] = parts;
      // A cookie not signed by us, or signed for another user (binding), started nothing here.
      const valid = parts.length === 3 && issued && expires && mac && safeEqual(mac, sign(`${issued}.${expires}`, binding));
      const entry = valid ? { state: issued, expiresAt: Number(expires) } : undefined;
      if (entry && used.has(entry.state)) throw new StateError('unknown', 'This state was already used.');
      check(entry, state, t);
      if (entry) used.set(entry.state, entry.expiresAt);
    },
  };
}
