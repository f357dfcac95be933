// Registration and login, framework-free: the pages and the consent flow both call these.
import { PageError } from '../domain/errors.ts';
import { hashPassword, passwordNeedsRehash, passwordTooLong, verifyPassword } from '../domain/secrets.ts';
import type { Context } from '../context.ts';
import { createAccount, findLoginAccount, replacePasswordHash, type CreatedAccount } from '../store/accounts.ts';
import type { AccountsTable } from '../store/schema.ts';
import { loginAttempt, loginFailed, loginSucceeded } from './throttle.ts';

export const COUNTRIES: Array<[string, string]> = [
  ['US', 'United States'], ['GB', 'United Kingdom'], ['CA', 'Canada'], ['AU', 'Australia'], ['FR', 'France'],
  ['DE', 'Germany'], ['ES', 'Spain'], ['IT', 'Italy'], ['NL', 'Netherlands'], ['IE', 'Ireland'], ['JP', 'Japan'],
  ['SG', 'Singapore'], ['NZ', 'New Zealand'], ['CH', 'Switzerland'], ['SE', 'Sweden'], ['MX', 'Mexico'], ['BR', 'Brazil'], ['IN', 'India'],
];

export class FormError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'FormError';
  }
}

export interface RegistrationInput {
  email: unknown;
  password: unknown;
  business_name: unknown;
  country: unknown;
}

export function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

/** OWASP ASVS 6.2: at least 8 characters, no composition rules, at most 1 KiB (docs/security-model.md AC-05). */
export function checkPassword(password: string): void {
  if ([...password].length < 8) throw new FormError('Use a password of at least 8 characters.', 'password');
  if (passwordTooLong(password)) throw new FormError('That password is too long (1,024 bytes at most).', 'password');
}

export function checkEmail(email: string): void {
  if (email.length > 254 || !/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(email)) throw new FormError('Enter a valid email address.', 'email');
}

export async function registerAccount(ctx: Context, input: RegistrationInput): Promise<CreatedAccount> {
  const email = text(input.email).toLowerCase();
  const password = typeof input.password === 'string' ? input.password : '';
  const businessName = text(input.business_name);
  const country = text(input.country);
  checkEmail(email);
  checkPassword(password);
  if (businessName.length === 0 || businessName.length > 200) throw new FormError('Enter your business name (up to 200 characters).', 'business_name');
  if (!COUNTRIES.some(([c]) => c === country)) throw new FormError('Choose a country.', 'country');
  if (await findLoginAccount(ctx.store.db, email)) throw new FormError('An account with this email already exists. Sign in instead.', 'email');
  const passwordHash = await hashPassword(password);
  try {
    return await ctx.store.transaction((trx) => createAccount(trx, ctx.hash, ctx.clock.now(), { email, passwordHash, businessName, country }));
  } catch (err) {
    // Two registrations raced for one email: the unique index decided.
    if (await findLoginAccount(ctx.store.db, email)) throw new FormError('An account with this email already exists. Sign in instead.', 'email');
    throw err;
  }
}

const BAD_LOGIN = 'Incorrect email or password.';

export async function login(ctx: Context, emailRaw: unknown, passwordRaw: unknown, address: string): Promise<AccountsTable> {
  const email = text(emailRaw).toLowerCase();
  const password = typeof passwordRaw === 'string' ? passwordRaw : '';
  if (!email || !password) throw new FormError('Enter your email and password.');
  if (passwordTooLong(password)) throw new FormError(BAD_LOGIN);
  // Counted in the database, so every process sharing it agrees (docs/security.md "Throttling").
  const wait = await loginAttempt(ctx, email, address);
  if (wait > 0) {
    throw new PageError(429, 'Too many attempts', `Too many failed sign-in attempts for this account. Try again in ${Math.ceil(wait / 60)} minutes.`);
  }
  const account = await findLoginAccount(ctx.store.db, email);
  // Unknown emails are checked against a dummy hash: same message, similar time (docs/security-model.md AC-10).
  const ok = await verifyPassword(password, account?.password_hash ?? null);
  if (!ok || !account) {
    await loginFailed(ctx, email);
    ctx.log.info({ event: 'login.failed' }, 'login failed');
    throw new FormError(BAD_LOGIN);
  }
  await loginSucceeded(ctx, email, address);
  ctx.log.info({ event: 'login.succeeded', account: account.id }, 'login succeeded');
  if (account.password_hash !== null && passwordNeedsRehash(account.password_hash)) await rehash(ctx, account.id, account.password_hash, password);
  return account;
}

/**
 * A hash stored with other parameters (an older release's 128 MiB scrypt) is redone with today's
 * once the password is known to be right (docs/security-model.md AC-04, docs/security.md "Passwords"). A
 * failure leaves the old hash, which still verifies; it does not fail the sign-in.
 */
async function rehash(ctx: Context, accountId: string, previous: string, password: string): Promise<void> {
  try {
    await replacePasswordHash(ctx.store.db, accountId, previous, await hashPassword(password));
    ctx.log.info({ event: 'login.password_rehashed', account: accountId }, 'password hash upgraded');
  } catch (err) {
    ctx.log.warn({ event: 'login.rehash_failed', account: accountId, message: err instanceof Error ? err.message : String(err) }, 'could not upgrade a password hash');
  }
}
