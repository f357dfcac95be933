// The Fastify application: plugins, parsing, Request-Id, routes, and the one error serializer.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { allowedHostChecker } from '../domain/allowed-host.ts';
import { ApiError, isCredentialFailure, OAuthError, PageError, ThrottledError } from '../domain/errors.ts';
import { newRequestId } from './request-id.ts';
import { lazyRequestLogger } from './request-logger.ts';
import { AuthFailureLocks } from '../web/throttle.ts';
import type { Context } from '../context.ts';
import { errorPage } from '../web/layout.ts';
import { parseMultipart } from './multipart.ts';
import { asParams, malformedEncoding, nulParam, parseForm, parseQuery, loggedPathOf, pathOf, wellFormedUrlEncoding } from './parse.ts';
import { apiRoutes } from './routes/api.ts';
import { DatabaseHealth, healthRoutes } from './routes/health.ts';
import { metadataRoute, oauthApiRoutes } from './routes/oauth.ts';
import { pageRoutes } from './routes/pages.ts';
import { headerSetFor, headerSets } from './security-headers.ts';
import { familyOf, toWire, type Family, type WireError } from './wire-errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's family (wire-errors.ts familyOf), worked out once: see requestFamily. */
    connectdFamily: Family | null;
  }
}

/** The family of a request, from its URL, computed once per request. */
function requestFamily(req: FastifyRequest): Family {
  return (req.connectdFamily ??= familyOf(req.url));
}

const CHARSET = /charset=/i;
const UTF8_CHARSET = /charset="?utf-?8"?/i;

export const BODY_LIMIT = 1024 * 1024;

/**
 * Requests Node's HTTP parser refuses before any route runs (Content-Length with Transfer-Encoding,
 * bad framing, oversized headers; docs/security-model.md BI-63, TR-06). Fastify's default body has a
 * non-OAuth `error` string, which stripe-python cannot handle; this one is an OAuth
 * invalid_request with a Request-Id, like every other response.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const requestId = newRequestId();
  // No request object exists yet, so no reply either: the one serializer's output, written by hand.
  const wire = toWire(new OAuthError('invalid_request', 'The HTTP request could not be parsed.', { status }), 'oauth', requestId);
  const body = JSON.stringify(wire.body);
  const headers = Object.entries(wire.headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
        `Request-Id: ${requestId}\r\n${headers}` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

function misdirected(family: ReturnType<typeof familyOf>): Error {
  const message = 'This server does not answer for that host name. Use the address it prints at start, or add the name with --allowed-hosts.';
  if (family === 'api') return new ApiError(421, message);
  if (family === 'oauth' || family === 'authorize') return new OAuthError('invalid_request', message, { status: 421 });
  return new PageError(421, 'Wrong address', message);
}

/** Writes a WireError: a page for pages, else the JSON envelope toWire built. */
function sendWire(reply: FastifyReply, wire: WireError, family: Family): FastifyReply {
  reply.code(wire.status).headers(wire.headers);
  if (family === 'page' && wire.page) {
    return reply.header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(errorPage(wire.page.title, wire.page.message));
  }
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(wire.body));
}

