// /v1 at the edge: authenticate (key or access token, Stripe-Account), enforce the route's
// declared access, Idempotency-Key on every POST, then the framework-free handler.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../domain/errors.ts';
import type { Context } from '../../context.ts';
import { authenticateApi, type ApiCaller } from '../../api/authenticate.ts';
import type { ApiRoute } from '../../api/route-table.ts';
import { API_ROUTES } from '../../api/routes.ts';
import { enforceScope } from '../../api/scope-guard.ts';
import { readIdempotencyKey, runIdempotent } from '../idempotency.ts';
import { asParams, nulParam, pathOf } from '../parse.ts';
import { toWire } from '../wire-errors.ts';

const printable = (key: string) => key.replace(/[^\x20-\x7e]/g, '').slice(0, 255);

/** POST with Idempotency-Key replay (docs/contract.md Part A "Idempotency"), scoped by key and Stripe-Account. */
async function idempotent(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  who: ApiCaller,
  key: string,
  params: Record<string, unknown>,
  run: () => Promise<unknown>,
): Promise<unknown> {
  const outcome = await runIdempotent(
    ctx,
    { scope: `${who.keyHash}:${who.stripeAccount ?? ''}`, key, method: req.method, path: pathOf(req.url), params },
    async () => ({ status: 200, body: await run() }),
    // Stripe stores the result once the endpoint begins executing, errors included, but nothing
    // when parameters fail validation (docs/contract.md Part B §5.5): a corrected retry may reuse the key.
    (err) => (err instanceof ApiError && err.status < 500 && err.status !== 400 && err.status !== 409 ? { status: err.status, body: toWire(err, 'api', req.id).body } : null),
  );
  switch (outcome.kind) {
    case 'fresh':
      return outcome.result.body;
    case 'replayed':
      return reply.code(outcome.status).header('Idempotent-Replayed', 'true').type('application/json; charset=utf-8').send(outcome.body);
    case 'mismatch':
      throw new ApiError(
        400,
        'idempotency_error',
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${printable(key)}' if you meant to execute a different request.`,
      );
    case 'in_flight':
      throw new ApiError(
        409,
        'invalid_request_error',
        `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${printable(key)}. Please try again later.`,
        'idempotency_key_in_use',
      );
  }
}

function handlerFor(ctx: Context, route: ApiRoute) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const path = (req.params ?? {}) as Record<string, string>;
    const caller = await authenticateApi(ctx, {
      authorization: req.headers.authorization,
      stripeAccount: req.headers['stripe-account'],
      impliedAccount: route.impliesAccount?.(path),
    });
    if (route.ownKeyOnly && (caller.viaAccessToken || (caller.accountId !== caller.keyAccountId && !route.onBehalf))) {
      throw new ApiError(400, 'invalid_request_error', 'This endpoint is only available with your own secret key, without Stripe-Account.');
    }
    enforceScope(caller, route.access);
    const params = route.method === 'POST' ? asParams(req.body) : asParams(req.query);
    const nul = nulParam(path, '') ?? nulParam(params, '');
    if (nul !== null) throw new ApiError(400, 'invalid_request_error', `Invalid ${nul}: NUL characters are not allowed.`, 'parameter_invalid_string', nul);
    const idem = readIdempotencyKey(req.headers['idempotency-key']);
    if ('error' in idem) throw new ApiError(400, 'invalid_request_error', idem.error);
    const run = () => route.handler(ctx, { caller, params, path, requestId: req.id, idempotencyKey: idem.key });
    if (route.method === 'POST' && idem.key) return idempotent(ctx, req, reply, caller, idem.key, params, run);
    return run();
  };
}

export function apiRoutes(app: FastifyInstance, ctx: Context): void {
  for (const route of API_ROUTES) app.route({ method: route.method, url: route.path, handler: handlerFor(ctx, route) });
}
