// /v1 at the edge: authenticate (key or access token, Stripe-Account), enforce the route's
// declared access, Idempotency-Key on every POST, then the framework-free handler.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../domain/errors.ts';
import type { Context } from '../../context.ts';
import { authenticateApi } from '../../api/authenticate.ts';
import type { ApiRoute } from '../../api/route-table.ts';
import { API_ROUTES } from '../../api/routes.ts';
import { enforceScope } from '../../api/scope-guard.ts';
import { readIdempotencyKey, respondIdempotent, type IdempotencyErrors } from '../idempotency.ts';
import { asParams, nulParam, pathOf } from '../parse.ts';
import { toWire } from '../wire-errors.ts';

const IDEMPOTENCY_ERRORS: IdempotencyErrors = {
  mismatch: (key) =>
    new ApiError(400, `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`, { type: 'idempotency_error' }),
  inFlight: (key) =>
    new ApiError(409, `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`, { code: 'idempotency_key_in_use' }),
};

/**
 * Stripe stores the result once the endpoint begins executing, errors included, but nothing when
 * parameters fail validation (docs/contract.md Part B §5.5): a corrected retry may reuse the key.
 */
const storedError = (requestId: string) => (err: unknown) =>
  err instanceof ApiError && err.status < 500 && err.status !== 400 && err.status !== 409 ? { status: err.status, body: toWire(err, 'api', requestId).body } : null;

function handlerFor(ctx: Context, route: ApiRoute) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const path = (req.params ?? {}) as Record<string, string>;
    const caller = await authenticateApi(ctx, {
      authorization: req.headers.authorization,
      stripeAccount: req.headers['stripe-account'],
      impliedAccount: route.impliesAccount?.(path),
    });
    if (route.ownKeyOnly && (caller.viaAccessToken || (caller.accountId !== caller.keyAccountId && !route.onBehalf))) {
      throw new ApiError(400, 'This endpoint is only available with your own secret key, without Stripe-Account.');
    }
    enforceScope(caller, route.access);
    const params = route.method === 'POST' ? asParams(req.body) : asParams(req.query);
    const nul = nulParam(path, '') ?? nulParam(params, '');
    if (nul !== null) throw new ApiError(400, `Invalid ${nul}: NUL characters are not allowed.`, { code: 'parameter_invalid_string', param: nul });
    const idem = readIdempotencyKey(req.headers['idempotency-key']);
    if ('error' in idem) throw new ApiError(400, idem.error);
    const run = () => route.handler(ctx, { caller, params, path, requestId: req.id, idempotencyKey: idem.key });
    if (route.method === 'POST' && idem.key) {
      // Scoped by key and Stripe-Account (docs/contract.md Part A "Idempotency").
      const scope = `${caller.keyHash}:${caller.stripeAccount ?? ''}`;
      return respondIdempotent(ctx, reply, { scope, key: idem.key, method: req.method, path: pathOf(req.url), params }, run, storedError(req.id), IDEMPOTENCY_ERRORS);
    }
    return run();
  };
}

export function apiRoutes(app: FastifyInstance, ctx: Context): void {
  for (const route of API_ROUTES) app.route({ method: route.method, url: route.path, handler: handlerFor(ctx, route) });
}
