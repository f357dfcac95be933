// GET /oauth/authorize validation (docs/contract.md Part A "Authorize errors", Part B §1). An ordered
// list of checks: client_id, then redirect_uri; only after both are trusted can anything be
// redirected, and even then only access_denied is (the rest are on-page JSON).
import { AuthorizePageError } from '../domain/errors.ts';
import type { Mode } from '../domain/ids.ts';
import { matchRegisteredRedirectUri, sendableInLocation, usableInMode } from '../domain/redirect-uri.ts';
import { parseScope, type Scope } from '../domain/scopes.ts';
import type { Context } from '../context.ts';
import { findPlatformByClientId, type Platform } from '../store/platforms.ts';
import { sanitizePrefill, type Prefill } from './prefill.ts';
import type { Params } from './params.ts';

export interface AuthorizeParams {
  platformId: string;
  clientId: string;
  mode: Mode;
  scope: Scope;
  redirectUri: string;
  state: string | null;
  landing: 'login' | 'register';
  alwaysPrompt: boolean;
  prefill: Prefill;
  codeChallenge: string | null;
}

/** Longest `state` we echo (docs/security-model.md BI-24): longer would make an oversized Location. */
export const MAX_STATE_BYTES = 2048;

const NO_APPLICATION = { error: { message: 'No application matches the supplied client identifier' } };

type Single = { kind: 'absent' } | { kind: 'value'; value: string } | { kind: 'invalid' };

function single(params: Params, name: string): Single {
  const v = params[name];
  if (v === undefined || v === '') return { kind: 'absent' };
  if (typeof v === 'string') return { kind: 'value', value: v };
  return { kind: 'invalid' };
}

function pageError(error: string, description: string, state: string | null): AuthorizePageError {
  return new AuthorizePageError({ error, error_description: description, ...(state !== null ? { state } : {}) });
}

export async function validateAuthorizeRequest(ctx: Context, params: Params): Promise<{ params: AuthorizeParams; platform: Platform }> {
  // state is echoed in on-page errors only when it is one unambiguous value (docs/security-model.md BI-26).
  const stateParam = single(params, 'state');
  const state = stateParam.kind === 'value' && Buffer.byteLength(stateParam.value) <= MAX_STATE_BYTES ? stateParam.value : null;

  // 1. client_id: unknown, missing or duplicated → REST-shaped page, never a redirect.
  const clientIdParam = single(params, 'client_id');
  // On-page JSON carries state whenever one unambiguous state was sent (docs/contract.md Part B §1.5).
  if (Array.isArray(params.client_id)) throw pageError('invalid_request', 'Duplicate client_id parameter.', state);
  if (clientIdParam.kind !== 'value' || !/^ca_[A-Za-z0-9]{1,64}$/.test(clientIdParam.value)) {
    throw new AuthorizePageError(NO_APPLICATION);
  }
  const clientId = clientIdParam.value;
  const platform = await findPlatformByClientId(ctx.store.db, clientId);
  if (!platform) throw new AuthorizePageError(NO_APPLICATION);
  const mode: Mode = clientId === platform.client_id_live ? 'live' : 'test';

  // 2. redirect_uri: exact match against the registered list; absent → the first usable one.
  const redirectParam = single(params, 'redirect_uri');
  if (redirectParam.kind === 'invalid') throw pageError('invalid_request', 'Duplicate or malformed redirect_uri parameter.', state);
  // A URI registered before registration refused non-ASCII cannot be redirected to: never offered.
  const usable = platform.redirect_uris.filter((u) => usableInMode(u, mode) && sendableInLocation(u));
  let redirectUri: string | null;
  if (redirectParam.kind === 'value') {
    redirectUri = matchRegisteredRedirectUri(redirectParam.value, usable);
    if (!redirectUri) {
      const shown = redirectParam.value.length <= 2000 ? redirectParam.value.replace(/[\u0000-\u001f\u007f]/g, '') : '(too long)';
      throw pageError(
        'invalid_redirect_uri',
        `Invalid redirect URI '${shown}'. Ensure this uri exactly matches one of the uris specified in your application settings`,
        state,
      );
    }
  } else {
    redirectUri = usable[0] ?? null;
    if (!redirectUri) {
      throw pageError('invalid_redirect_uri', 'No redirect URI is registered for this application in this mode.', state);
    }
  }

  // 3. The remaining checks: all on-page (docs/contract.md Part A "Authorize errors"), state echoed when unambiguous.
  for (const name of ['response_type', 'scope', 'state', 'stripe_landing', 'always_prompt']) {
    if (Array.isArray(params[name])) throw pageError('invalid_request', `Duplicate ${name} parameter.`, name === 'state' ? null : state);
  }
  if (stateParam.kind === 'invalid') throw pageError('invalid_request', 'Invalid state parameter.', null);
  if (stateParam.kind === 'value' && state === null) {
    throw pageError('invalid_request', `The state parameter must be at most ${MAX_STATE_BYTES} bytes.`, null);
  }
  const responseType = single(params, 'response_type');
  if (responseType.kind === 'absent') throw pageError('invalid_request', 'Missing response_type parameter.', state);
  if (responseType.kind !== 'value' || responseType.value !== 'code') {
    throw pageError(
      'unsupported_response_type',
      'Unsupported response_type parameter. Currently the only supported response_type is code.',
      state,
    );
  }
  const scopeParam = single(params, 'scope');
  let scope: Scope = 'read_only';
  if (scopeParam.kind === 'invalid') throw pageError('invalid_scope', 'Invalid scope parameter provided.', state);
  if (scopeParam.kind === 'value') {
    const parsed = parseScope(scopeParam.value);
    if (!parsed) throw pageError('invalid_scope', 'Invalid scope parameter provided.', state);
    scope = parsed;
  }

  // PKCE, an extension off the Stripe path (docs/contract.md Part A "Beyond Stripe"): S256 only (RFC 9700 §2.1.1).
  const challenge = single(params, 'code_challenge');
  const method = single(params, 'code_challenge_method');
  let codeChallenge: string | null = null;
  if (challenge.kind !== 'absent') {
    if (challenge.kind !== 'value' || !/^[A-Za-z0-9\-._~]{43,128}$/.test(challenge.value)) {
      throw pageError('invalid_request', 'Invalid code_challenge parameter.', state);
    }
    if (method.kind !== 'value' || method.value !== 'S256') {
      throw pageError('invalid_request', 'code_challenge_method must be S256.', state);
    }
    codeChallenge = challenge.value;
  } else if (method.kind !== 'absent') {
    throw pageError('invalid_request', 'code_challenge_method given without code_challenge.', state);
  } else if (platform.require_pkce === 1) {
    throw pageError('invalid_request', 'This application requires PKCE: send code_challenge with code_challenge_method=S256.', state);
  }

  const landingParam = single(params, 'stripe_landing');
  const landing =
    landingParam.kind === 'value' && (landingParam.value === 'login' || landingParam.value === 'register')
      ? landingParam.value
      : scope === 'read_write'
        ? 'register'
        : 'login';
  const alwaysPrompt = single(params, 'always_prompt');

  return {
    platform,
    params: {
      platformId: platform.account_id,
      clientId,
      mode,
      scope,
      redirectUri,
      state,
      landing,
      alwaysPrompt: alwaysPrompt.kind === 'value' && alwaysPrompt.value === 'true',
      prefill: sanitizePrefill(params.stripe_user),
      codeChallenge,
    },
  };
}
