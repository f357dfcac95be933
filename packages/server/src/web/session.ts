// Browser sessions: random id in an HttpOnly cookie, only its keyed hash stored; a CSRF token
// per session; a new id at every login (docs/security-model.md AC-14, AC-15, UI-06).
import { randomBase62 } from '../domain/ids.ts';
import { constantTimeEqual } from '../domain/secrets.ts';
import type { Context } from '../context.ts';
import { deleteSession, findSession, insertSession, rebindAuthorizeRequests } from '../store/sessions.ts';

export const SESSION_TTL = 12 * 3600;
/** A visitor who has not signed in keeps a row for an hour at most (docs/security.md "Throttling"). */
export const ANONYMOUS_SESSION_TTL = 3600;

export interface Session {
  hash: string;
  accountId: string | null;
  csrf: string;
}

export interface CookieSpec {
  name: string;
  secure: boolean;
}

/** `__Host-` prefix and Secure over https; a plain name on http://127.0.0.1 during development. */
export function cookieSpec(publicUrl: string): CookieSpec {
  const secure = publicUrl.startsWith('https://');
  return { name: secure ? '__Host-connectd_session' : 'connectd_session', secure };
}

export async function loadSession(ctx: Context, cookieValue: string | undefined): Promise<Session | null> {
  if (!cookieValue || !/^[A-Za-z0-9]{43}$/.test(cookieValue)) return null;
  const row = await findSession(ctx.store.db, ctx.hash(cookieValue), ctx.clock.now());
  return row ? { hash: row.hash, accountId: row.account_id, csrf: row.csrf } : null;
}

export async function startSession(ctx: Context, accountId: string | null): Promise<{ cookieValue: string; session: Session }> {
  const cookieValue = randomBase62(43);
  const now = ctx.clock.now();
  const session: Session = { hash: ctx.hash(cookieValue), accountId, csrf: randomBase62(32) };
  await insertSession(ctx.store.db, { hash: session.hash, account_id: accountId, csrf: session.csrf, created: now, expires_at: now + (accountId ? SESSION_TTL : ANONYMOUS_SESSION_TTL) });
  return { cookieValue, session };
}

/** Login: a brand-new session id (no fixation); pending authorize requests follow it. */
export async function rotateSession(ctx: Context, previous: Session | null, accountId: string) {
  const next = await startSession(ctx, accountId);
  if (previous) {
    await rebindAuthorizeRequests(ctx.store.db, previous.hash, next.session.hash);
    await deleteSession(ctx.store.db, previous.hash);
  }
  return next;
}

export async function endSession(ctx: Context, session: Session): Promise<void> {
  await deleteSession(ctx.store.db, session.hash);
}

export function csrfMatches(session: Session, submitted: unknown): boolean {
  return typeof submitted === 'string' && constantTimeEqual(submitted, session.csrf);
}
