// /v1 at the edge. The full surface (resources, scope guard, idempotency on every POST) is the
// next issue; this serves what the OAuth flow needs: /v1/account and the test helper.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../domain/errors.ts';
import type { Context } from '../../context.ts';
import { retrieveAccount } from '../../api/account.ts';
import { authenticateApi, type ApiCaller } from '../../api/authenticate.ts';
import { testHelperAuthorize } from '../../oauth/test-helper.ts';
import { readIdempotencyKey, runIdempotent } from '../idempotency.ts';
import { asParams } from '../parse.ts';
import { toWire } from '../wire-errors.ts';

function caller(ctx: Context, req: FastifyRequest): Promise<ApiCaller> {
  return authenticateApi(ctx, { authorization: req.headers.authorization, stripeAccount: req.headers['stripe-account'] });
}

/** POST with Idempotency-Key replay (contract Part A "Idempotency"). */
async function idempotentPost(
  ctx: Context,
  req: FastifyRequest,
  reply: FastifyReply,
  who: ApiCaller,
  run: () => Promise<unknown>,
): Promise<unknown> {
  const idem = readIdempotencyKey(req.headers['idempotency-key']);
  if ('error' in idem) throw new ApiError(400, 'invalid_request_error', idem.error);
  if (!idem.key) return run();
  const outcome = await runIdempotent(
    ctx,
    { scope: `${who.keyHash}:${who.stripeAccount ?? ''}`, key: idem.key, method: req.method, path: req.url.split('?')[0] ?? '', params: req.body },
    async () => ({ status: 200, body: await run() }),
    (err) => (err instanceof ApiError && err.status < 500 ? { status: err.status, body: toWire(err, 'api', req.id).body } : null),
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
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idem.key.replace(/[^\x20-\x7e]/g, '')}' if you meant to execute a different request.`,
      );
    case 'in_flight':
      throw new ApiError(409, 'invalid_request_error', 'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ' + idem.key.replace(/[^\x20-\x7e]/g, '') + '. Please try again later.');
  }
}

export function apiRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/v1/account', async (req) => retrieveAccount(ctx, await caller(ctx, req)));
  app.post('/v1/test_helpers/oauth/authorize', async (req, reply) => {
    const who = await caller(ctx, req);
    return idempotentPost(ctx, req, reply, who, () => testHelperAuthorize(ctx, who, asParams(req.body)));
  });
}
