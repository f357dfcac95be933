// GET /healthz: 200 while the database answers, 503 otherwise (the reason goes to the log only).
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../context.ts';
import { databaseUnavailableReason } from '../../store/unavailable.ts';

/**
 * A successful ping vouches for the database this long (docs/configuration.md "Health check and commands"):
 * probes and load balancers polling many times a second cost one query a second, not one each.
 * A failed ping is never reused: every check after it asks the database again.
 */
export const HEALTH_FRESH_MS = 1000;

/** The last good ping; any request that finds the database unavailable forgets it. */
export class DatabaseHealth {
  okUntil = 0;

  unavailable(): void {
    this.okUntil = 0;
  }
}

export function healthRoutes(app: FastifyInstance, ctx: Context, health: DatabaseHealth): void {
  const ok = { status: 'ok', database: ctx.store.dialect };
  app.get('/healthz', async (req, reply) => {
    if (performance.now() < health.okUntil) return ok;
    try {
      await ctx.store.ping();
      health.okUntil = performance.now() + HEALTH_FRESH_MS;
      return ok;
    } catch (err) {
      health.unavailable();
      const reason = databaseUnavailableReason(err) ?? (err instanceof Error ? err.message : String(err));
      ctx.log.warn({ event: 'healthz.unavailable', reqId: req.id, reason }, 'health check failed: database unavailable');
      return reply.code(503).header('Retry-After', '2').send({ status: 'unavailable' });
    }
  });
}
