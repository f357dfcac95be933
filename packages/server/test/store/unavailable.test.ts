// Which driver errors count as "database unavailable" (a 503 with Retry-After), produced by the
// real drivers: better-sqlite3 on a read-only, locked, capped or missing file, and pg against a
// terminated backend, a closed port and a cut connection. Anything else stays a generic 500.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { toWire } from '../../src/http/wire-errors.ts';
import { databaseUnavailableReason, isDatabaseUnavailable } from '../../src/store/unavailable.ts';
import { PG_URL } from '../support/server.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected an error');
}

async function rejected(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected an error');
}

/** A pg client of this test only: its errors must not end the test process. */
function client(connectionString = PG_URL): pg.Client {
  const c = new pg.Client({ connectionString, application_name: 'connectd_unavailable_test', connectionTimeoutMillis: 5_000 });
  c.on('error', () => undefined);
  return c;
}

describe('databaseUnavailableReason: SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'connectd-unavail-'));
  const file = join(dir, 'db.sqlite');
  const setup = new Database(file);
  setup.pragma('journal_mode = WAL');
  setup.exec('create table t (x text unique)');
  setup.close();
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SQLITE_READONLY: a write on a read-only database', () => {
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(databaseUnavailableReason(thrown(() => db.exec(`insert into t values ('a')`))), 'SQLITE_READONLY');
    } finally {
      db.close();
    }
  });

  it('SQLITE_BUSY: the write lock still taken when the busy timeout ends', () => {
    const holder = new Database(file);
    const waiter = new Database(file, { timeout: 0 });
    try {
      holder.exec('begin immediate');
      assert.equal(databaseUnavailableReason(thrown(() => waiter.exec('begin immediate'))), 'SQLITE_BUSY');
    } finally {
      holder.exec('rollback');
      holder.close();
      waiter.close();
    }
  });

  it('SQLITE_FULL: the database cannot grow', () => {
    const db = new Database(file);
    try {
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
      const err = thrown(() => {
        for (let i = 0; i < 1000; i++) db.prepare('insert into t values (?)').run('y'.repeat(2000) + String(i));
      });
      assert.equal(databaseUnavailableReason(err), 'SQLITE_FULL');
    } finally {
      db.close();
    }
  });

  it('SQLITE_CANTOPEN: the file cannot be opened', () => {
    assert.equal(databaseUnavailableReason(thrown(() => new Database(join(dir, 'missing.sqlite'), { fileMustExist: true }))), 'SQLITE_CANTOPEN');
  });

  it('a constraint violation is not an outage', () => {
    const db = new Database(file);
    try {
      db.exec(`insert into t values ('dup')`);
      const err = thrown(() => db.exec(`insert into t values ('dup')`));
      assert.equal(isDatabaseUnavailable(err), false);
      assert.equal(toWire(err, 'api', 'req_x').status, 500);
    } finally {
      db.close();
    }
  });
});

describe('databaseUnavailableReason: PostgreSQL', () => {
  it('57P01 admin_shutdown: the backend is terminated under a query', async () => {
    const c = client();
    await c.connect();
    const err = await rejected(c.query('select pg_terminate_backend(pg_backend_pid())'));
    assert.equal(databaseUnavailableReason(err), '57P01');
    // The client is now unusable, and says so with an error of the same family.
    assert.equal(isDatabaseUnavailable(await rejected(c.query('select 1'))), true);
    await c.end().catch(() => undefined);
  });

  it('ECONNREFUSED: nothing listens where the database should be', async () => {
    const proxy = new TcpProxy('127.0.0.1', 5432);
    const port = await proxy.up();
    await proxy.down();
    const url = new URL(PG_URL);
    url.port = String(port);
    const err = await rejected(client(url.toString()).connect());
    assert.equal(databaseUnavailableReason(err), 'ECONNREFUSED');
  });

  it('a connection cut between queries', async () => {
    const target = new URL(PG_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    const url = new URL(PG_URL);
    url.port = String(await proxy.up());
    const c = client(url.toString());
    await c.connect();
    await c.query('select 1');
    await proxy.down();
    const err = await rejected(c.query('select 1'));
    assert.equal(isDatabaseUnavailable(err), true, String(err));
    await c.end().catch(() => undefined);
  });

  it('a unique violation is not an outage', async () => {
    const c = client();
    await c.connect();
    try {
      await c.query('create temporary table u (x int primary key)');
      await c.query('insert into u values (1)');
      const err = await rejected(c.query('insert into u values (1)'));
      assert.equal((err as { code?: string }).code, '23505');
      assert.equal(isDatabaseUnavailable(err), false);
    } finally {
      await c.end();
    }
  });
});

describe('toWire: database unavailable', () => {
  const err = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

  it('is a 503 api_error with Retry-After under /v1, /oauth (never an OAuth code) and on pages', () => {
    for (const family of ['api', 'oauth', 'authorize', 'page'] as const) {
      const wire = toWire(err, family, 'req_123');
      assert.equal(wire.status, 503, family);
      assert.equal(wire.headers['Retry-After'], '2', family);
      assert.equal(wire.unexpected, false, family);
      assert.equal(wire.databaseUnavailable, '57P01', family);
      const body = wire.body as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'api_error', family);
      assert.match(body.error.message, /temporarily unable.*req_123/, family);
      assert.doesNotMatch(JSON.stringify(wire.body), /57P01|administrator/, family);
      assert.equal(wire.page?.title, 'Temporarily unavailable', family);
    }
  });
});
