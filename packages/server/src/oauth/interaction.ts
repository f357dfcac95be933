// The authorize interaction (node-oidc-provider's model): a stored record bound to the browser
// session that began it, loaded by each consent page and finished exactly once, with a code, a
// denial, or a fresh test account ("Skip this form"). Pages and the test helper call these;
// nothing here knows HTTP.
import { PageError } from '../domain/errors.ts';
import { newAuthorizationCode, randomBase62, type Mode } from '../domain/ids.ts';
import { appendQuery } from '../domain/redirect-uri.ts';
import type { Context } from '../context.ts';
import { createAccount } from '../store/accounts.ts';
import { connectionCovers, findActiveConnection } from '../store/connections.ts';
import { insertCode } from '../store/codes.ts';
import { findPlatform, type Platform } from '../store/platforms.ts';
import type { Db } from '../store/schema.ts';
import { completeAuthorizeRequest, findAuthorizeRequest, insertAuthorizeRequest } from '../store/sessions.ts';
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

/** An authorize request waiting for the user's answer, an hour at most. */
export const INTERACTION_TTL = 3600;

export interface Interaction {
  id: string;
  params: AuthorizeParams;
  platform: Platform;
}

/** Stores the validated request, bound to the browser session (docs/security-model.md AZ-17). */
export async function beginInteraction(ctx: Context, params: AuthorizeParams, sessionHash: string): Promise<string> {
  const id = randomBase62(32);
  const now = ctx.clock.now();
  await insertAuthorizeRequest(ctx.store.db, {
    id,
    session_hash: sessionHash,
    params: JSON.stringify(params),
    created: now,
    expires_at: now + INTERACTION_TTL,
    completed_at: null,
  });
  return id;
}

/** The stored request, only for the session that began it (docs/security-model.md AZ-17, BI-35). */
export async function loadInteraction(ctx: Context, id: string, sessionHash: string | null): Promise<Interaction> {
  const row = /^[A-Za-z0-9]{32}$/.test(id) ? await findAuthorizeRequest(ctx.store.db, id, ctx.clock.now()) : undefined;
  if (!row) {
    throw new PageError(400, 'Request expired', 'This connection request has expired or was already completed. Return to the platform and start again.');
  }
  if (sessionHash === null || sessionHash !== row.session_hash) {
    throw new PageError(403, 'Wrong browser session', 'This connection request was started in another browser session. Return to the platform and start again.');
  }
  const params = JSON.parse(row.params) as AuthorizeParams;
  const platform = await findPlatform(ctx.store.db, params.platformId);
  if (!platform) throw new PageError(400, 'Platform unavailable', 'This platform no longer accepts connections.');
  return { id: row.id, params, platform };
}

/**
 * Completes the interaction once: the outcome (a redirect URL) commits with the completion mark,
 * and a second answer is refused.
 */
export async function finishInteraction(ctx: Context, interaction: Interaction, sessionHash: string, outcome: (trx: Db) => Promise<string>): Promise<string> {
  const location = await ctx.store.transaction(async (trx) => {
    if (!(await completeAuthorizeRequest(trx, interaction.id, sessionHash, ctx.clock.now()))) return null;
    return outcome(trx);
  });
  if (!location) {
    throw new PageError(409, 'Already answered', 'This connection request was already answered. Return to the platform to start again.');
  }
  return location;
}

/** Allow: a code for the signed-in account. */
export function allow(ctx: Context, interaction: Interaction, sessionHash: string, accountId: string): Promise<string> {
  return finishInteraction(ctx, interaction, sessionHash, async (trx) => (await issueCode(trx, ctx, interaction.params, accountId)).redirectUrl);
}

/** Deny: `error=access_denied` back to the platform. */
export function deny(ctx: Context, interaction: Interaction, sessionHash: string): Promise<string> {
  return finishInteraction(ctx, interaction, sessionHash, async () => denialRedirect(interaction.params));
}

/** "Skip this form" (docs/contract.md Part A "Test-mode shortcut"): development client_id only. */
export function skipForm(ctx: Context, interaction: Interaction, sessionHash: string): Promise<string> {
  if (interaction.params.mode !== 'test') throw new PageError(400, 'Not available', 'Skipping the form is only possible in test mode.');
  return finishInteraction(ctx, interaction, sessionHash, async (trx) => {
    const accountId = await createTestAccount(trx, ctx, interaction.params.prefill, 'test');
    return (await issueCode(trx, ctx, interaction.params, accountId)).redirectUrl;
  });
}
