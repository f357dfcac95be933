// Opens the database: embedded SQLite (better-sqlite3 12) by default, PostgreSQL with a URL.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient, type PostgresQueryResult } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations.ts';
import { groupCommitTransactions } from './group-commit.ts';
import { pgStatementName, registerBackend } from './prepared.ts';
import { SqliteStatementDialect, SqliteStatementDriver, SqliteStatements } from './sqlite-driver.ts';
import type { Database, Db } from './schema.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface StoreOptions {
  /** `postgres://…` selects PostgreSQL; otherwise a SQLite path or `:memory:`. */
  database: string;
  /** PostgreSQL only: the schema to use (created if missing). Tests give each run its own. */
  pgSchema?: string;
  pgPoolSize?: number;
  /** SQLite only: `full` syncs every commit to disk; `normal` (default) syncs at checkpoints. */
  durability?: 'normal' | 'full';
  /**
   * Called when the driver reports a lost connection outside any query (PostgreSQL: an idle
   * client's backend was terminated). The pool has already discarded that client; without a
   * listener pg-pool's 'error' event would end the process.
   */
  onConnectionError?: (err: Error) => void;
}

export interface Store {
  readonly db: Db;
  readonly dialect: DialectName;
  /**
   * Runs `fn` in one write transaction. On SQLite it starts with BEGIN IMMEDIATE, so two
   * processes never deadlock upgrading a read lock; on PostgreSQL it is READ COMMITTED, and
   * row-level conditions in UPDATE … WHERE … RETURNING make single-use consumption atomic.
   */
  transaction<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Callbacks to run once the transaction they were registered in has committed, by its Kysely handle. */
const commitHooks = new WeakMap<object, Array<() => void>>();

/**
 * Runs `fn` once what `db` wrote is committed: after the COMMIT of the store transaction `db`
 * belongs to (never if it rolls back), or now when `db` is not inside one (each statement
 * committed on its own). For work that must see the commit, such as waking the delivery worker.
 */
export function afterCommit(db: Db, fn: () => void): void {
  const hooks = commitHooks.get(db);
  if (hooks) hooks.push(fn);
  else fn();
}

function runHooks(hooks: Array<() => void>): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // A hook's failure must not turn a committed transaction into an error for its caller.
    }
  }
}

export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//.test(database);
}

// int8 columns come back as strings by default; our bigints are Unix times, well within 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

export function openStore(opts: StoreOptions): Store {
  return isPostgresUrl(opts.database) ? openPostgres(opts) : openSqlite(opts.database, opts.durability ?? 'normal');
}

function openSqlite(path: string, durability: 'normal' | 'full'): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new SQLite(path);
  raw.pragma('journal_mode = WAL');
  // In WAL mode NORMAL loses no committed transaction when the process dies, only the last ones
  // when the machine loses power; FULL adds an fsync to every commit (docs/configuration.md
  // "Durability").
  raw.pragma(durability === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  const driver = new SqliteStatementDriver(new SqliteStatements(raw));
  const db = new Kysely<Database>({ dialect: new SqliteStatementDialect(driver) });
  // Outside a transaction a hot statement runs at once when nobody holds or awaits the connection:
  // it completes synchronously, so it cannot land inside another request's transaction.
  registerBackend(db, 'sqlite', (text, parameters) => (driver.idle ? driver.statements.runPlain(text, parameters) : undefined));
  const grouped = groupCommitTransactions(db, driver);
  return {
    db,
    dialect: 'sqlite',
    transaction: async (fn) => {
      const hooks: Array<() => void> = [];
      const result = await grouped(async (trx) => {
        commitHooks.set(trx, hooks);
        try {
          return await fn(trx);
        } finally {
          commitHooks.delete(trx);
        }
      });
      // The group's COMMIT made this transaction's work durable (store/group-commit.ts).
      runHooks(hooks);
      return result;
    },
    migrate: () => runMigrations(db),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

function openPostgres(opts: StoreOptions): Store {
  const schema = opts.pgSchema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: opts.database,
    max: opts.pgPoolSize ?? 10,
    // Shown in pg_stat_activity; `?application_name=…` in the URL wins (docs/postgresql.md).
    application_name: schema ? `connectd_${schema}` : 'connectd',
    // Bounds both connecting and waiting for a free client: while PostgreSQL is unreachable or
    // swamped a request fails with a 503 instead of hanging.
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client whose backend goes away (restart, failover, pg_terminate_backend): pg-pool has
  // already removed it and makes a new one on demand; this listener keeps the process alive.
  pool.on('error', (err) => opts.onConnectionError?.(err));
  // A checked-out client that loses its socket emits 'error' too (no listener would end the
  // process): its pending and next queries fail, the request gets a 503, and release() drops the
  // client from the pool because it is no longer queryable (a failed rollback drops it as well).
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: namingPool(pool) }) });
  registerBackend(db, 'postgres');
  return {
    db,
    dialect: 'postgres',
    transaction: async (fn) => {
      const hooks: Array<() => void> = [];
      const result = await db.transaction().execute(async (trx) => {
        registerBackend(trx, 'postgres');
        commitHooks.set(trx, hooks);
        return fn(trx);
      });
      runHooks(hooks);
      return result;
    },
    migrate: async () => {
      // Several processes may start together: serialize schema creation and migrations with an
      // advisory lock (concurrent CREATE SCHEMA IF NOT EXISTS can still collide).
      await db.connection().execute(async (conn) => {
        await sql`select pg_advisory_lock(727274)`.execute(conn);
        try {
          if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(conn);
          // Kysely looks for its migration tables across all schemas unless told which one.
          const current = await sql<{ s: string }>`select current_schema() as s`.execute(conn);
          await runMigrations(conn, current.rows[0]?.s ?? 'public');
        } finally {
          await sql`select pg_advisory_unlock(727274)`.execute(conn);
        }
      });
    },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/**
 * The pool as Kysely sees it, sending the precompiled hot statements (store/prepared.ts) by name:
 * each server connection parses one once and then only binds and executes it. pg remembers per
 * client what it prepared, so a replacement client (after a backend was terminated) prepares
 * again, and each process has its own connections.
 */
function namingPool(pool: pg.Pool): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let wrapped = clients.get(client);
    if (!wrapped) {
      const query = <R>(text: string, values: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> => {
        const name = pgStatementName(text);
        const config: pg.QueryConfig<unknown[]> = name === undefined ? { text, values: [...values] } : { name, text, values: [...values] };
        // pg types `command` as any string; Kysely lists the ones it reads.
        return client.query<R & pg.QueryResultRow>(config) as Promise<PostgresQueryResult<R>>;
      };
      // Kysely keys its connection objects by client: one wrapper per client.
      wrapped = { query, release: (destroy?: boolean) => client.release(destroy) } as PostgresPoolClient;
      clients.set(client, wrapped);
    }
    return wrapped;
  };
  return {
    connect: async () => wrap(await pool.connect()),
    end: () => pool.end(),
  };
}

async function runMigrations(db: Kysely<unknown> | Db, schema?: string): Promise<void> {
  const migrator = new Migrator({
    db: db as Kysely<unknown>,
    provider: migrationProvider,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
