// Secrets at rest (docs/contract.md Part A "Secrets at rest"; docs/security-model.md SE-01, SE-02, AC-01…AC-03).
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  scrypt as scryptCb,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';
import { randomPooledBytes } from './ids.ts';

/**
 * Keyed hash for high-entropy bearer secrets (codes, tokens, keys, session ids). The values carry
 * ≥190 bits, so HMAC-SHA-256 with a server pepper is enough (ASVS 6.5.2); lookups are by this hash,
 * so no secret is ever compared in JavaScript.
 */
export function hashSecret(pepper: Buffer, value: string): string {
  return createHmac('sha256', pepper).update(value, 'utf8').digest('base64url');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

// OWASP Password Storage Cheat Sheet, scrypt: N=2^17, r=8, p=1 or an equivalent row; this is the
// row N=2^15, r=8, p=3 that docs/security-model.md AC-01 names. Each hash holds 128·N·r bytes while it runs:
// 32 MiB here against 128 MiB for N=2^17, which alone put the server over its memory budget
// (docs/performance.md "Memory"), for about 0.6 of the CPU time. Not lower: at 32 MiB and more
// glibc serves the buffer with mmap and returns it when the hash ends; a 16 MiB buffer (N=2^14)
// stays in the malloc arena of each threadpool thread that hashed, resident for good.
// maxmem must still be raised (32 MiB plus a few KiB > Node's 32 MiB default; docs/security-model.md AC-02), and
// covers hashes stored with N=2^17, which verify as before and are redone at sign-in (docs/security-model.md AC-04).
export const PASSWORD_PARAMS = { N: 2 ** 15, r: 8, p: 3 } as const;
const MAXMEM = 256 * 1024 * 1024;
const MAX_PASSWORD_BYTES = 1024;

function scrypt(password: Buffer, salt: Buffer, len: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Bounds concurrent memory-hard hashes (docs/security-model.md AC-03): each one holds 32 MiB (128 MiB for an older hash). */
class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(
    private readonly limit: number,
    private readonly maxQueue: number,
  ) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= this.maxQueue) throw new PasswordHashBusyError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export class PasswordHashBusyError extends Error {
  constructor() {
    super('Too many password checks in progress');
    this.name = 'PasswordHashBusyError';
  }
}

const hashSlots = new Semaphore(2, 32);

function normalize(password: string): Buffer {
  return Buffer.from(password.normalize('NFC'), 'utf8');
}

export function passwordTooLong(password: string): boolean {
  return normalize(password).length > MAX_PASSWORD_BYTES;
}

/** `scrypt$N$r$p$salt$hash`, self-describing so parameters can be raised later (docs/security-model.md AC-04). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = PASSWORD_PARAMS;
  const key = await hashSlots.run(() => scrypt(normalize(password), salt, 32, { N, r, p, maxmem: MAXMEM }));
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * True when a stored hash was made with other parameters than today's (an older release's
 * N=2^17 row): the sign-in that verified it stores a new hash (docs/security-model.md AC-04).
 */
export function passwordNeedsRehash(stored: string): boolean {
  const [scheme, n, r, p] = stored.split('$');
  const { N, r: R, p: P } = PASSWORD_PARAMS;
  return scheme === 'scrypt' && (Number(n) !== N || Number(r) !== R || Number(p) !== P);
}

/**
 * Seeded accounts are stored before their password hash is computed, so the server listens without
 * waiting for scrypt (issue 8, start-up). They carry a placeholder that no password matches; the
 * process computing the hash keeps it here, and a sign-in meanwhile waits for it. A placeholder
 * this process does not know (another process is hashing, or one died first) matches nothing.
 */
const PENDING_PREFIX = 'pending$';
const pendingHashes = new Map<string, Promise<string | null>>();

export function isPendingPasswordHash(stored: string): boolean {
  return stored.startsWith(PENDING_PREFIX);
}

/** A new placeholder, to store until the real hash replaces it. */
export function newPendingPasswordHash(): string {
  return `${PENDING_PREFIX}${randomBytes(18).toString('base64url')}`;
}

/** Sign-ins for an account holding `placeholder` verify against `hash` once it settles. */
export function registerPendingPasswordHash(placeholder: string, hash: Promise<string>): void {
  pendingHashes.set(placeholder, hash.catch(() => null));
}

// A hash of a random password, verified against when the account does not exist, so that
// unknown and known emails take the same time (docs/security-model.md AC-10).
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(password: string, storedValue: string | null): Promise<boolean> {
  let stored = storedValue;
  if (stored !== null && isPendingPasswordHash(stored)) stored = (await pendingHashes.get(stored)) ?? null;
  const target = stored ?? (await (dummyHash ??= hashPassword(randomBytes(16).toString('hex'))));
  const parts = target.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const key = await hashSlots.run(() =>
    scrypt(normalize(password), Buffer.from(salt, 'base64url'), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: MAXMEM,
    }),
  );
  return stored !== null && timingSafeEqual(key, expected);
}

/**
 * AES-256-GCM for secrets we must recover (webhook signing secrets sign every delivery,
 * docs/security-model.md SE-02). Output: `v1.<iv>.<tag>.<ciphertext>`, base64url.
 */
export function encryptSecret(key: Buffer, plaintext: string): string {
  // A pooled CSPRNG draw: a randomBytes call per seal cost more than the cipher (issue 8).
  const iv = randomPooledBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ct].map((x) => (typeof x === 'string' ? x : x.toString('base64url'))).join('.');
}

export function decryptSecret(key: Buffer, sealed: string): string {
  const [v, iv, tag, ct] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('Unrecognised sealed secret');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
}
