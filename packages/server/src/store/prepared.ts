// Hot queries compiled once (issue 8): a query is built with Kysely as usual, but with placeholder
// objects for its inputs; the SQL text is compiled once per dialect and each call only binds new
// values. On SQLite the statement then comes from the driver's statement cache (and runs at once
// when the connection is free); on PostgreSQL it is sent as a named prepared statement, parsed
// once per server connection.
import { createHash } from 'node:crypto';
import { createQueryId, type Compilable, type CompiledQuery, type QueryResult } from 'kysely';
import type { Db } from './schema.ts';

type DialectName = 'sqlite' | 'postgres';

/**
 * Runs a statement synchronously if that is safe right now; undefined means "go through Kysely"
 * (on SQLite: another request holds the connection, so wait for it in the driver's queue).
 */
type DirectRunner = <R>(sql: string, parameters: ReadonlyArray<unknown>) => QueryResult<R> | undefined;

interface Backend {
  dialect: DialectName;
  direct?: DirectRunner | undefined;
}

/** Every Kysely instance the store hands out (the root and each transaction's), with its dialect. */
const backends = new WeakMap<object, Backend>();

export function registerBackend(db: Db, dialect: DialectName, direct?: DirectRunner): void {
  backends.set(db, { dialect, direct });
}

export function unregisterBackend(db: Db): void {
  backends.delete(db);
}

/** SQL text → statement name, for the PostgreSQL pool (store/dialect.ts) to prepare by name. */
const pgNames = new Map<string, string>();

export function pgStatementName(sql: string): string | undefined {
  return pgNames.get(sql);
}

/** Placeholder for one named input while the query is compiled. */
class Slot {
  constructor(readonly name: string) {}
}

interface Template {
  sql: string;
  query: CompiledQuery['query'];
  queryId: CompiledQuery['queryId'];
  /** Per parameter: the input's name, or null for a constant taken from `constants`. */
  slots: Array<string | null>;
  constants: unknown[];
}

export interface Precompiled<P, O> {
  all(db: Db, params: P): Promise<O[]>;
  first(db: Db, params: P): Promise<O | undefined>;
  /** Rows changed by an INSERT, UPDATE or DELETE. */
  run(db: Db, params: P): Promise<number>;
}

/**
 * `build` must pass each input straight into the query as a value (no arithmetic, no branching on
 * it, never undefined): compiling checks that every input it read appears among the parameters.
 */
export function precompile<P extends object, O>(build: (db: Db, params: P) => Compilable<O>): Precompiled<P, O> {
  const templates = new Map<DialectName, Template>();

  const compile = (db: Db, dialect: DialectName): Template => {
    const used = new Map<string, Slot>();
    const placeholders = new Proxy({} as P, {
      get: (_target, key) => {
        if (typeof key !== 'string') return undefined;
        let slot = used.get(key);
        if (!slot) used.set(key, (slot = new Slot(key)));
        return slot;
      },
    });
    const compiled = build(db, placeholders).compile();
    const slots = compiled.parameters.map((p) => (p instanceof Slot ? p.name : null));
    for (const name of used.keys()) {
      if (!slots.includes(name)) throw new Error(`precompile: input ${name} is not a plain parameter of: ${compiled.sql}`);
    }
    if (dialect === 'postgres') {
      pgNames.set(compiled.sql, `connectd_${createHash('sha256').update(compiled.sql).digest('hex').slice(0, 24)}`);
    }
    // Reused for every call: no plugins are installed, so nothing keys per-query state on it.
    return { sql: compiled.sql, query: compiled.query, queryId: createQueryId(), slots, constants: [...compiled.parameters] };
  };

  const execute = (db: Db, params: P): Promise<QueryResult<O>> => {
    const backend = backends.get(db);
    // A Kysely instance the store did not hand out: compile as usual.
    if (!backend) return db.executeQuery(build(db, params));
    let t = templates.get(backend.dialect);
    if (!t) templates.set(backend.dialect, (t = compile(db, backend.dialect)));
    const { slots, constants } = t;
    const input = params as Record<string, unknown>;
    const values = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      values[i] = slot == null ? constants[i] : input[slot];
    }
    if (backend.direct) {
      try {
        const result = backend.direct<O>(t.sql, values);
        if (result) return Promise.resolve(result);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return db.executeQuery<O>({ sql: t.sql, query: t.query, queryId: t.queryId, parameters: values });
  };

  return {
    all: async (db, params) => (await execute(db, params)).rows,
    first: async (db, params) => (await execute(db, params)).rows[0],
    run: async (db, params) => Number((await execute(db, params)).numAffectedRows ?? 0n),
  };
}
