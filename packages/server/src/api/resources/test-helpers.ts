// POST /v1/test_helpers/oauth/authorize (docs/contract.md Part A "Test-mode shortcut"): with the
// platform's test secret key, creates a fresh test account, authorizes it and returns the code.
// It never connects an existing account.
// A /v1 handler that drives the OAuth interaction's own rules (oauth/authorize.ts, oauth/interaction.ts).
import { ApiError, AuthorizePageError } from '../../domain/errors.ts';
import type { Context } from '../../context.ts';
import type { ApiCaller } from '../authenticate.ts';
import type { ApiRoute } from '../route-table.ts';
import { validateAuthorizeRequest } from '../../oauth/authorize.ts';
import { createTestAccount, issueCode } from '../../oauth/interaction.ts';
import type { Params } from '../../oauth/params.ts';
import { recordResponse } from '../../store/idempotency.ts';
import { findPlatformByClientId } from '../../store/platforms.ts';

async function testHelperAuthorize(ctx: Context, caller: ApiCaller, body: Params) {
  if (caller.mode !== 'test' || caller.viaAccessToken || caller.stripeAccount) {
    throw new ApiError(400, 'Test helpers are available only with your test secret key, without Stripe-Account.');
  }
  const allowed = new Set(['client_id', 'scope', 'redirect_uri', 'state', 'stripe_user', 'code_challenge', 'code_challenge_method']);
  for (const name of Object.keys(body)) {
    if (!allowed.has(name)) throw new ApiError(400, `Received unknown parameter: ${name}`, { code: 'parameter_unknown', param: name });
  }
  if (body.client_id === undefined) {
    throw new ApiError(400, 'Missing required param: client_id.', { code: 'parameter_missing', param: 'client_id' });
  }
  // Ownership first: another platform's client_id must not reveal its redirect settings.
  const own = typeof body.client_id === 'string' ? await findPlatformByClientId(ctx.store.db, body.client_id) : undefined;
  if (!own || own.account_id !== caller.keyAccountId) {
    throw new ApiError(400, 'The client_id does not belong to the platform of this API key.', { param: 'client_id' });
  }
  let validated;
  try {
    validated = await validateAuthorizeRequest(ctx, { ...body, response_type: 'code' });
  } catch (err) {
    if (!(err instanceof AuthorizePageError)) throw err;
    const b = err.body as { error?: unknown; error_description?: unknown };
    const message = typeof b.error_description === 'string' ? b.error_description : 'No application matches the supplied client identifier';
    const param = b.error === 'invalid_redirect_uri' ? 'redirect_uri' : b.error === 'invalid_scope' ? 'scope' : undefined;
    throw new ApiError(400, message, { param });
  }
  const { params, platform } = validated;
  if (platform.account_id !== caller.keyAccountId) {
    throw new ApiError(400, 'The client_id does not belong to the platform of this API key.', { param: 'client_id' });
  }
  if (params.mode !== 'test') {
    throw new ApiError(400, 'Use the development client_id: this helper creates test-mode connections only.', { param: 'client_id' });
  }
  return ctx.store.transaction(async (trx) => {
    const accountId = await createTestAccount(trx, ctx, params.prefill, 'test');
    const { code, redirectUrl } = await issueCode(trx, ctx, params, accountId);
    const body = { code, redirect_url: redirectUrl, stripe_user_id: accountId };
    await recordResponse(trx, { body });
    return body;
  });
}

export const testHelperRoutes: ApiRoute[] = [
  {
    method: 'POST',
    path: '/v1/test_helpers/oauth/authorize',
    access: 'write',
    handler: (ctx, req) => testHelperAuthorize(ctx, req.caller, req.params),
  },
];
