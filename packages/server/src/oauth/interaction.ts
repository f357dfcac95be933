// The outcomes of an authorize interaction: a code, a denial, or a fresh test account
// ("Skip this form", the test helper). Pages and the test helper call these.
import { newAuthorizationCode, type Mode } from '../domain/ids.ts';
import { appendQuery } from '../domain/redirect-uri.ts';
import type { Context } from '../context.ts';
import { createAccount } from '../store/accounts.ts';
import { connectionCovers, findActiveConnection } from '../store/connections.ts';
import { insertCode } from '../store/codes.ts';
import type { Db } from '../store/schema.ts';
import { scopeWithin, type Scope } from '../domain/scopes.ts';
import type { AuthorizeParams } from './authorize.ts';
import type { Prefill } from './prefill.ts';

export interface IssuedCode {
  code: string;
  redirectUrl: string;
}

export async function issueCode(db: Db, ctx: Context, params: AuthorizeParams, accountId: string): Promise<IssuedCode> {
  const code = newAuthorizationCode();
  const now = ctx.clock.now();
  await insertCode(db, {
    hash: ctx.hash(code),
    platform_id: params.platformId,
    client_id: params.clientId,
    livemode: params.mode === 'live' ? 1 : 0,
    scope: params.scope,
    redirect_uri: params.redirectUri,
    account_id: accountId,
    code_challenge: params.codeChallenge,
    created: now,
    expires_at: now + ctx.config.codeTtl,
    consumed_at: null,
    connection_id: null,
  });
  // docs/contract.md Part B §1.4: ?scope=…&code=ac_…&state=…, appended to any registered query string.
  return { code, redirectUrl: appendQuery(params.redirectUri, { scope: params.scope, code, state: params.state ?? undefined }) };
}

export function denialRedirect(params: AuthorizeParams): string {
  return appendQuery(params.redirectUri, {
    error: 'access_denied',
    error_description: 'The user denied your request',
    state: params.state ?? undefined,
  });
}

/**
 * Already connected with at least the requested scope, in a mode this request covers, and the
 * platform did not ask to prompt. A wider scope always asks the user again.
 */
export async function canSkipConsent(ctx: Context, params: AuthorizeParams, accountId: string): Promise<boolean> {
  if (params.alwaysPrompt) return false;
  const conn = await findActiveConnection(ctx.store.db, params.platformId, accountId);
  return conn !== undefined && connectionCovers(conn, params.mode) && scopeWithin(params.scope, conn.scope as Scope);
}

/** A fresh test-mode account from the prefill; it has no password and can never log in. */
export async function createTestAccount(db: Db, ctx: Context, prefill: Prefill, mode: Mode): Promise<string> {
  const { account } = await createAccount(db, ctx.hash, ctx.clock.now(), {
    email: prefill.email ?? 'test-account@example.com',
    passwordHash: null,
    businessName: prefill.business_name ?? null,
    country: prefill.country ?? 'US',
    url: prefill.url ?? null,
    testOnly: mode === 'test',
  });
  return account.id;
}
