// Onboarding through an Account Link, framework-free (docs/contract.md Part B §8.3, §8.4): opening a
// link starts an onboarding session bound to the browser session; each step saves what it
// collected, so progress is kept and `requirements.currently_due` shrinks; every change the
// platform can see is an account.updated event; finishing sends the person to `return_url`.
import { PageError } from '../domain/errors.ts';
import { isHttpUrl } from '../domain/http-url.ts';
import { randomBase62 } from '../domain/ids.ts';
import { capabilityState, freshOnboarding, parseOnboarding, TEST_BANK_ACCOUNT, type BusinessType, type Onboarding } from '../domain/onboarding.ts';
import { hashPassword } from '../domain/secrets.ts';
import type { Context } from '../context.ts';
import { findAccountLink, findOnboardingSession, finishOnboardingSession, insertOnboardingSession, useAccountLink } from '../store/account-links.ts';
import { findAccount, findLoginAccount, lockAccount, updateAccount, type AccountChanges } from '../store/accounts.ts';
import { findActiveConnection } from '../store/connections.ts';
import { findPlatform, type Platform } from '../store/platforms.ts';
import type { AccountsTable, Db, OnboardingSessionsTable } from '../store/schema.ts';
import { emitAccountUpdated } from '../webhooks/events.ts';
import { checkEmail, checkPassword, FormError, text } from './accounts.ts';

/** How long the pages a link opened stay usable: long enough to fill them in, unhurried. */
export const ONBOARDING_SESSION_TTL = 3600;

export type Step = 'login' | 'business' | 'bank' | 'review';
export const STEPS: Step[] = ['login', 'business', 'bank', 'review'];

export interface Flow {
  row: OnboardingSessionsTable;
  account: AccountsTable;
  onboarding: Onboarding;
  platform: Platform;
}

export type Opened = { kind: 'flow'; id: string } | { kind: 'refresh'; url: string };

const invalidLink = () => new PageError(404, 'Link not valid', 'This onboarding link is not valid. Go back to the platform that sent you and start again.');

/**
 * A visit to an Account Link. Used, expired, or for an account the platform may no longer reach:
 * the person goes to `refresh_url`, where the platform makes a new link (docs/contract.md Part B §8.3).
 */
export async function openLink(ctx: Context, accountId: string, token: string, sessionHash: string): Promise<Opened> {
  if (!/^[A-Za-z0-9]{32}$/.test(token)) throw invalidLink();
  const link = await findAccountLink(ctx.store.db, ctx.hash(token));
  if (!link || link.account_id !== accountId) throw invalidLink();
  const now = ctx.clock.now();
  const refresh: Opened = { kind: 'refresh', url: link.refresh_url };
  if (link.used_at !== null || link.expires_at <= now) return refresh;
  const account = await findAccount(ctx.store.db, accountId);
  const connection = await findActiveConnection(ctx.store.db, link.platform_id, accountId);
  if (!account || account.deleted_at !== null || !connection) return refresh;
  return ctx.store.transaction(async (trx) => {
    if (!(await useAccountLink(trx, link.hash, now))) return refresh;
    const id = randomBase62(32);
    await insertOnboardingSession(trx, {
      id,
      session_hash: sessionHash,
      account_id: accountId,
      platform_id: link.platform_id,
      livemode: link.livemode,
      refresh_url: link.refresh_url,
      return_url: link.return_url,
      created: now,
      expires_at: now + ONBOARDING_SESSION_TTL,
      finished_at: null,
    });
    return { kind: 'flow', id };
  });
}

/** The onboarding session behind a page, for this browser only; an ended one sends to refresh_url. */
export async function loadFlow(ctx: Context, id: string, sessionHash: string | null): Promise<Flow | { refresh: string }> {
  const row = /^[A-Za-z0-9]{32}$/.test(id) ? await findOnboardingSession(ctx.store.db, id) : undefined;
  if (!row) throw invalidLink();
  const usable = row.session_hash === sessionHash && row.finished_at === null && row.expires_at > ctx.clock.now();
  const account = await findAccount(ctx.store.db, row.account_id);
  const platform = await findPlatform(ctx.store.db, row.platform_id);
  const connected = await findActiveConnection(ctx.store.db, row.platform_id, row.account_id);
  if (!usable || !account || account.deleted_at !== null || !platform || !connected) return { refresh: row.refresh_url };
  return { row, account, platform, onboarding: parseOnboarding(account.onboarding) ?? freshOnboarding() };
}

