// Express adapter: mounts the three routes of routes.ts on an app or router. It translates the
// request and the reply, nothing more. Mount it before a JSON body parser, or exclude the webhook
// path from it: the signature is over the exact bytes received.
import type { NextFunction, Request, Response, Router } from 'express';
import { createConnectRoutes, type ConnectRoutesOptions, type KitReply, type KitRequest } from '../routes.ts';

export interface ExpressContext {
  req: Request;
  res: Response;
}

export interface ExpressPaths {
  /** Default /connect/start */
  start?: string;
  /** Default: the path of `redirectUri`. */
  callback?: string;
  /** Default /connect/webhooks */
  webhook?: string;
  /** Onboarding through an Account Link starts here (POST); default /connect/onboard */
  onboard?: string;
}

/** Webhook payloads are a few kilobytes; Stripe's own limit for a delivery is far below this. */
const WEBHOOK_BODY_LIMIT = 1024 * 1024;

class BodyTooLarge extends Error {}

async function rawBody(req: Request): Promise<Buffer> {
  if (Buffer.isBuffer(req.body)) return req.body; // express.raw() ran first
  if (req.readableEnded) throw new Error('platform-kit: the webhook body was already parsed; mount the webhook route before express.json(), or use express.raw() for it.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > WEBHOOK_BODY_LIMIT) throw new BodyTooLarge();
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function send(res: Response, r: KitReply): void {
  res.status(r.status);
  for (const [name, value] of Object.entries(r.headers)) {
    // A cookie a hook set (res.cookie() in onConnected, say) is kept beside the state cookie.
    if (name === 'set-cookie') res.append(name, value);
    else res.setHeader(name, value);
  }
  res.end(r.body);
}

/** Errors from the app's hooks go to its error handler (next); an oversized webhook body is a 413. */
const handle = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
  fn(req, res).catch((err: unknown) => {
    if (err instanceof BodyTooLarge) {
      res.status(413).set('connection', 'close').type('application/json').end(JSON.stringify({ error: 'The body is too large.' }));
    } else next(err);
  });
};

/** Adds GET start, GET callback and (with `webhook` options) POST webhook to `app`. */
export function mountConnect(app: Pick<Router, 'get' | 'post'>, options: ConnectRoutesOptions<ExpressContext> & { paths?: ExpressPaths }): void {
  const routes = createConnectRoutes(options);
  const paths = { start: '/connect/start', callback: new URL(options.redirectUri).pathname, webhook: '/connect/webhooks', onboard: '/connect/onboard', ...options.paths };
  const request = (req: Request, body?: Buffer): KitRequest => ({ query: req.query as Record<string, unknown>, headers: req.headers, ...(body ? { rawBody: body } : {}) });
  app.get(paths.start, handle(async (req, res) => send(res, await routes.start(request(req), { req, res }))));
  app.get(paths.callback, handle(async (req, res) => send(res, await routes.callback(request(req), { req, res }))));
  if (options.webhook) app.post(paths.webhook, handle(async (req, res) => send(res, await routes.webhook(request(req, await rawBody(req)), { req, res }))));
  const onboarding = options.onboarding;
  if (onboarding) {
    app.post(paths.onboard, handle(async (req, res) => send(res, await routes.onboardStart(request(req), { req, res }))));
    app.get(new URL(onboarding.refreshUrl).pathname, handle(async (req, res) => send(res, await routes.onboardRefresh(request(req), { req, res }))));
    app.get(new URL(onboarding.returnUrl).pathname, handle(async (req, res) => send(res, await routes.onboardReturn(request(req), { req, res }))));
  }
}
