// One typed configuration, validated at start; the only reader of process.env.
import { parseArgs } from 'node:util';
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const schema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  database: z.string().min(1),
  seed: z.string().min(1).optional(),
  logLevel: z.enum(LOG_LEVELS),
  publicUrl: z.url().optional(),
  /** Server secret for keyed hashes and sealing; generated and kept in the database if absent. */
  secret: z.string().min(32).optional(),
  // Contract Part A "Codes": 300 s by default, at most 600 s (security plan CD-03).
  codeTtl: z.coerce.number().int().min(1).max(600),
  apiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/),
  environment: z.enum(['development', 'production']),
  webhookRetry: z.enum(['standard', 'fast']),
  webhookLeaseMs: z.coerce.number().int().min(100).max(600_000),
  webhookPollMs: z.coerce.number().int().min(10).max(60_000),
  /**
   * Test hooks for the crash tests (docs/configuration.md): seconds added
   * to the clock, and a POST path after whose committed handler the process kills itself.
   * Inert unless set; refused in production.
   */
  testClockOffset: z.coerce.number().int().min(-86_400 * 366).max(86_400 * 366),
  testCrashAfterCommit: z.string().regex(/^\/[a-z0-9_/]+$/).optional(),
});

export type Config = z.infer<typeof schema> & { publicUrl: string };

/** Newest API version of the stripe-node release in our lockfile (contract Part A "Events"). */
export const DEFAULT_API_VERSION = '2026-10-28.endive';

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 12111,
  database: './data/connectd.sqlite',
  logLevel: 'info',
  codeTtl: 300,
  apiVersion: DEFAULT_API_VERSION,
  environment: 'development',
  webhookRetry: 'standard',
  webhookLeaseMs: 30_000,
  webhookPollMs: 250,
} as const;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const FLAG_OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  db: { type: 'string' },
  seed: { type: 'string' },
  'log-level': { type: 'string' },
  'public-url': { type: 'string' },
  'code-ttl': { type: 'string' },
  'webhook-retry': { type: 'string' },
  platform: { type: 'string' },
  account: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ParsedCli {
  command: string | undefined;
  positionals: string[];
  flags: { platform?: string | undefined; account?: string | undefined };
  help: boolean;
  config: Config;
}