/** The first step not done yet; an account complete from the start has only the review left. */
export function currentStep(f: Pick<Flow, 'account' | 'onboarding'>): Step {
  const o = f.onboarding;
  if (f.account.password_hash === null) return 'login';
  if (!o.business_type || !f.account.business_name || !f.account.url || !o.product_description || !o.support_phone) return 'business';
  if (!o.external_account) return 'bank';
  return 'review';
}

/** A step the person may open: one done or the current one; never the sign-in once it exists. */
export function canOpen(f: Pick<Flow, 'account' | 'onboarding'>, step: Step): boolean {
  if (step === 'login' && f.account.password_hash !== null) return false;
  return STEPS.indexOf(step) <= STEPS.indexOf(currentStep(f));
}

export function requirementsOf(f: Pick<Flow, 'account' | 'onboarding'>): string[] {
  return capabilityState(f.account.url, f.onboarding).due;
}

/** The onboarding ended while the person was on a page (account deleted or disconnected, session over). */
export class FlowEnded extends Error {
  constructor(readonly refreshUrl: string) {
    super('onboarding ended');
    this.name = 'FlowEnded';
  }
}

/**
 * One change to the account, with account.updated for every platform that sees a difference. What
 * loadFlow checked is checked again under the account's lock: a delete, a disconnection or the end
 * of the session that committed meanwhile wins (docs/contract.md Part B §8.3).
 */
async function change(ctx: Context, f: Flow, requestId: string, build: (account: AccountsTable, o: Onboarding) => AccountChanges | Promise<AccountChanges>): Promise<AccountsTable> {
  return ctx.store.transaction(async (trx: Db) => {
    const before = await lockAccount(trx, f.account.id);
    const session = await findOnboardingSession(trx, f.row.id);
    const connected = await findActiveConnection(trx, f.row.platform_id, f.account.id);
    if (!before || before.deleted_at !== null || !connected || !session || session.finished_at !== null || session.expires_at <= ctx.clock.now()) {
      throw new FlowEnded(f.row.refresh_url);
    }
    const changes = await build(before, parseOnboarding(before.onboarding) ?? freshOnboarding());
    await updateAccount(trx, before.id, changes);
    const after = { ...before, ...changes };
    await emitAccountUpdated(trx, ctx, { before, after, origin: { requestId, idempotencyKey: null } });
    return after;
  });
}

/** Whether another account already signs in with this email. */
async function emailTaken(ctx: Context, email: string, accountId: string): Promise<boolean> {
  const holder = await findLoginAccount(ctx.store.db, email);
  return holder !== undefined && holder.id !== accountId;
}

/** Step 1: the email and password the account holder signs in with (a Standard account has its own Dashboard). */
export async function saveLogin(ctx: Context, f: Flow, body: Record<string, unknown>, requestId: string): Promise<void> {
  const email = text(body.email).toLowerCase();
  const password = typeof body.password === 'string' ? body.password : '';
  checkEmail(email);
  checkPassword(password);
  if (await emailTaken(ctx, email, f.account.id)) throw new FormError('Another account already signs in with this email. Use another address.', 'email');
  const passwordHash = await hashPassword(password);
  try {
    await change(ctx, f, requestId, (a) => {
      // A sign-in, once chosen, is the holder's: a later link (the platform's) cannot replace it.
      if (a.password_hash !== null) throw new FormError('This account already has a sign-in. Its holder changes it from their dashboard.');
      return { email, password_hash: passwordHash };
    });
  } catch (err) {
    // Two accounts raced for one email: the unique index decided.
    if (!(err instanceof FormError) && !(err instanceof FlowEnded) && (await emailTaken(ctx, email, f.account.id))) {
      throw new FormError('Another account already signs in with this email. Use another address.', 'email');
    }
    throw err;
  }
}

const BUSINESS_TYPES: BusinessType[] = ['individual', 'company', 'non_profit', 'government_entity'];

