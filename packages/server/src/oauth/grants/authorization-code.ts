// grant_type=authorization_code (docs/contract.md Part A "Codes", Part B §2.2, §2.5, §2.6).
// Reads top to bottom like the contract: presence, lookup, ownership, mode, replay, expiry,
// redirect_uri and PKCE bindings, then one transaction that consumes and mints.
import { createHash } from 'node:crypto';
import { credentialFailure, OAuthError, oauth } from '../../domain/errors.ts';
import { newConnectionId, newRefreshToken, patterns } from '../../domain/ids.ts';
import { mintAccessToken } from '../access-token.ts';
import { constantTimeEqual } from '../../domain/secrets.ts';
import type { Context } from '../../context.ts';
import { consumeCode, findCode, setCodeConnection } from '../../store/codes.ts';
import { recordResponse } from '../../store/idempotency.ts';
import {
  findActiveConnection,
  findConnection,
  insertConnectionIfNone,
  insertRefreshToken,
  lockActiveConnection,
  revokeRefreshTokensOfScope,
  updateConnectionGrant,
} from '../../store/connections.ts';
import { publishableKey, revokeAccessTokens } from '../../store/keys.ts';
import type { Platform } from '../../store/platforms.ts';
import type { AuthorizationCodesTable, ConnectionsTable, Db } from '../../store/schema.ts';
import { emitApplicationEvent, type EventOrigin } from '../../webhooks/events.ts';
import type { AuthenticatedClient } from '../client-auth.ts';
import { echo, param, type Params } from '../params.ts';
import { revokeConnection } from '../revoke-connection.ts';
import { tokenResponse, type TokenResponse } from '../token-response.ts';

const REPLAYED = 'This authorization code has already been used. All tokens issued with this code have been revoked.';

export async function authorizationCodeGrant(
  ctx: Context,
  client: AuthenticatedClient,
  params: Params,
  origin: EventOrigin,
): Promise<TokenResponse> {
  const code = param(params, 'code');
  if (!code) throw oauth.invalidRequest('No code provided');
  // `scope` "has no effect" on this grant (docs/contract.md Part B §2.2), but a malformed one is still rejected.
  param(params, 'scope');
  const redirectUri = param(params, 'redirect_uri');
  const verifier = param(params, 'code_verifier');

  const codeHash = ctx.hash(code);
  const found = patterns.code.test(code) ? await findCode(ctx.store.db, codeHash) : undefined;
  const shown = echo(code, patterns.code);
  if (!found) throw credentialFailure(oauth.invalidGrant(shown ? `Authorization code does not exist: ${shown}` : 'Authorization code does not exist'));
  // Another platform's code is refused and, deliberately, not burnt (docs/contract.md Part A "Codes").
  if (!client.platform || found.platform_id !== client.platform.account_id) {
    throw oauth.invalidGrant('Authorization code provided does not belong to you');
  }
  const platform = client.platform;
  if (found.livemode === 0 && client.mode === 'live') {
    throw oauth.invalidGrant('Passed in livemode API key but authorization code only supports returning test keys');
  }
  if (found.consumed_at === null && found.expires_at <= ctx.clock.now()) throw oauth.invalidGrant('Authorization code expired');
  if (found.consumed_at === null) checkBindings(found, redirectUri, verifier);

  const outcome = await ctx.store.transaction(async (trx) => {
    const consumed = await consumeCode(trx, codeHash, ctx.clock.now());
    if (!consumed) {
      const current = await findCode(trx, codeHash);
      if (current?.consumed_at == null) return { kind: 'expired' as const };
      await revokeReplayed(trx, ctx, current, platform, origin);
      const error = oauth.invalidGrant(REPLAYED);
      await recordResponse(trx, { error });
      return { kind: 'replayed' as const, error };
    }
    const body = await mint(trx, ctx, client, platform, consumed, origin);
    // The Idempotency-Key's answer commits with the tokens: a retry after a crash replays it.
    await recordResponse(trx, { body });
    return { kind: 'ok' as const, body };
  });
  if (outcome.kind === 'expired') throw oauth.invalidGrant('Authorization code expired');
  if (outcome.kind === 'replayed') throw outcome.error;
  return outcome.body;
}

