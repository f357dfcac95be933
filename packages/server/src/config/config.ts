// One typed configuration, validated at start; the only reader of process.env.
import { BlockList, isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { isLocalhostName, type PrivateTargets } from '../webhooks/ssrf.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const schema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  database: z.string().min(1),
  seed: z.string().min(1).optional(),
  logLevel: z.enum(LOG_LEVELS),
  publicUrl: z.url().optional(),
  /** Server secret for keyed hashes and sealing (docs/configuration.md "Server secret"). */
  secret: z.string().min(32).optional(),
  /** Key file holding the server secret when CONNECTD_SECRET is not set; none for `:memory:`. */
  secretFile: z.string().min(1).optional(),
  // docs/contract.md Part A "Codes": 300 s by default, at most 600 s (docs/security-model.md CD-03).
  codeTtl: z.coerce.number().int().min(1).max(600),
  apiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/),
  environment: z.enum(['development', 'production']),
  webhookRetry: z.enum(['standard', 'fast']),
  webhookLeaseMs: z.coerce.number().int().min(100).max(600_000),
  webhookPollMs: z.coerce.number().int().min(10).max(60_000),
  /** Whether this process delivers webhooks (docs/configuration.md): `off` for web-only processes. */
  webhookWorker: z.enum(['on', 'off']),
  /** SQLite commits: `normal` (WAL, synchronous=NORMAL) or `full` (an fsync per commit); docs/configuration.md "Durability". */
  durability: z.enum(['normal', 'full']),
  /** Wrong keys, codes or tokens per address per minute before 429 (docs/security.md "Throttling"). */
  authFailureLimit: z.coerce.number().int().min(1).max(1_000_000),
  /** Host names answered beside the public URL's, IP literals and localhost (docs/security.md). */
  allowedHosts: z.array(z.string().regex(/^[a-z0-9.-]+$/i, 'must be host names separated by commas')),
  webhookPrivateTargets: z.enum(['allow', 'deny']).optional(),
  /**
   * Test hooks for the crash tests (docs/configuration.md): seconds added
   * to the clock, and a POST path after whose committed handler the process kills itself.
   * Inert unless set; refused in production.
   */
  testClockOffset: z.coerce.number().int().min(-86_400 * 366).max(86_400 * 366),
  testCrashAfterCommit: z.string().regex(/^\/[a-z0-9_/]+$/).optional(),
});

export type Config = z.infer<typeof schema> & { publicUrl: string; webhookPrivateTargets: PrivateTargets };

/** Newest API version of the stripe-node release in our lockfile (docs/contract.md Part A "Events"). */
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
  webhookWorker: 'on',
  authFailureLimit: 20,
  durability: 'normal',
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
  'allowed-hosts': { type: 'string' },
  'auth-failure-limit': { type: 'string' },
  durability: { type: 'string' },
  'secret-file': { type: 'string' },
  'code-ttl': { type: 'string' },
  'webhook-retry': { type: 'string' },
  'webhook-private-targets': { type: 'string' },
  'webhook-worker': { type: 'string' },
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
    secretFile: v['secret-file'] ?? env.CONNECTD_SECRET_FILE,
    codeTtl: v['code-ttl'] ?? env.CONNECTD_CODE_TTL ?? DEFAULTS.codeTtl,
    apiVersion: env.CONNECTD_API_VERSION ?? DEFAULTS.apiVersion,
    environment: env.CONNECTD_ENV ?? DEFAULTS.environment,
    webhookRetry: v['webhook-retry'] ?? env.CONNECTD_WEBHOOK_RETRY ?? DEFAULTS.webhookRetry,
    webhookLeaseMs: env.CONNECTD_WEBHOOK_LEASE_MS ?? DEFAULTS.webhookLeaseMs,
    webhookPollMs: env.CONNECTD_WEBHOOK_POLL_MS ?? DEFAULTS.webhookPollMs,
    webhookWorker: v['webhook-worker'] ?? (env.CONNECTD_WEBHOOK_WORKER || undefined) ?? DEFAULTS.webhookWorker,
    durability: v.durability ?? env.CONNECTD_DURABILITY ?? DEFAULTS.durability,
    authFailureLimit: v['auth-failure-limit'] ?? env.CONNECTD_AUTH_FAILURE_LIMIT ?? DEFAULTS.authFailureLimit,
    allowedHosts: (v['allowed-hosts'] ?? env.CONNECTD_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    webhookPrivateTargets: v['webhook-private-targets'] ?? (env.CONNECTD_WEBHOOK_PRIVATE_TARGETS || undefined),
    testClockOffset: env.CONNECTD_TEST_CLOCK_OFFSET || 0,
    testCrashAfterCommit: env.CONNECTD_TEST_CRASH_AFTER_COMMIT || undefined,
  };
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = String(issue?.path[0] ?? 'config');
    const names: Record<string, string> = {
      host: '--host', port: '--port', database: '--db', seed: '--seed', logLevel: '--log-level',
      publicUrl: '--public-url', secret: 'CONNECTD_SECRET', secretFile: '--secret-file', codeTtl: '--code-ttl',
      apiVersion: 'CONNECTD_API_VERSION', environment: 'CONNECTD_ENV', webhookRetry: '--webhook-retry',
      webhookLeaseMs: 'CONNECTD_WEBHOOK_LEASE_MS', webhookPollMs: 'CONNECTD_WEBHOOK_POLL_MS', allowedHosts: '--allowed-hosts', authFailureLimit: '--auth-failure-limit', durability: '--durability',
      webhookPrivateTargets: '--webhook-private-targets', webhookWorker: '--webhook-worker',
      testClockOffset: 'CONNECTD_TEST_CLOCK_OFFSET', testCrashAfterCommit: 'CONNECTD_TEST_CRASH_AFTER_COMMIT',
    };
    throw new ConfigError(`invalid value for ${names[field] ?? field}: ${issue?.message ?? 'invalid'}`);
  }
  const c = result.data;
  // In production the operator says where the secret lives (docs/configuration.md "Server secret").
  if (c.environment === 'production' && !c.secret && !c.secretFile) {
    throw new ConfigError('CONNECTD_SECRET or --secret-file is required when CONNECTD_ENV=production');
  }
  if (c.environment === 'production' && (c.testClockOffset !== 0 || c.testCrashAfterCommit !== undefined)) {
    throw new ConfigError('CONNECTD_TEST_CLOCK_OFFSET and CONNECTD_TEST_CRASH_AFTER_COMMIT are test hooks, refused when CONNECTD_ENV=production');
  }
  const hostForUrl = c.host.includes(':') ? `[${c.host}]` : c.host === '0.0.0.0' ? '127.0.0.1' : c.host;
  const publicUrl = (c.publicUrl ?? `http://${hostForUrl}:${c.port}`).replace(/\/$/, '');
  return {
    command: parsed.positionals[0],
    positionals: parsed.positionals.slice(1),
    flags: { platform: v.platform, account: v.account },
    help: v.help ?? false,
    config: {
      ...c,
      publicUrl,
      webhookPrivateTargets: c.webhookPrivateTargets ?? defaultPrivateTargets(c.environment, c.host, publicUrl),
      ...(c.secretFile || c.database === ':memory:' ? {} : { secretFile: defaultSecretFile(c.database) }),
    },
  };
}

