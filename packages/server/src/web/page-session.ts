// Sessions and forms for page handlers: the session cookie, the CSRF check and sign-in state
// (docs/security-model.md UI-02, BI-34, AC-14).
import { PageError, ThrottledError } from '../domain/errors.ts';
import type { AccountsTable } from '../store/schema.ts';
import { findAccount } from '../store/accounts.ts';
import { RedirectTo, type PageRequest } from './page-route.ts';
import { csrfMatches, loadSession, rotateSession, startSession, type Session } from './session.ts';
import { anonymousRow } from './throttle.ts';

export function currentSession(req: PageRequest): Promise<Session | null> {
  return loadSession(req.ctx, req.cookie);
}

/** Rows stored for visitors without an account are limited per address (docs/security.md "Throttling"). */
export async function countAnonymousRow(req: PageRequest): Promise<void> {
  const wait = await anonymousRow(req.ctx, req.ip);
  if (wait > 0) throw new ThrottledError(wait, `Too many requests from your address. Try again in ${wait} seconds.`);
}

/** The visitor's session, started (and counted) when there is none. */
export async function ensureSession(req: PageRequest): Promise<Session> {
  const existing = await currentSession(req);
  if (existing) return existing;
  await countAnonymousRow(req);
  const { cookieValue, session } = await startSession(req.ctx, null);
  req.setCookie(cookieValue);
  return session;
}

/** CSRF: the session's token, plus Origin and Fetch Metadata as defence in depth (docs/security-model.md UI-02, BI-34). */
export async function formSession(req: PageRequest): Promise<Session> {
  const { origin, fetchSite, hostOrigin } = req.origin;
  const publicOrigin = new URL(req.ctx.config.publicUrl).origin;
  // Under `Referrer-Policy: no-referrer` (docs/security-model.md UI-04) browsers send `Origin: null` on their own form
  // POSTs; accept that only when Fetch Metadata (browser-set, unforgeable by pages) says same-origin.
  const sameOrigin = origin === undefined || origin === publicOrigin || origin === hostOrigin || (origin === 'null' && fetchSite === 'same-origin');
  const session = await currentSession(req);
  if (fetchSite === 'cross-site' || !sameOrigin || !session || !csrfMatches(session, req.body._csrf)) {
    throw new PageError(403, 'Form expired', 'This form could not be accepted: your session expired or the request came from another site. Reload the page and try again.');
  }
  return session;
}

export interface SignedIn {
  session: Session;
  account: AccountsTable;
}

/** The signed-in account; anyone else is sent to sign in and brought back here. */
export async function requireSignIn(req: PageRequest): Promise<SignedIn> {
  const session = await currentSession(req);
  const account = session?.accountId ? await findAccount(req.ctx.store.db, session.accountId) : undefined;
  if (!session || !account || account.deleted_at !== null) throw new RedirectTo(`/login?next=${encodeURIComponent(req.pathname)}`);
  return { session, account };
}

/** A dashboard form: CSRF first, then the signed-in account. */
export async function signedInForm(req: PageRequest): Promise<SignedIn> {
  await formSession(req);
  return requireSignIn(req);
}

/** Sign-in: a new session id (no fixation; docs/security-model.md AC-14); pending authorize requests follow it. */
export async function signIn(req: PageRequest, previous: Session | null, accountId: string): Promise<Session> {
  const { cookieValue, session } = await rotateSession(req.ctx, previous, accountId);
  req.setCookie(cookieValue);
  return session;
}
