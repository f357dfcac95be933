// Server-rendered pages at the edge: build a PageRequest, call the route's handler in web/handlers/,
// write its answer. Sessions, CSRF and the interaction's rules live in web/ and oauth/.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../context.ts';
import { RedirectTo, type PageRequest, type PageResult, type PageRoute } from '../../web/page-route.ts';
import { PAGE_ROUTES } from '../../web/routes.ts';
import { cookieSpec, SESSION_TTL } from '../../web/session.ts';
import { asParams, pathOf } from '../parse.ts';

const LOGIN_RATE = { rateLimit: { max: 30, timeWindow: '1 minute' } };

function send(reply: FastifyReply, result: PageResult): FastifyReply {
  switch (result.kind) {
    case 'html':
      return reply.code(result.status ?? 200).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(result.body);
    case 'redirect':
      return reply.code(result.status ?? 303).header('Location', result.location).header('Cache-Control', 'no-store').send();
    case 'asset':
      return reply.header('Cache-Control', result.cacheControl).type(result.contentType).send(result.body);
  }
}

export function pageRoutes(app: FastifyInstance, ctx: Context): void {
  const cookie = cookieSpec(ctx.config.publicUrl);

  const pageRequest = (req: FastifyRequest, reply: FastifyReply): PageRequest => {
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    return {
      ctx,
      query: asParams(req.query),
      body: asParams(req.body),
      path: (req.params ?? {}) as Record<string, string>,
      ip: req.ip,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 500) : null,
      requestId: req.id,
      pathname: pathOf(req.url),
      origin: { origin, fetchSite: typeof site === 'string' ? site : undefined, hostOrigin: `${req.protocol}://${req.headers.host ?? ''}` },
      cookie: req.cookies[cookie.name],
      setCookie: (value) => void reply.setCookie(cookie.name, value, { path: '/', httpOnly: true, sameSite: 'lax', secure: cookie.secure, maxAge: SESSION_TTL }),
      clearCookie: () => void reply.clearCookie(cookie.name, { path: '/' }),
    };
  };

  const handler = (route: PageRoute) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return send(reply, await route.handler(pageRequest(req, reply)));
    } catch (err) {
      if (err instanceof RedirectTo) return send(reply, { kind: 'redirect', location: err.location, status: 303 });
      throw err;
    }
  };

  for (const route of PAGE_ROUTES) {
    app.route({ method: route.method, url: route.path, ...(route.rateLimited ? { config: LOGIN_RATE } : {}), handler: handler(route) });
  }
}