/**
 * Beside the data directory, not in it: `./data/connectd.sqlite` → `./data.key`, so copying the
 * data directory does not copy the key. PostgreSQL has no data directory here: `./data.key` too.
 */
export function defaultSecretFile(database: string): string {
  const dir = /^postgres(ql)?:\/\//.test(database) ? resolve('data') : dirname(resolve(database));
  return `${dir}.key`;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  const v = isIP(h);
  return isLocalhostName(h) || (v !== 0 && LOOPBACK.check(h, v === 6 ? 'ipv6' : 'ipv4'));
}

/**
 * Webhooks to loopback and private addresses are for a developer's own machine (docs/configuration.md):
 * allowed by default only in development, listening on loopback, and not published under another
 * origin (a reverse proxy makes a loopback listener public). Otherwise their delivery log would
 * turn connectd into a scanner of the operator's network.
 */
function defaultPrivateTargets(environment: string, host: string, publicUrl: string): PrivateTargets {
  if (environment !== 'development') return 'deny';
  let publicHost: string;
  try {
    publicHost = new URL(publicUrl).hostname;
  } catch {
    return 'deny';
  }
  return isLoopback(host) && isLoopback(publicHost) ? 'allow' : 'deny';
}

export const HELP = `connectd — a self-hosted Stripe Connect OAuth provider (Standard accounts)

Usage:
  connectd serve   [options]   run the server (creates and migrates the database)
  connectd migrate [--db …]    apply database migrations and exit
  connectd trigger TYPE --platform ca_… --account acct_… [--db …]
                               produce account.application.authorized|deauthorized
                               or account.updated through the real path (a running
                               server delivers it)
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
  --allowed-hosts H   more host names to answer for, comma-separated, beside the
                      public URL's, IP addresses and localhost     [CONNECTD_ALLOWED_HOSTS]
  --auth-failure-limit N
                      wrong keys, codes or refresh tokens per address per minute
                      before 429 Too Many Requests, default 20 [CONNECTD_AUTH_FAILURE_LIMIT]
  --durability MODE   SQLite commits: normal (WAL, synchronous=NORMAL: survives a crash
                      of the process, not of the machine) or full (an fsync per
                      commit), default normal                     [CONNECTD_DURABILITY]
  --code-ttl SECONDS  authorization code lifetime, 1..600, default 300 [CONNECTD_CODE_TTL]
  --webhook-retry M   standard (Stripe-like: 3 days live, 3 retries over hours in test)
                      or fast (1 s, 2 s, 4 s, … for local work and tests) [CONNECTD_WEBHOOK_RETRY]
  --webhook-private-targets allow|deny
                      may test-mode webhooks go to loopback and private addresses?
                      default allow only in development on a loopback host and URL,
                      deny otherwise                    [CONNECTD_WEBHOOK_PRIVATE_TARGETS]
  --webhook-worker on|off
                      deliver webhooks from this process, default on; off for web-only
                      processes beside a worker process on the same database [CONNECTD_WEBHOOK_WORKER]
  --secret-file PATH  key file holding the server secret, created on first run with
                      mode 0600; default beside the data directory (./data.key) [CONNECTD_SECRET_FILE]

Environment only:
  CONNECTD_SECRET            server secret (≥32 chars), instead of a key file
  CONNECTD_ENV               development|production (production needs a secret or --secret-file)
  CONNECTD_API_VERSION       API version stamped on events
  CONNECTD_WEBHOOK_LEASE_MS  delivery lease in ms, default 30000
  CONNECTD_WEBHOOK_POLL_MS   delivery poll interval in ms, default 250
`;
