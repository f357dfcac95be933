// Write transactions on SQLite with group commit (issue 8; docs/performance.md "Group commit").
//
// A COMMIT writes every page the transaction changed to the WAL; it was the largest single cost of
// a code exchange (160-260 µs of about 1,100). Requests that arrive together are handled one after
// the other in the same turn of the event loop, so a finished write transaction does not commit at
// once: its work stays in the open SQLite transaction, the next write transaction of the same turn
// runs inside it under a savepoint, and one COMMIT at the end of the turn (setImmediate) makes the
// whole group durable. Pages that several members change (index and table tails) reach the WAL once.
//
// What callers see:
// - `store.transaction` resolves only after the COMMIT that made its work durable, so no response
//   reports a change that a crash could still lose (docs/configuration.md "Durability").
// - A member that throws is rolled back to its savepoint alone; if the COMMIT fails, every member
//   of the group gets that error.
// - A write outside these transactions commits the open group first (SqliteStatements.runPlain),
//   so it is never acknowledged before it is committed. A read outside them runs at once and may
//   see a waiting group's changes, which are committed at the end of the same turn.
import type { Kysely } from 'kysely';
import { registerBackend, unregisterBackend } from './prepared.ts';
import type { SqliteStatementDriver } from './sqlite-driver.ts';
import type { Database, Db } from './schema.ts';

/** Bounds a group, and so the wait of its first member. */
const MAX_GROUP = 64;

interface Member {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function groupCommitTransactions(db: Kysely<Database>, driver: SqliteStatementDriver): <T>(fn: (trx: Db) => Promise<T>) => Promise<T> {
  const statements = driver.statements;
  const raw = statements.raw;
  /** Finished members whose work waits in the open SQLite transaction; null when none is open. */
  let group: Member[] | null = null;
  let scheduled = false;
  /** The end-of-turn commit found the connection held: the holder commits as it releases it. */
  let due = false;

  const settle = (members: Member[], err: unknown) => {
    for (const m of members) {
      if (err === undefined) m.resolve();
      else m.reject(err);
    }
  };

  /** Commits the open group; only called while no write transaction is half done. */
  const commit = () => {
    const members = group;
    group = null;
    due = false;
    statements.commitGroup = null;
    if (!members) return;
    try {
      statements.run('commit', []);
    } catch (err) {
      try {
        if (raw.inTransaction) statements.run('rollback', []);
      } catch {
        // The COMMIT's error is the one to report.
      }
      settle(members, err);
      return;
    }
    settle(members, undefined);
  };

  driver.onRelease = () => {
    if (due) commit();
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (driver.idle) commit();
      else due = true;
    });
  };

  return async <T>(fn: (trx: Db) => Promise<T>): Promise<T> => {
    driver.nextKind = 'transaction';
    // connection() holds the single SQLite connection for the callback; the wait for the group's
    // COMMIT happens after it, with the connection free for the next member.
    const { result, durable } = await db.connection().execute(async (conn) => {
      const handle = driver.current;
      if (!handle) throw new Error('SQLite connection not held');
      const joined = group !== null;
      handle.run(joined ? 'savepoint member' : 'begin immediate', []);
      // Inside the transaction its statements run directly on the handle it holds.
      registerBackend(conn, 'sqlite', (text, parameters) => handle.run(text, parameters));
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, value: await fn(conn) };
        if (joined) handle.run('release member', []);
      } catch (err) {
        outcome = { ok: false, error: err };
        // SQLite may already have rolled back on its own (SQLITE_FULL, SQLITE_IOERR): roll back
        // only what is still open, and never let the rollback hide `err`.
        try {
          if (raw.inTransaction && joined) {
            handle.run('rollback to member', []);
            handle.run('release member', []);
          } else if (raw.inTransaction) handle.run('rollback', []);
        } catch {
          // `err` is what the caller needs to see.
        }
      } finally {
        unregisterBackend(conn);
      }

      if (!raw.inTransaction) {
        // The whole SQLite transaction is gone: the waiting members' work went with it.
        if (group) settle(group, outcome.ok ? new Error('SQLite rolled back the transaction') : outcome.error);
        group = null;
        statements.commitGroup = null;
        if (!outcome.ok) throw outcome.error;
        throw new Error('SQLite rolled back the transaction');
      }
      if (!outcome.ok) {
        // Rolled back to its savepoint alone (or, alone in the transaction, the begin was undone).
        if (group === null) statements.run('rollback', []);
        throw outcome.error;
      }
      const members: Member[] = group ?? (group = []);
      statements.commitGroup = commit;
      const durable = new Promise<void>((resolve, reject) => members.push({ resolve, reject }));
      if (members.length >= MAX_GROUP) commit();
      else schedule();
      return { result: outcome.value, durable };
    });
    await durable;
    return result;
  };
}
