// 405 with Allow for the methods a route does not take (docs/security-model.md TK-01, BI-32, BI-37).
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { familyOf } from '../wire-errors.ts';

const ALL: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export function methodNotAllowed(app: FastifyInstance, url: string, allowed: HTTPMethods): void {
  app.route({
    method: ALL.filter((m) => m !== allowed),
    url,
    handler: async (req, reply) => {
      reply.code(405).header('Allow', allowed);
      const message = `Method ${req.method} is not allowed here; use ${allowed}.`;
      return familyOf(req.url) === 'api'
        ? { error: { message, type: 'invalid_request_error' } }
        : { error: 'invalid_request', error_description: message };
    },
  });
}