/** Parses argv and the environment; flags win over environment variables, which win over defaults. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): ParsedCli {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof FLAG_OPTIONS; allowPositionals: true; strict: true; args: string[] }>>;
  try {
    parsed = parseArgs({ args: argv, options: FLAG_OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message.split('\n')[0] ?? 'invalid arguments' : 'invalid arguments');
  }
  const v = parsed.values;
  const raw = {
    host: v.host ?? env.CONNECTD_HOST ?? DEFAULTS.host,
    port: v.port ?? env.CONNECTD_PORT ?? env.PORT ?? DEFAULTS.port,
    database: v.db ?? env.DATABASE_URL ?? env.CONNECTD_DB ?? DEFAULTS.database,
    seed: v.seed ?? env.CONNECTD_SEED,
    logLevel: v['log-level'] ?? env.CONNECTD_LOG_LEVEL ?? DEFAULTS.logLevel,
    publicUrl: v['public-url'] ?? env.CONNECTD_PUBLIC_URL,
    secret: env.CONNECTD_SECRET || undefined,
    codeTtl: v['code-ttl'] ?? env.CONNECTD_CODE_TTL ?? DEFAULTS.codeTtl,
    apiVersion: env.CONNECTD_API_VERSION ?? DEFAULTS.apiVersion,
    environment: env.CONNECTD_ENV ?? DEFAULTS.environment,
    webhookRetry: v['webhook-retry'] ?? env.CONNECTD_WEBHOOK_RETRY ?? DEFAULTS.webhookRetry,
    webhookLeaseMs: env.CONNECTD_WEBHOOK_LEASE_MS ?? DEFAULTS.webhookLeaseMs,
    webhookPollMs: env.CONNECTD_WEBHOOK_POLL_MS ?? DEFAULTS.webhookPollMs,
    testClockOffset: env.CONNECTD_TEST_CLOCK_OFFSET || 0,
    testCrashAfterCommit: env.CONNECTD_TEST_CRASH_AFTER_COMMIT || undefined,
  };
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = String(issue?.path[0] ?? 'config');
    const names: Record<string, string> = {
      host: '--host', port: '--port', database: '--db', seed: '--seed', logLevel: '--log-level',
      publicUrl: '--public-url', secret: 'CONNECTD_SECRET', codeTtl: '--code-ttl',
      apiVersion: 'CONNECTD_API_VERSION', environment: 'CONNECTD_ENV', webhookRetry: '--webhook-retry',
      webhookLeaseMs: 'CONNECTD_WEBHOOK_LEASE_MS', webhookPollMs: 'CONNECTD_WEBHOOK_POLL_MS',
      testClockOffset: 'CONNECTD_TEST_CLOCK_OFFSET', testCrashAfterCommit: 'CONNECTD_TEST_CRASH_AFTER_COMMIT',
    };
    throw new ConfigError(`invalid value for ${names[field] ?? field}: ${issue?.message ?? 'invalid'}`);
  }
  const c = result.data;
  if (c.environment === 'production' && (c.testClockOffset !== 0 || c.testCrashAfterCommit !== undefined)) {
    throw new ConfigError('CONNECTD_TEST_CLOCK_OFFSET and CONNECTD_TEST_CRASH_AFTER_COMMIT are test hooks, refused when CONNECTD_ENV=production');
  }
  const hostForUrl = c.host.includes(':') ? `[${c.host}]` : c.host === '0.0.0.0' ? '127.0.0.1' : c.host;
  return {
    command: parsed.positionals[0],
    positionals: parsed.positionals.slice(1),
    flags: { platform: v.platform, account: v.account },
    help: v.help ?? false,
    config: { ...c, publicUrl: (c.publicUrl ?? `http://${hostForUrl}:${c.port}`).replace(/\/$/, '') },
  };
}

export const HELP = `connectd — a self-hosted Stripe Connect OAuth provider (Standard accounts)

Usage:
  connectd serve   [options]   run the server (creates and migrates the database)
  connectd migrate [--db …]    apply database migrations and exit
  connectd trigger TYPE --platform ca_… --account acct_… [--db …]
                               produce account.application.authorized|deauthorized
                               through the real path (a running server delivers it)
  connectd --help              show this help

Options (environment variable in brackets):
  --host HOST         listen address, default 127.0.0.1            [CONNECTD_HOST]
  --port PORT         listen port, default 12111 (0 = any free)    [CONNECTD_PORT]
  --db PATH|:memory:  SQLite file, default ./data/connectd.sqlite  [CONNECTD_DB]
                      postgres://… selects PostgreSQL              [DATABASE_URL]
  --seed FILE         JSON seed of accounts, keys and platforms    [CONNECTD_SEED]
                      (without it, a demo platform and merchant are seeded)
  --log-level LEVEL   ${LOG_LEVELS.join('|')}, default info        [CONNECTD_LOG_LEVEL]
  --public-url URL    origin used in links and redirects           [CONNECTD_PUBLIC_URL]
  --code-ttl SECONDS  authorization code lifetime, 1..600, default 300 [CONNECTD_CODE_TTL]
  --webhook-retry M   standard (Stripe-like: 3 days live, 3 retries over hours in test)
                      or fast (1 s, 2 s, 4 s, … for local work and tests) [CONNECTD_WEBHOOK_RETRY]
                      delivery lease in ms, default 30000       [CONNECTD_WEBHOOK_LEASE_MS]
                      delivery poll interval in ms, default 250 [CONNECTD_WEBHOOK_POLL_MS]
                      server secret for keyed hashes (≥32 chars)   [CONNECTD_SECRET]
                      API version stamped on events                [CONNECTD_API_VERSION]
                      development|production                       [CONNECTD_ENV]
`;
