// The marketplace's own database (SQLite): drivers, their sessions, their Stripe connection, the
// steps each driver has been through (shown on their page, to teach the flow) and the webhook
// events already handled. It stores no OAuth token: calls for a driver use the platform's secret
// key with Stripe-Account (platform-kit's asAccount), as Stripe recommends for Standard accounts.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export interface Driver {
  id: number;
  name: string;
  email: string;
}

export interface Connection {
  driver_id: number;
  stripe_user_id: string;
  scope: string;
  livemode: number;
  connected_at: number;
  /** How the account came: an existing account connected with OAuth, or one created with the Accounts API. */
  via: 'oauth' | 'account_links';
}

export interface Step {
  id: number;
  at: number;
  title: string;
  detail: string;
  tone: 'info' | 'ok' | 'warn';
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS drivers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, driver_id INTEGER NOT NULL REFERENCES drivers(id), csrf TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS connections (
  driver_id INTEGER PRIMARY KEY REFERENCES drivers(id),
  stripe_user_id TEXT NOT NULL UNIQUE,
  scope TEXT NOT NULL,
  livemode INTEGER NOT NULL,
  connected_at INTEGER NOT NULL,
  via TEXT NOT NULL DEFAULT 'oauth'
);
CREATE TABLE IF NOT EXISTS steps (id INTEGER PRIMARY KEY, driver_id INTEGER NOT NULL REFERENCES drivers(id), at INTEGER NOT NULL, title TEXT NOT NULL, detail TEXT NOT NULL, tone TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS handled_events (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL);
`;

const now = () => Math.floor(Date.now() / 1000);

export function openDatabase(path: string) {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  // A database made before the Account Links path lacks the column.
  const columns = db.prepare('PRAGMA table_info(connections)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'via')) db.exec("ALTER TABLE connections ADD COLUMN via TEXT NOT NULL DEFAULT 'oauth'");

  /** A secret made on first run and kept: the state cookie and session cookie stay valid across restarts. */
  function secret(name: string): string {
    db.prepare('INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)').run(name, randomBytes(32).toString('base64url'));
    return (db.prepare('SELECT value FROM settings WHERE name = ?').get(name) as { value: string }).value;
  }

  return {
    close: () => db.close(),
    secret,

    signIn(name: string, email: string): { sessionId: string; driver: Driver } {
      return db.transaction(() => {
        db.prepare('INSERT INTO drivers (name, email, created) VALUES (?, ?, ?) ON CONFLICT (email) DO UPDATE SET name = excluded.name').run(name, email, now());
        const driver = db.prepare('SELECT id, name, email FROM drivers WHERE email = ?').get(email) as Driver;
        const sessionId = randomBytes(24).toString('base64url');
        db.prepare('INSERT INTO sessions (id, driver_id, csrf, created) VALUES (?, ?, ?, ?)').run(sessionId, driver.id, randomBytes(24).toString('base64url'), now());
        return { sessionId, driver };
      })();
    },

    session(sessionId: string): { driver: Driver; csrf: string } | undefined {
      const row = db.prepare('SELECT d.id, d.name, d.email, s.csrf FROM sessions s JOIN drivers d ON d.id = s.driver_id WHERE s.id = ?').get(sessionId) as (Driver & { csrf: string }) | undefined;
      return row && { driver: { id: row.id, name: row.name, email: row.email }, csrf: row.csrf };
    },

    signOut(sessionId: string): void {
      db.prepare('DELETE FROM sessions WHERE id = ?').run(sessionId);
    },

    connection(driverId: number): Connection | undefined {
      return db.prepare('SELECT * FROM connections WHERE driver_id = ?').get(driverId) as Connection | undefined;
    },

    /** One Stripe account per driver and one driver per account: connecting again replaces. */
    saveConnection(c: Omit<Connection, 'connected_at' | 'via'> & { via?: Connection['via'] }): void {
      db.transaction(() => {
        db.prepare('DELETE FROM connections WHERE stripe_user_id = ? OR driver_id = ?').run(c.stripe_user_id, c.driver_id);
        db.prepare('INSERT INTO connections (driver_id, stripe_user_id, scope, livemode, connected_at, via) VALUES (?, ?, ?, ?, ?, ?)').run(c.driver_id, c.stripe_user_id, c.scope, c.livemode, now(), c.via ?? 'oauth');
      })();
    },

    /**
     * An account.updated event, handled once (its id recorded in the same transaction as the
     * step it adds for the driver whose account it is). Returns that driver, if any.
     */
    handleAccountUpdated(eventId: string, stripeUserId: string, title: string, detail: string): number | undefined {
      return db.transaction(() => {
        if (db.prepare('INSERT OR IGNORE INTO handled_events (id, received_at) VALUES (?, ?)').run(eventId, now()).changes !== 1) return undefined;
        const row = db.prepare('SELECT driver_id FROM connections WHERE stripe_user_id = ?').get(stripeUserId) as { driver_id: number } | undefined;
        if (row) db.prepare('INSERT INTO steps (driver_id, at, title, detail, tone) VALUES (?, ?, ?, ?, ?)').run(row.driver_id, now(), title, detail, 'info');
        return row?.driver_id;
      })();
    },

    /** Removes the connection to a Stripe account; returns the driver it belonged to, if any. */
    removeConnection(stripeUserId: string, livemode: boolean): number | undefined {
      const row = db.prepare('DELETE FROM connections WHERE stripe_user_id = ? AND livemode = ? RETURNING driver_id').get(stripeUserId, livemode ? 1 : 0) as { driver_id: number } | undefined;
      return row?.driver_id;
    },

    addStep(driverId: number, tone: Step['tone'], title: string, detail: string): void {
      db.prepare('INSERT INTO steps (driver_id, at, title, detail, tone) VALUES (?, ?, ?, ?, ?)').run(driverId, now(), title, detail, tone);
    },

    steps(driverId: number, limit = 30): Step[] {
      return db.prepare('SELECT id, at, title, detail, tone FROM steps WHERE driver_id = ? ORDER BY id DESC LIMIT ?').all(driverId, limit) as Step[];
    },

    /**
     * An account.application.deauthorized event, handled once: the event id is recorded and the
     * connection removed in one transaction, so a crash leaves neither, and a redelivery (the
     * id's primary key) changes nothing. A connection made after the event was created (the
     * driver reconnected before a late delivery) is kept. Returns the driver whose connection was
     * removed, if any, and whether the event was new.
     */
    handleDeauthorized(eventId: string, created: number, stripeUserId: string, livemode: boolean): { fresh: boolean; driverId?: number } {
      return db.transaction(() => {
        const fresh = db.prepare('INSERT OR IGNORE INTO handled_events (id, received_at) VALUES (?, ?)').run(eventId, now()).changes === 1;
        if (!fresh) return { fresh };
        const row = db
          .prepare('DELETE FROM connections WHERE stripe_user_id = ? AND livemode = ? AND connected_at <= ? RETURNING driver_id')
          .get(stripeUserId, livemode ? 1 : 0, created) as { driver_id: number } | undefined;
        return row ? { fresh, driverId: row.driver_id } : { fresh };
      })();
    },
  };
}

export type DemoDb = ReturnType<typeof openDatabase>;
