// GET /healthz: 200 once the database answers, 503 otherwise.
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../context.ts';

export function healthRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/healthz', async (_req, reply) => {
    try {
      await ctx.store.ping();
      return { status: 'ok', database: ctx.store.dialect };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
}
