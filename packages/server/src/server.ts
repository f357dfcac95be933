// Starting and stopping a server: used by the CLI and by tests (a real server on a loopback port).
import type { FastifyInstance } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config/config.ts';
import type { Clock } from './domain/clock.ts';
import { createContext, type Context } from './context.ts';
import { BatchedLogDestination } from './log-destination.ts';
import { buildApp } from './http/app.ts';
import { applySeed, demoSeed, readSeedFile, type AppliedSeed, type SeededAccount } from './seed.ts';
import { purgeExpired } from './store/maintenance.ts';
import { DEFAULT_WORKER, DeliveryWorker } from './webhooks/worker.ts';

export interface RunningServer {
  app: FastifyInstance;
  ctx: Context;
  /** Origin the server listens on, e.g. http://127.0.0.1:12111. */
  url: string;
  seeded: SeededAccount[];
  /** Settles when the seeded accounts' password hashes are stored (they are computed after listen). */
  passwordsStored: Promise<void>;
  /** Null with `--webhook-worker off`: another process delivers this database's webhooks. */
  worker: DeliveryWorker | null;
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  /** Where logs go (tests capture them); stdout by default. */
  logStream?: DestinationStream;
  pgSchema?: string;
  /** Seed accounts given in code instead of a file (tests). */
  seed?: Parameters<typeof applySeed>[1];
}

/**
 * Shutdown bounds (docs/configuration.md): connections still open this long after close() begins
 * are cut; the CLI exits regardless once SHUTDOWN_DEADLINE_MS has passed (a webhook send in
 * flight may take its 10 s timeout after the connections are closed).
 */
export const CONNECTIONS_GRACE_MS = 10_000;
export const SHUTDOWN_DEADLINE_MS = 25_000;

/** Loggers writing to stdout through an asynchronous destination, and that destination. */
const asyncDestinations = new WeakMap<Logger, BatchedLogDestination>();

/**
 * The logger, to `stream` (tests) or to stdout. Stdout is written asynchronously (issue 8): a log
 * call appends a line, and the lines of one event-loop turn go out in one write, off the request
 * path. Nothing is lost on the way out: what is left is written synchronously when the process
 * exits (process.exit, a fatal error), and a server's close() waits for it (flushLogs).
 */
export function createLogger(config: Config, stream?: DestinationStream): Logger {
  const destination = stream ? null : new BatchedLogDestination(1);
  const log = pino(
    {
      level: config.logLevel,
      base: { pid: process.pid },
      // Defence in depth: our log calls never pass these, but a mistake must not leak them (docs/security-model.md SE-04).
      redact: { paths: ['password', 'code', 'refresh_token', 'access_token', 'client_secret', 'authorization', '*.authorization', 'secret'], censor: '[redacted]' },
    },
    stream ?? destination ?? undefined,
  );
  if (destination) asyncDestinations.set(log, destination);
  return log;
}

/** Resolves once every line logged so far has been handed to the operating system. */
export function flushLogs(log: Logger): Promise<void> {
  const destination = asyncDestinations.get(log);
  if (!destination) return Promise.resolve();
  return new Promise((resolve) => destination.flush(() => resolve()));
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = createLogger(config, opts.logStream);
  const ctx = await createContext(config, log, { ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.pgSchema ? { pgSchema: opts.pgSchema } : {}) });
  let app: FastifyInstance | undefined;
  let applied: AppliedSeed | undefined;
  try {
    const seed = opts.seed ?? (config.seed ? readSeedFile(config.seed) : demoSeed(config.publicUrl));
    applied = await applySeed(ctx, seed);
    const seeded = applied.accounts;
    app = await buildApp(ctx);
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    const running = app;
    const worker =
      config.webhookWorker === 'on'
        ? new DeliveryWorker(ctx, { ...DEFAULT_WORKER, retry: config.webhookRetry, leaseMs: config.webhookLeaseMs, pollMs: config.webhookPollMs })
        : null;
    worker?.start();
    if (!worker) ctx.log.info({ event: 'webhook.worker_off' }, 'webhook worker off (--webhook-worker off): another process delivers');
    // Housekeeping every 10 minutes; never keeps the process alive on its own.
    const purge = () =>
      purgeExpired(ctx.store.db, ctx.clock.now()).then(
        (counts) => ctx.log.debug({ event: 'purge', ...counts }, 'purged expired rows'),
        (err: unknown) => ctx.log.warn({ event: 'purge.failed', message: err instanceof Error ? err.message : String(err) }, 'purge failed'),
      );
    void purge();
    const timer = setInterval(() => void purge(), 10 * 60 * 1000);
    timer.unref();
    return {
      app: running,
      ctx,
      url: `http://${host}:${port}`,
      seeded,
      passwordsStored: applied.passwordsStored,
      worker,
      close: async () => {
        clearInterval(timer);
        await closeHttp(running, ctx);
        await worker?.stop();
        // Seeded passwords not hashed yet are not waited for: the next start hashes them again.
        applied?.abandon();
        await ctx.store.close();
        await flushLogs(log);
      },
    };
  } catch (err) {
    applied?.abandon();
    await app?.close().catch(() => undefined);
    await ctx.store.close();
    throw err;
  }
}

/**
 * Stops accepting and lets requests in flight finish. Node's server.close() ends only the
 * keep-alive connections idle at that moment: one busy then stays open after its response, until
 * its client sends again (Fastify answers that with Connection: close) or keepAliveTimeout (72 s)
 * passes, so a client that just keeps its pool open (a load generator) held the exit that long.
 * Idle connections are therefore closed as they appear, and all of them after the grace period.
 */
async function closeHttp(app: FastifyInstance, ctx: Context): Promise<void> {
  const server = app.server;
  const reaper = setInterval(() => server.closeIdleConnections(), 50);
  const cut = setTimeout(() => {
    ctx.log.warn({ event: 'shutdown.connections_cut', graceMs: CONNECTIONS_GRACE_MS }, 'closing connections still open after the grace period');
    server.closeAllConnections();
  }, CONNECTIONS_GRACE_MS);
  try {
    await app.close();
  } finally {
    clearInterval(reaper);
    clearTimeout(cut);
  }
}
