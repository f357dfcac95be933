// A Kysely dialect over one better-sqlite3 connection that prepares each distinct SQL text once
// (issue 8: Kysely's own SqliteDriver calls Database.prepare on every query), and lets the hot
// paths (store/prepared.ts) run a statement synchronously when that is safe.
//
// Isolation: SQLite has one connection per process here, so a transaction owns it from BEGIN to
// COMMIT. Every acquisition of the connection gets its own handle, and a handle stops working once
// released: a statement can only run through the handle holding the connection, or directly when
// nobody holds it (then it runs to completion synchronously, so it cannot interleave with a
// transaction either).
import type BetterSqlite3 from 'better-sqlite3';
import {
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

/** Enough for every statement the server issues; dynamic IN lists could otherwise grow it without bound. */
const MAX_STATEMENTS = 500;

/** Prepared statements of one connection, by SQL text (bounded; the oldest is dropped first). */
export class SqliteStatements {
  private readonly cache = new Map<string, BetterSqlite3.Statement>();
  /**
   * Set while write transactions wait in an open SQLite transaction for their group's COMMIT
   * (store/group-commit.ts): commits them. A write outside those transactions calls it first, so
   * it neither joins the group nor reports success before its own change is committed.
   */
  commitGroup: (() => void) | null = null;

  constructor(readonly raw: BetterSqlite3.Database) {}

  get size(): number {
    return this.cache.size;
  }

  private statement(sql: string): BetterSqlite3.Statement {
    let stmt = this.cache.get(sql);
    if (stmt === undefined) {
      stmt = this.raw.prepare(sql);
      if (this.cache.size >= MAX_STATEMENTS) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs one statement now; throws better-sqlite3's own errors (store/unavailable.ts reads their codes). */
  run<R>(sql: string, parameters: ReadonlyArray<unknown>): QueryResult<R> {
    const stmt = this.statement(sql);
    if (stmt.reader) return { rows: stmt.all(parameters) as R[] };
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  /**
   * A statement outside the write transactions: a write (or a pragma) first commits an open group;
   * a read runs at once, and may see a waiting group's changes (docs/performance.md "Group commit").
   */
  runPlain<R>(sql: string, parameters: ReadonlyArray<unknown>): QueryResult<R> {
    if (this.commitGroup !== null) {
      const stmt = this.statement(sql);
      if (!stmt.reader || /^\s*pragma/i.test(sql)) this.commitGroup();
    }
    return this.run<R>(sql, parameters);
  }

  /** Streams are rare (not on a hot path): a fresh statement, since an iterating one is busy. */
  iterate(sql: string, parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.raw.prepare(sql).iterate(parameters);
  }

  clear(): void {
    this.cache.clear();
  }
}

/** FIFO lock with hand-off: while anyone waits, `held` stays true, so nobody can cut in. */
class Mutex {
  held = false;
  private readonly waiters: Array<() => void> = [];

  lock(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  unlock(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }
}

/** Who holds the connection: a write transaction of store/group-commit.ts, or anything else. */
export type AcquireKind = 'transaction' | 'plain';

/** One acquisition of the connection: valid until released. */
export class SqliteHandle implements DatabaseConnection {
  open = true;

  constructor(
    private readonly statements: SqliteStatements,
    /** Held by a write transaction of store/group-commit.ts, or by anything else. */
    readonly kind: AcquireKind,
  ) {}

  /** Runs synchronously on the held connection. */
  run<R>(sql: string, parameters: ReadonlyArray<unknown>): QueryResult<R> {
    // A statement issued through a connection after its transaction ended would otherwise run
    // on whichever request holds the connection now.
    if (!this.open) throw new Error('SQLite connection used after it was released');
    return this.kind === 'transaction' ? this.statements.run<R>(sql, parameters) : this.statements.runPlain<R>(sql, parameters);
  }

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return Promise.resolve(this.run<R>(compiled.sql, compiled.parameters));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!this.open) throw new Error('SQLite connection used after it was released');
    if (!SelectQueryNode.is(compiled.query)) throw new Error('Sqlite driver only supports streaming of select queries');
    for (const row of this.statements.iterate(compiled.sql, compiled.parameters)) yield { rows: [row as R] };
  }
}

export class SqliteStatementDriver implements Driver {
  private readonly mutex = new Mutex();
  /** The handle holding the connection, if any. */
  current: SqliteHandle | null = null;
  /**
   * Set just before a write transaction asks Kysely for the connection: Kysely calls
   * acquireConnection synchronously from `db.connection().execute`, which reads and resets it.
   */
  nextKind: AcquireKind = 'plain';
  /** Called as a holder releases the connection (store/group-commit.ts commits a due group). */
  onRelease: (() => void) | null = null;

  constructor(readonly statements: SqliteStatements) {}

  /**
   * True when nobody holds or waits for the connection: a statement may run right now (through
   * `statements.runPlain`; a group of finished write transactions may be waiting for its COMMIT).
   */
  get idle(): boolean {
    return !this.mutex.held;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const kind = this.nextKind;
    this.nextKind = 'plain';
    await this.mutex.lock();
    this.current = new SqliteHandle(this.statements, kind);
    return this.current;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as SqliteHandle).run('begin', []);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as SqliteHandle).run('commit', []);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as SqliteHandle).run('rollback', []);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as SqliteHandle).open = false;
    if (this.current === connection) this.current = null;
    this.onRelease?.();
    this.mutex.unlock();
  }

  async destroy(): Promise<void> {
    // Write transactions waiting for their group's COMMIT are committed, not dropped.
    this.statements.commitGroup?.();
    this.statements.clear();
    this.statements.raw.close();
  }
}

export class SqliteStatementDialect implements Dialect {
  constructor(readonly driver: SqliteStatementDriver) {}

  createDriver(): Driver {
    return this.driver;
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
