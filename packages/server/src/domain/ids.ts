// Identifier and key formats (docs/contract.md Part B §6). We validate prefixes, and generate bodies
// from a CSPRNG with rejection sampling so every base62 character is equally likely (docs/security-model.md CD-01).
import { randomFillSync } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// One CSPRNG call fills a pool that many ids draw from (issue 8: a randomBytes call per id cost
// more than the bytes). Each byte is read once, in order, and the pool is refilled when used up,
// so no byte serves two ids. A private buffer, not a slice of Node's shared allocation pool.
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let offset = POOL_SIZE;

export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    if (offset === POOL_SIZE) {
      randomFillSync(pool);
      offset = 0;
    }
    const b = pool[offset++] ?? 255;
    // 248 = 4 × 62: bytes at or above it are dropped so every character is equally likely.
    if (b < 248) out += BASE62[b % 62];
  }
  return out;
}

/**
 * An id body that starts with the creation time: 8 base62 digits of the Unix time in milliseconds
 * (fixed width, most significant first; '0-9A-Za-z' is in ASCII order, so the text sorts by time),
 * then `length - 8` random base62 characters. For row ids that are not secrets (accounts,
 * connections, events, deliveries, charges): new rows then land at the end of their B-tree indexes
 * instead of at random pages, which SQLite writes to its WAL and again at each checkpoint (about 3×
 * cheaper inserts at 300,000 rows; docs/performance.md "Latest figures"). Secrets (codes, tokens,
 * keys, session ids) stay fully random: `randomBase62`.
 */
export function sortableBase62(length: number): string {
  let t = Date.now();
  let prefix = '';
  for (let i = 0; i < 8; i++) {
    prefix = (BASE62[t % 62] ?? '0') + prefix;
    t = Math.floor(t / 62);
  }
  return prefix + randomBase62(length - 8);
}

/** `n` bytes from the same pool (AES-GCM nonces: 96 random bits, never reused). */
export function randomPooledBytes(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let filled = 0;
  while (filled < n) {
    if (offset === POOL_SIZE) {
      randomFillSync(pool);
      offset = 0;
    }
    const take = Math.min(n - filled, POOL_SIZE - offset);
    pool.copy(out, filled, offset, offset + take);
    offset += take;
    filled += take;
  }
  return out;
}

export type Mode = 'test' | 'live';

export const newAccountId = (): string => `acct_${sortableBase62(16)}`;
export const newClientId = (): string => `ca_${randomBase62(32)}`;
export const newAuthorizationCode = (): string => `ac_${randomBase62(32)}`;
export const newRefreshToken = (): string => `rt_${randomBase62(48)}`;
export const newSecretKey = (mode: Mode): string => `sk_${mode}_${randomBase62(99)}`;
export const newPublishableKey = (mode: Mode): string => `pk_${mode}_${randomBase62(99)}`;
export const newEventId = (): string => `evt_${sortableBase62(24)}`;
export const newConnectionId = (): string => `conn_${sortableBase62(24)}`;
export const newRequestId = (): string => `req_${randomBase62(14)}`;
export const newWebhookSecret = (): string => `whsec_${randomBase62(32)}`;
export const newWebhookEndpointId = (): string => `we_${randomBase62(24)}`;

export const patterns = {
  account: /^acct_[A-Za-z0-9]{1,64}$/,
  clientId: /^ca_[A-Za-z0-9]{1,64}$/,
  code: /^ac_[A-Za-z0-9]{1,64}$/,
  refreshToken: /^rt_[A-Za-z0-9]{1,128}$/,
  secretKey: /^sk_(test|live)_[A-Za-z0-9]{1,247}$/,
  publishableKey: /^pk_(test|live)_[A-Za-z0-9]{1,247}$/,
  webhookSecret: /^whsec_[A-Za-z0-9]{1,128}$/,
} as const;

/**
 * Masks a key the way Stripe does in error messages: prefix kept, body starred, last four shown
 * (docs/contract.md Part B §5.2, "sk_test_********************1234"). Anything that does not look like a
 * key is reduced to stars so we never echo arbitrary input.
 */
export function maskKey(key: string): string {
  const m = /^((?:sk|pk|rk)_(?:test|live)_)([A-Za-z0-9]+)$/.exec(key);
  if (!m) return '****';
  const body = m[2] ?? '';
  const shown = body.length > 4 ? body.slice(-4) : '';
  return `${m[1]}${'*'.repeat(Math.max(body.length - shown.length, 4))}${shown}`;
}
