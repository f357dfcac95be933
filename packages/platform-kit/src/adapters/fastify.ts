// Fastify adapter: a plugin adding the three routes of routes.ts. It translates the request and
// the reply, nothing more. The webhook route reads its body as raw bytes (its own content-type
// parser, scoped to that route): the signature is over the exact bytes received.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createConnectRoutes, type ConnectRoutesOptions, type KitReply, type KitRequest } from '../routes.ts';

export interface FastifyContext {
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface FastifyPaths {
  /** Default /connect/start */
  start?: string;
  /** Default: the path of `redirectUri`. */
  callback?: string;
  /** Default /connect/webhooks */
  webhook?: string;
  /** Onboarding through an Account Link starts here (POST); default /connect/onboard */
  onboard?: string;
}

export type FastifyConnectOptions = ConnectRoutesOptions<FastifyContext> & { paths?: FastifyPaths };

function send(reply: FastifyReply, r: KitReply): FastifyReply {
  return reply.code(r.status).headers(r.headers).send(r.body);
}

/** Register with `app.register(fastifyConnect, options)`. */
export async function fastifyConnect(app: FastifyInstance, options: FastifyConnectOptions): Promise<void> {
  const routes = createConnectRoutes(options);
  const paths = { start: '/connect/start', callback: new URL(options.redirectUri).pathname, webhook: '/connect/webhooks', onboard: '/connect/onboard', ...options.paths };
  const request = (req: FastifyRequest, body?: Buffer): KitRequest => ({ query: req.query as Record<string, unknown>, headers: req.headers, ...(body ? { rawBody: body } : {}) });
  app.get(paths.start, async (req, reply) => send(reply, await routes.start(request(req), { request: req, reply })));
  app.get(paths.callback, async (req, reply) => send(reply, await routes.callback(request(req), { request: req, reply })));
  const onboarding = options.onboarding;
  if (onboarding) {
    app.post(paths.onboard, async (req, reply) => send(reply, await routes.onboardStart(request(req), { request: req, reply })));
    app.get(new URL(onboarding.refreshUrl).pathname, async (req, reply) => send(reply, await routes.onboardRefresh(request(req), { request: req, reply })));
    app.get(new URL(onboarding.returnUrl).pathname, async (req, reply) => send(reply, await routes.onboardReturn(request(req), { request: req, reply })));
  }
  const hook = options.webhook;
  if (hook) {
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      scope.post(paths.webhook, async (req, reply) => send(reply, await routes.webhook(request(req, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)), { request: req, reply })));
    });
  }
}
