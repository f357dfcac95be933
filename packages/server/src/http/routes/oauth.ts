// /oauth/token and /oauth/deauthorize at the edge: parse, authenticate, idempotency, call the
// framework-free handler, serialize.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../../domain/errors.ts';
import type { Context } from '../../context.ts';
import { authenticateClient, type AuthenticatedClient } from '../../oauth/client-auth.ts';
import { deauthorizeEndpoint } from '../../oauth/deauthorize.ts';
import { tokenEndpoint } from '../../oauth/token.ts';
import type { EventOrigin } from '../../webhooks/events.ts';
import { readIdempotencyKey, respondIdempotent, type IdempotencyErrors } from '../idempotency.ts';
import { asParams, pathOf } from '../parse.ts';
import { toWire } from '../wire-errors.ts';
import { methodNotAllowed } from './method-not-allowed.ts';

type Endpoint = (ctx: Context, client: AuthenticatedClient, params: Record<string, unknown>, origin: EventOrigin) => Promise<unknown>;

const IDEMPOTENCY_ERRORS: IdempotencyErrors = {
  mismatch: (key) =>
    new OAuthError('invalid_request', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`),
  inFlight: () => new OAuthError('invalid_request', 'A request with this Idempotency-Key is still being processed. Retry shortly.', { status: 409 }),
};

function handler(ctx: Context, endpoint: Endpoint) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const params = asParams(req.body);
    const client = await authenticateClient(ctx, { authorization: req.headers.authorization, body: params, query: asParams(req.query) });
    const idem = readIdempotencyKey(req.headers['idempotency-key']);
    if ('error' in idem) throw new OAuthError('invalid_request', idem.error);
    const origin: EventOrigin = { requestId: req.id, idempotencyKey: idem.key };
    reply.type('application/json; charset=utf-8');
    if (!idem.key) return endpoint(ctx, client, params, origin);

    const stripeAccount = req.headers['stripe-account'];
    const scope = `${client.keyHash}:${typeof stripeAccount === 'string' ? stripeAccount : ''}`;
    return respondIdempotent(
      ctx,
      reply,
      { scope, key: idem.key, method: req.method, path: pathOf(req.url), params },
      () => endpoint(ctx, client, params, origin),
      (err) => (err instanceof OAuthError ? { status: err.status, body: toWire(err, 'oauth', req.id).body } : null),
      IDEMPOTENCY_ERRORS,
    );
  };
}

export function oauthApiRoutes(app: FastifyInstance, ctx: Context): void {
  // Token and deauthorize responses are never cacheable (RFC 6749 §5.1; docs/security-model.md TK-08): the
  // fixed header set of every /oauth/ response says so (http/security-headers.ts).
  app.post('/oauth/token', handler(ctx, tokenEndpoint));
  app.post('/oauth/deauthorize', handler(ctx, deauthorizeEndpoint));
  methodNotAllowed(app, '/oauth/token', 'POST');
  methodNotAllowed(app, '/oauth/deauthorize', 'POST');
  // GET /oauth/authorize itself lives with the pages; any other method is 405 (docs/security-model.md BI-32).
  methodNotAllowed(app, '/oauth/authorize', 'GET');
}

/**
 * RFC 8414 metadata, an extension off the Stripe path (docs/contract.md Part A "Beyond Stripe";
 * docs/security-model.md PK-05). URLs come from configuration, never from the Host header (docs/security-model.md TR-03).
 */
export function metadataRoute(app: FastifyInstance, ctx: Context): void {
  app.get('/.well-known/oauth-authorization-server', async () => {
    const base = ctx.config.publicUrl;
    return {
      issuer: base,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['read_only', 'read_write'],
    };
  });
}
