// Accounts (acct_…) and their own API keys.
import { newAccountId, newPublishableKey, newSecretKey, type Mode } from '../domain/ids.ts';
import { precompile } from './prepared.ts';
import type { AccountsTable, Db, KeyKind } from './schema.ts';

export type Hash = (value: string) => string;

export interface NewAccount {
  id?: string;
  email: string;
  passwordHash: string | null;
  businessName: string | null;
  country: string;
  url?: string | null;
  testOnly?: boolean;
  /** POST /v1/accounts: the creating platform, and the onboarding state as JSON. */
  createdBy?: string;
  onboarding?: string;
  metadata?: string;
  defaultCurrency?: string;
  keys?: Partial<Record<'test_secret' | 'test_publishable' | 'live_secret' | 'live_publishable', string>>;
}

export interface CreatedAccount {
  account: AccountsTable;
  /** Every key minted, in plaintext, for the one moment the caller may show them. */
  keys: Record<'test_secret' | 'test_publishable' | 'live_secret' | 'live_publishable', string>;
}

const CURRENCY_BY_COUNTRY: Record<string, string> = {
  US: 'usd', GB: 'gbp', CA: 'cad', AU: 'aud', JP: 'jpy', FR: 'eur', DE: 'eur', ES: 'eur', IT: 'eur',
  NL: 'eur', IE: 'eur', BE: 'eur', AT: 'eur', FI: 'eur', PT: 'eur', CH: 'chf', SE: 'sek', NO: 'nok',
  DK: 'dkk', NZ: 'nzd', SG: 'sgd', HK: 'hkd', MX: 'mxn', BR: 'brl', IN: 'inr', PL: 'pln',
};

export function defaultCurrency(country: string): string {
  return CURRENCY_BY_COUNTRY[country] ?? 'usd';
}

export async function createAccount(db: Db, hash: Hash, now: number, input: NewAccount): Promise<CreatedAccount> {
  const account: AccountsTable = {
    id: input.id ?? newAccountId(),
    email: input.email.toLowerCase(),
    password_hash: input.passwordHash,
    business_name: input.businessName,
    country: input.country,
    default_currency: input.defaultCurrency ?? defaultCurrency(input.country),
    url: input.url ?? null,
    test_only: input.testOnly ? 1 : 0,
    created: now,
    created_by: input.createdBy ?? null,
    onboarding: input.onboarding ?? null,
    deleted_at: null,
    metadata: input.metadata ?? null,
  };
  await db.insertInto('accounts').values(account).execute();
  const keys = {
    test_secret: input.keys?.test_secret ?? newSecretKey('test'),
    test_publishable: input.keys?.test_publishable ?? newPublishableKey('test'),
    live_secret: input.keys?.live_secret ?? newSecretKey('live'),
    live_publishable: input.keys?.live_publishable ?? newPublishableKey('live'),
  };
  const specs: Array<[string, Mode, KeyKind]> = [
    [keys.test_secret, 'test', 'secret'],
    [keys.test_publishable, 'test', 'publishable'],
    [keys.live_secret, 'live', 'secret'],
    [keys.live_publishable, 'live', 'publishable'],
  ];
  await db
    .insertInto('api_keys')
    .values(
      specs.map(([key, mode, kind]) => ({
        hash: hash(key),
        account_id: account.id,
        mode,
        kind,
        connection_id: null,
        scope: null,
        last4: key.slice(-4),
        // Live secret keys are shown once and kept only as a hash (docs/contract.md Part A "Secrets at rest").
        revealable: kind === 'secret' && mode === 'live' ? null : key,
        created: now,
        revoked_at: null,
      })),
    )
    .execute();
  return { account, keys };
}

const accountById = precompile((db: Db, p: { id: string }) => db.selectFrom('accounts').selectAll().where('id', '=', p.id));

export function findAccount(db: Db, id: string): Promise<AccountsTable | undefined> {
  return accountById.first(db, { id });
}

export function findLoginAccount(db: Db, email: string): Promise<AccountsTable | undefined> {
  return db
    .selectFrom('accounts')
    .selectAll()
    .where('email', '=', email.toLowerCase())
    .where('password_hash', 'is not', null)
    .executeTakeFirst();
}

/**
 * Locks an account row for the rest of the transaction and returns it: read-then-write changes to
 * one account (its keys, its onboarding) serialize on PostgreSQL (a no-op UPDATE); SQLite's BEGIN
 * IMMEDIATE already serializes writers.
 */
export function lockAccount(db: Db, id: string): Promise<AccountsTable | undefined> {
  return db.updateTable('accounts').set((eb) => ({ id: eb.ref('id') })).where('id', '=', id).returningAll().executeTakeFirst();
}

/** Whether the database holds any account (a database that is not new). */
export async function hasAccounts(db: Db): Promise<boolean> {
  return (await db.selectFrom('accounts').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Stores a seeded account's password hash only over its placeholder (seed.ts, hashed after listen). */
export async function replacePasswordPlaceholder(db: Db, id: string, placeholder: string, passwordHash: string): Promise<void> {
  await replacePasswordHash(db, id, placeholder, passwordHash);
}

/** Stores a password hash only over the one it replaces: a password changed meanwhile stays. */
export async function replacePasswordHash(db: Db, id: string, previous: string, passwordHash: string): Promise<void> {
  await db.updateTable('accounts').set({ password_hash: passwordHash }).where('id', '=', id).where('password_hash', '=', previous).execute();
}

export type AccountChanges = Partial<Pick<AccountsTable, 'email' | 'business_name' | 'url' | 'default_currency' | 'onboarding' | 'password_hash' | 'metadata'>>;

/** Changes an account's profile or onboarding state (the caller holds the account's lock). */
export async function updateAccount(db: Db, id: string, changes: AccountChanges): Promise<void> {
  if (Object.keys(changes).length === 0) return;
  await db.updateTable('accounts').set(changes).where('id', '=', id).execute();
}

/** A deleted account keeps its row (events and ids stay resolvable) but can no longer sign in. */
export async function markAccountDeleted(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('accounts').set({ deleted_at: now, password_hash: null }).where('id', '=', id).execute();
}

/** The accounts a platform created through the API, newest first (its dashboard). */
export function listAccountsCreatedBy(db: Db, platformId: string): Promise<AccountsTable[]> {
  return db.selectFrom('accounts').selectAll().where('created_by', '=', platformId).where('deleted_at', 'is', null).orderBy('created', 'desc').orderBy('id', 'desc').limit(200).execute();
}
