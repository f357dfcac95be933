// A real connectd on a loopback port for tests, on SQLite (a temp file) or PostgreSQL (a fresh
// schema per server). Logs are captured so tests can check that no secret reaches them.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.ts';
import type { Clock } from '../../src/domain/clock.ts';
import { randomBase62 } from '../../src/domain/ids.ts';
import type { Seed } from '../../src/seed.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { testSeed } from './fixtures.ts';

export type DbKind = 'sqlite' | 'postgres';
export const DB_KINDS: DbKind[] = ['sqlite', 'postgres'];
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Every log line written by every test server in this process (the log canary reads it). */
export const capturedLogs: string[] = [];

export interface TestServer extends RunningServer {
  db: DbKind;
  sqlitePath: string | null;
  pgSchema: string | null;
  logs: string[];
}

export interface TestServerOptions {
  db?: DbKind;
  seed?: Seed;
  clock?: Clock;
  args?: string[];
  /** Environment variables the configuration reads (e.g. CONNECTD_WEBHOOK_POLL_MS); none by default. */
  env?: Record<string, string>;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const db = opts.db ?? 'sqlite';
  let dir: string | null = null;
  let database: string;
  let pgSchema: string | null = null;
  if (db === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'connectd-test-'));
    database = join(dir, 'connectd.sqlite');
  } else {
    database = PG_URL;
    pgSchema = `t_${randomBase62(12).toLowerCase()}`;
  }
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const line = chunk.toString('utf8');
      logs.push(line);
      capturedLogs.push(line);
      cb();
    },
  });
  // The port is chosen before the app is built, so the configuration's public URL (links, cookie
  // and form origins, all read while the app is built) is the address the server listens on.
  // Another process may take the port between the probe and the listen: then another one is tried.
  let running: RunningServer | undefined;
  for (let attempt = 1; !running; attempt++) {
    const port = await freePort();
    const { config } = loadConfig(['serve', '--port', String(port), '--db', database, '--log-level', 'info', ...(opts.args ?? [])], opts.env ?? {});
    try {
      running = await startServer(config, {
        logStream,
        seed: opts.seed ?? testSeed(),
        ...(opts.clock ? { clock: opts.clock } : {}),
        ...(pgSchema ? { pgSchema } : {}),
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
  const started = running;
  return {
    ...started,
    db,
    sqlitePath: dir ? database : null,
    pgSchema,
    logs,
    close: async () => {
      await started.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (dir) rmSync(`${dir}.key`, { force: true });
      if (pgSchema) await dropSchema(pgSchema);
    },
  };
}

/** A TCP port free on the loopback interface at the time of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}