/** Step 2: the business, as Stripe's onboarding asks for it. */
export async function saveBusiness(ctx: Context, f: Flow, body: Record<string, unknown>, requestId: string): Promise<void> {
  const type = text(body.business_type) as BusinessType;
  const name = text(body.business_name);
  const url = text(body.url);
  const description = text(body.product_description);
  const phone = text(body.support_phone);
  if (!BUSINESS_TYPES.includes(type)) throw new FormError('Choose the type of business.', 'business_type');
  if (!name || name.length > 200) throw new FormError('Enter the business name (up to 200 characters).', 'business_name');
  if (!isHttpUrl(url, 500)) throw new FormError('Enter the business website, starting with https:// or http://.', 'url');
  if (!description || description.length > 500) throw new FormError('Describe what the business sells (up to 500 characters).', 'product_description');
  if (!/^\+?[0-9 ()-]{7,30}$/.test(phone)) throw new FormError('Enter a support phone number (digits, spaces, +, - and parentheses).', 'support_phone');
  await change(ctx, f, requestId, (_a, o) => ({
    business_name: name,
    url,
    onboarding: JSON.stringify({ ...o, business_type: type, product_description: description, support_phone: phone }),
  }));
}

/** Step 3: the bank account payouts go to; in test mode, Stripe's test routing and account numbers. */
export async function saveBank(ctx: Context, f: Flow, body: Record<string, unknown>, requestId: string): Promise<void> {
  const routing = text(body.routing_number);
  const number = text(body.account_number);
  if (!/^\d{9}$/.test(routing)) throw new FormError('Enter the 9-digit routing number.', 'routing_number');
  if (!/^\d{4,17}$/.test(number)) throw new FormError('Enter the account number (4 to 17 digits).', 'account_number');
  if (f.row.livemode === 0 && routing !== TEST_BANK_ACCOUNT.routing_number) throw new FormError(`In test mode, use the test routing number ${TEST_BANK_ACCOUNT.routing_number}.`, 'routing_number');
  const bank = { ...TEST_BANK_ACCOUNT, routing_number: routing, last4: number.slice(-4), bank_name: f.row.livemode === 0 ? TEST_BANK_ACCOUNT.bank_name : 'BANK' };
  await change(ctx, f, requestId, (_a, o) => ({ onboarding: JSON.stringify({ ...o, external_account: bank }) }));
}

/** Step 4: the terms, then submitted: details_submitted, and charges and payouts once nothing is due. */
export async function finish(ctx: Context, f: Flow, body: Record<string, unknown>, who: { ip: string; userAgent: string | null }, requestId: string): Promise<string> {
  if (body.tos !== 'accepted') throw new FormError('Accept the services agreement to finish.', 'tos');
  await change(ctx, f, requestId, (a, o) => {
    // Checked on the locked row: an update that committed meanwhile may have cleared a detail.
    if (currentStep({ account: a, onboarding: o }) !== 'review') throw new FormError('Some details are still missing: complete the steps above first.');
    return { onboarding: JSON.stringify({ ...o, tos_acceptance: o.tos_acceptance ?? { date: ctx.clock.now(), ip: who.ip, user_agent: who.userAgent }, details_submitted: true }) };
  });
  await finishOnboardingSession(ctx.store.db, f.row.id, ctx.clock.now());
  return f.row.return_url;
}

/**
 * Test mode's shortcut (what Stripe's test-mode onboarding offers): every missing detail filled with
 * test data, and the onboarding finished. Without a password chosen first, the account has no sign-in.
 */
export async function fillTestData(ctx: Context, f: Flow, who: { ip: string; userAgent: string | null }, requestId: string): Promise<string> {
  if (f.row.livemode !== 0) throw new PageError(400, 'Test mode only', 'Test data can fill only a test-mode onboarding.');
  await change(ctx, f, requestId, (a, o) => ({
    email: a.email || `${a.id.toLowerCase()}@example.com`,
    business_name: a.business_name ?? 'Test business',
    url: a.url ?? 'https://example.com',
    onboarding: JSON.stringify({
      ...o,
      business_type: o.business_type ?? 'individual',
      product_description: o.product_description ?? 'Test business created with test data',
      support_phone: o.support_phone ?? '+15555550100',
      external_account: o.external_account ?? TEST_BANK_ACCOUNT,
      tos_acceptance: o.tos_acceptance ?? { date: ctx.clock.now(), ip: who.ip, user_agent: who.userAgent },
      details_submitted: true,
    } satisfies Onboarding),
  }));
  await finishOnboardingSession(ctx.store.db, f.row.id, ctx.clock.now());
  return f.row.return_url;
}
