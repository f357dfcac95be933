// GET /healthz: 200 once the database answers, 503 otherwise (the reason goes to the log only).
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../context.ts';
import { databaseUnavailableReason } from '../../store/unavailable.ts';

export function healthRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/healthz', async (req, reply) => {
    try {
      await ctx.store.ping();
      return { status: 'ok', database: ctx.store.dialect };
    } catch (err) {
      const reason = databaseUnavailableReason(err) ?? (err instanceof Error ? err.message : String(err));
      ctx.log.warn({ event: 'healthz.unavailable', reqId: req.id, reason }, 'health check failed: database unavailable');
      return reply.code(503).header('Retry-After', '2').send({ status: 'unavailable' });
    }
  });
}