function checkBindings(code: AuthorizationCodesTable, redirectUri: string | undefined, verifier: string | undefined): void {
  // Stripe's SDKs never send redirect_uri; when a client does, it must be the one used (docs/security-model.md CD-05).
  if (redirectUri !== undefined && redirectUri !== code.redirect_uri) {
    throw oauth.invalidGrant('redirect_uri does not match the redirect_uri used in the authorization request');
  }
  // PKCE extension (docs/contract.md Part A "Beyond Stripe"; RFC 7636 §4.6, RFC 9700 §4.8.2 downgrade defence).
  if (code.code_challenge === null) {
    if (verifier !== undefined) throw oauth.invalidGrant('code_verifier provided but the authorization request had no code_challenge');
    return;
  }
  if (verifier === undefined) throw oauth.invalidGrant('code_verifier is required for this authorization code');
  const computed = /^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)
    ? createHash('sha256').update(verifier, 'ascii').digest('base64url')
    : '';
  if (!constantTimeEqual(computed, code.code_challenge)) throw oauth.invalidGrant('code_verifier does not match the code_challenge');
}

/** Replay ends the connection made with the code, in the same transaction (docs/contract.md Part A "Codes"). */
async function revokeReplayed(trx: Db, ctx: Context, code: AuthorizationCodesTable, platform: Platform, origin: EventOrigin) {
  if (!code.connection_id) return;
  const connection = await findConnection(trx, code.connection_id);
  if (!connection || connection.revoked_at !== null) return;
  await revokeConnection(trx, ctx, { connection, platform, reason: 'code_replay', livemode: code.livemode === 1, origin });
}

async function mint(
  trx: Db,
  ctx: Context,
  client: AuthenticatedClient,
  platform: Platform,
  code: AuthorizationCodesTable,
  origin: EventOrigin,
): Promise<TokenResponse> {
  const now = ctx.clock.now();
  // The first connection of the pair is the common case: try the insert first (the partial unique
  // index refuses it when an active connection exists), and only then look for the existing one.
  const fresh: ConnectionsTable = {
    id: newConnectionId(),
    platform_id: platform.account_id,
    account_id: code.account_id,
    livemode: code.livemode,
    scope: code.scope,
    created: now,
    revoked_at: null,
    revoked_reason: null,
  };
  let connection: ConnectionsTable | undefined;
  if (await insertConnectionIfNone(trx, fresh)) {
    connection = fresh;
    // First connection, or again after a deauthorization (docs/contract.md Part A "Events").
    await emitApplicationEvent(trx, ctx, {
      type: 'account.application.authorized',
      platform,
      accountId: code.account_id,
      livemode: code.livemode === 1,
      origin,
    });
  } else {
    const existing = await findActiveConnection(trx, platform.account_id, code.account_id);
    // Locked, and re-read: a concurrent deauthorization may have ended it meanwhile (then the
    // insert is tried again).
    connection = existing && (await lockActiveConnection(trx, existing.id));
    if (!connection) return mint(trx, ctx, client, platform, code, origin);
    // Reauthorizing keeps the connection; a live grant upgrades a test-only one. A narrower scope
    // takes effect now: the wider tokens issued before are revoked.
    const livemode = Math.max(connection.livemode, code.livemode);
    if (code.scope === 'read_only' && connection.scope === 'read_write') {
      await revokeAccessTokens(trx, connection.id, now, { scope: 'read_write', mode: 'test' });
      await revokeAccessTokens(trx, connection.id, now, { scope: 'read_write', mode: 'live' });
      await revokeRefreshTokensOfScope(trx, connection.id, 'read_write', now);
    }
    await updateConnectionGrant(trx, connection.id, livemode, code.scope);
  }
  await setCodeConnection(trx, code.hash, connection.id);

  const accessToken = await mintAccessToken(trx, ctx, { accountId: code.account_id, mode: client.mode, connectionId: connection.id, scope: code.scope });
  const refreshToken = newRefreshToken();
  await insertRefreshToken(trx, {
    hash: ctx.hash(refreshToken),
    connection_id: connection.id,
    platform_id: platform.account_id,
    account_id: code.account_id,
    scope: code.scope,
    livemode: code.livemode,
    created: now,
    revoked_at: null,
  });
  const pk = await publishableKey(trx, code.account_id, client.mode);
  if (!pk) throw new OAuthError('invalid_grant', 'The connected account has no publishable key for this mode');
  return tokenResponse({
    accessToken,
    mode: client.mode,
    refreshToken,
    publishableKey: pk,
    accountId: code.account_id,
    scope: code.scope,
  });
}
