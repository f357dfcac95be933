// Which driver errors mean "the database cannot be used right now" rather than "this request is
// wrong" or "our code is wrong": the edge answers them with a 503 and a Retry-After, and the
// webhook worker backs off (docs/postgresql.md "When the database goes away").

/** PostgreSQL SQLSTATEs and classes that say the server or the connection is gone or cannot write. */
const PG_UNAVAILABLE = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, a fast shutdown, a failover
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '57P05', // idle_session_timeout
  '25006', // read_only_sql_transaction: a write reached a standby during a failover
  '58000', // system_error
  '58030', // io_error
]);
const PG_UNAVAILABLE_CLASSES = [
  '08', // connection exceptions
  '53', // insufficient resources: disk full, out of memory, too many connections
];

/** Socket-level failures between us and PostgreSQL. */
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * better-sqlite3 codes (extended ones like SQLITE_IOERR_WRITE and SQLITE_READONLY_DBMOVED
 * included): still locked after busy_timeout, disk full, file read-only, I/O error, cannot open.
 */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|FULL|READONLY|IOERR|CANTOPEN)(_|$)/;

/** Messages pg, pg-pool and Kysely use for a dead or unusable connection (they carry no code). */
const MESSAGES = [
  /^Connection terminated/, // pg: socket closed (unexpectedly, or by a connection timeout)
  /not queryable$/, // pg: a client whose connection failed or was closed
  /^timeout exceeded when trying to connect$/, // pg-pool: connectionTimeoutMillis
  /^Postgres connection has been discarded$/, // Kysely: a client whose rollback failed
];

/**
 * A short reason (a SQLSTATE, an errno code, a SQLite code, or the driver's message) when `err`
 * means the database is unreachable or cannot write; null for any other error.
 */
export function databaseUnavailableReason(err: unknown, depth = 0): string | null {
  if (!err || typeof err !== 'object' || depth > 3) return null;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (PG_UNAVAILABLE.has(code) || (/^[0-9A-Z]{5}$/.test(code) && PG_UNAVAILABLE_CLASSES.includes(code.slice(0, 2)))) return code;
  if (NET_UNAVAILABLE.has(code) || SQLITE_UNAVAILABLE.test(code)) return code;
  const message = typeof e.message === 'string' ? e.message : '';
  if (MESSAGES.some((m) => m.test(message))) return message;
  // Node's dual-stack connect fails with an AggregateError of one error per address.
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const reason = databaseUnavailableReason(inner, depth + 1);
      if (reason) return reason;
    }
  }
  return databaseUnavailableReason(e.cause, depth + 1);
}

export function isDatabaseUnavailable(err: unknown): boolean {
  return databaseUnavailableReason(err) !== null;
}