export async function buildApp(ctx: Context): Promise<FastifyInstance> {
  // Fixed per family, computed once: page protections on pages only (security-headers.ts).
  const headers = headerSets(ctx.config.publicUrl.startsWith('https://'));
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    // Fastify's own request logs include the query string; ours (onResponse below) do not.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    genReqId: () => newRequestId(),
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { querystringParser: parseQuery },
    trustProxy: false,
    return503OnClosing: false,
    forceCloseConnections: false,
    clientErrorHandler,
    // HEAD is not GET here: a HEAD /oauth/authorize must not run the already-connected shortcut.
    exposeHeadRoutes: false,
    // Errors Fastify raises before routing (a malformed URL, say) go through the one serializer.
    frameworkErrors: (err, req, res) => {
      const family = familyOf(req.url);
      const wire = toWire(err, family, String(req.id));
      const reply = (res as unknown as FastifyReply).headers(headerSetFor(headers, family, req.url)).header('Request-Id', String(req.id));
      void sendWire(reply, wire, family);
    },
  });

  // Only form bodies: Stripe's wire format everywhere (docs/contract.md Part B §0, §5.7), urlencoded or multipart
  // made of plain fields (http/multipart.ts). JSON and text are refused with a clear 400 rather
  // than half-parsed.
  app.removeAllContentTypeParsers();
  await app.register(formbody, { parser: parseForm, bodyLimit: BODY_LIMIT });
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (req, body, done) => {
    parseMultipart(String(req.headers['content-type']), body as Buffer).then(
      (params) => done(null, params),
      (err: Error) => done(err, undefined),
    );
  });
  await app.register(rateLimit, { global: false });

  const hostChecker = allowedHostChecker(ctx.config.publicUrl, ctx.config.allowedHosts);
  // Clients send the same few Host values again and again: remember the answers (bounded, so a
  // flood of made-up names cannot grow it).
  const hostAnswers = new Map<string | undefined, boolean>();
  const hostAllowed = (host: string | undefined): boolean => {
    let ok = hostAnswers.get(host);
    if (ok === undefined) {
      ok = hostChecker(host);
      if (hostAnswers.size >= 64) hostAnswers.clear();
      hostAnswers.set(host, ok);
    }
    return ok;
  };
  app.decorateRequest('connectdFamily', null);
  const authLocks = new AuthFailureLocks(ctx);
  const health = new DatabaseHealth();

  // Request-Id on every response (docs/contract.md Part B §5.4); a charset other than UTF-8 is refused (docs/security-model.md BI-40).
  app.addHook('onRequest', async (req, reply) => {
    const family = requestFamily(req);
    reply.headers(headerSetFor(headers, family, req.url)).header('Request-Id', req.id);
    // DNS rebinding: only our own names (docs/security.md "Host header").
    // /healthz is exempt: probes (a container's health check) name the service, and it reveals nothing.
    if (!hostAllowed(req.headers.host) && req.url !== '/healthz') throw misdirected(family);
    // Addresses that sent too many wrong keys, codes or tokens wait (docs/security.md "Throttling").
    if (family === 'oauth' || family === 'api') {
      const wait = await authLocks.retryAfter(req.ip);
      if (wait > 0) throw new ThrottledError(wait, `Too many failed authentication attempts from your address. Try again in ${wait} seconds.`);
    }
    const ct = req.headers['content-type'];
    if (typeof ct === 'string' && CHARSET.test(ct) && !UTF8_CHARSET.test(ct)) {
      const err = Object.assign(new Error('Unsupported charset'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 });
      throw err;
    }
    if (req.headers['content-length'] !== undefined && req.headers['transfer-encoding'] !== undefined) {
      throw Object.assign(new Error('Ambiguous framing'), { code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', statusCode: 400 });
    }
    // qs keeps undecodable values as raw text; on the OAuth endpoints that is a 400, not a guess
    // (docs/security-model.md BI-31). The query parser itself must not throw: it runs inside the router.
    const q = req.url.indexOf('?');
    if ((family === 'authorize' || family === 'oauth') && q >= 0 && !wellFormedUrlEncoding(req.url.slice(q + 1))) {
      throw malformedEncoding();
    }
  });

  // Access log without query strings or bodies: they carry codes, states and secrets (docs/security-model.md SE-04).
  // Its fields are the fixed few below and hold no secret, so the access log skips the redaction pass
  // (several microseconds a line); every other log call keeps it. A callback hook, not an async
  // one: no promise per request for a log line.
  const accessLog = ctx.log.child({}, { redact: { paths: [] } });
  app.addHook('onResponse', (req, reply, done) => {
    accessLog.info({ reqId: req.id, method: req.method, path: loggedPathOf(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });

  // Page forms follow /v1's rule: no NUL characters in names or values (docs/security.md "Input").
  app.addHook('preValidation', (req, _reply, done) => {
    if (req.method !== 'POST' || requestFamily(req) !== 'page') return done();
    const nul = nulParam(asParams(req.body), '');
    done(nul === null ? undefined : new PageError(400, 'Invalid input', `Invalid ${nul}: NUL characters are not allowed.`));
  });

  app.setErrorHandler(async (err, req, reply) => {
    const family = requestFamily(req);
    if (isCredentialFailure(err)) {
      await authLocks.fail(req.ip).catch((e: unknown) => ctx.log.warn({ event: 'throttle.failed', message: e instanceof Error ? e.message : String(e) }, 'counting a failed authentication failed'));
    }
    const wire = toWire(err, family, req.id);
    if (wire.unexpected) {
      const e = err instanceof Error ? err : new Error(String(err));
      ctx.log.error({ reqId: req.id, path: loggedPathOf(req.url), err: { type: e.name, message: e.message, stack: e.stack } }, 'unexpected error');
    } else if (wire.databaseUnavailable) {
      health.unavailable();
      ctx.log.warn({ event: 'database.unavailable', reqId: req.id, path: loggedPathOf(req.url), reason: wire.databaseUnavailable }, 'database unavailable');
    }
    return sendWire(reply, wire, family);
  });

  // Unknown routes go through the error handler like every other refusal, in the path's envelope
  // (any /oauth/ path gets the OAuth one).
  app.setNotFoundHandler(async (req) => {
    const path = pathOf(req.url).slice(0, 200);
    const family = requestFamily(req);
    if (family === 'api') {
      throw new ApiError(404, `Unrecognized request URL (${req.method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`);
    }
    if (family === 'oauth' || path.startsWith('/oauth/')) {
      req.connectdFamily = 'oauth';
      throw new OAuthError('invalid_request', `Unrecognized request URL (${req.method}: ${path}).`, { status: 404 });
    }
    throw new PageError(404, 'Page not found', 'There is no page at this address.');
  });

  healthRoutes(app, ctx, health);
  oauthApiRoutes(app, ctx);
  metadataRoute(app, ctx);
  apiRoutes(app, ctx);
  // Only pages read or set cookies: the cookie plugin's hooks run for them alone, not on every
  // /oauth and /v1 request (issue 8, "the edge does per request only what must be per request").
  await app.register(async (pages) => {
    await pages.register(cookie);
    pageRoutes(pages, ctx);
  });
  return app;
}
