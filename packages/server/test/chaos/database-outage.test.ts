// Chaos (issue 7 "The database goes away"): connectd as a real child process while its database
// fails under it. On PostgreSQL: every backend of the server terminated under load (what a
// restart or a failover does), and the database host unreachable for a while. On SQLite: the disk
// fills up, and another process holds the write lock past the busy timeout. Each time the server
// stays up, answers 503 Stripe-shaped errors with Retry-After meanwhile, recovers on its own, and
// every 200 it gave is stored.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { randomBase62 } from '../../src/domain/ids.ts';
import { call } from '../support/api.ts';
import { A, testSeed } from '../support/fixtures.ts';
import { helperCode } from '../support/flow.ts';
import { post, type HttpResponse } from '../support/http.ts';
import { spawnServer, type ServerProcess } from '../support/process.ts';
import { Receiver } from '../support/receiver.ts';
import { dropSchema, PG_URL } from '../support/server.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { sleep, waitUntil } from '../support/wait.ts';

interface Created {
  id: string;
  email: string;
}

interface Refused {
  status: number;
  retryAfter: string | null;
  json: Record<string, unknown>;
  text: string;
}

/**
 * Ten loops posting with the platform key until stopped: each creates customers (one insert) and,
 * every other request, updates the first customer it created (a transaction that locks the row),
 * with the request number as its description. Every answer is kept.
 */
class Load {
  readonly created: Created[] = [];
  readonly refused: Refused[] = [];
  /** Per updated customer: the highest request number answered 200, and the highest attempted. */
  readonly updates = new Map<string, { ok: number; tried: number }>();
  /** Requests that got no HTTP answer at all: the server must never drop a connection. */
  readonly dropped: string[] = [];
  private stopped = false;
  private readonly loops: Promise<void>[];

  constructor(base: string, concurrency = 10) {
    this.loops = Array.from({ length: concurrency }, async (_, loop) => {
      let own: string | null = null;
      for (let n = 0; !this.stopped; n++) {
        const email = `l${loop}-${n}@example.com`;
        const update: string | null = own !== null && n % 2 === 1 ? own : null;
        try {
          const r: HttpResponse = update
            ? await call(base, 'POST', `/v1/customers/${update}`, { key: A.testSecret, params: { description: String(n) } })
            : await call(base, 'POST', '/v1/customers', { key: A.testSecret, params: { email } });
          const u = update ? this.updates.get(update) : undefined;
          if (u) u.tried = n;
          if (r.status !== 200) {
            this.refused.push({ status: r.status, retryAfter: r.headers.get('retry-after'), json: r.json, text: r.text });
          } else if (u) {
            u.ok = n;
          } else {
            this.created.push({ id: String(r.json.id), email });
            if (own === null) {
              own = String(r.json.id);
              this.updates.set(own, { ok: -1, tried: -1 });
            }
          }
        } catch (err) {
          this.dropped.push(err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}` : String(err));
        }
      }
    });
  }

  /** Waits until `more` further customers were created (the server works again under load). */
  async progress(more: number, what: string, server: ServerProcess): Promise<void> {
    const target = this.created.length + more;
    await waitUntil(what, () => {
      if (server.child.exitCode !== null) throw new Error(`the server process died:\n${server.output().slice(-3000)}`);
      return this.created.length >= target ? true : undefined;
    }, 20_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

/** A 503 in Stripe's API envelope with Retry-After, and nothing of the server's insides. */
function assertUnavailable(r: { status: number; retryAfter: string | null; json: Record<string, unknown>; text: string }, what: string): void {
  assert.equal(r.status, 503, `${what}: ${r.text}`);
  assert.ok(r.retryAfter !== null && /^\d+$/.test(r.retryAfter), `${what}: Retry-After`);
  const error = r.json.error as Record<string, unknown> | undefined;
  assert.equal(typeof error, 'object', `${what}: Stripe's envelope, not an OAuth code: ${r.text}`);
  assert.equal(error?.type, 'api_error', what);
  assert.match(String(error?.message), /temporarily unable/, what);
  assert.doesNotMatch(r.text, /\bat \S+ \(|node_modules|ECONN|57P0|SQLITE_|stack/i, `${what}: no internals`);
}

const asRefused = (r: HttpResponse): Refused => ({
  status: r.status,
  retryAfter: r.headers.get('retry-after'),
  json: r.json,
  text: r.text,
});

const count = (text: string, event: string) => text.split('\n').filter((l) => l.includes(`"event":"${event}"`)).length;

/** A connection of the test itself, never one of the server's (its application_name differs). */
async function admin<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL, application_name: 'connectd_outage_test' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The URL a spawned server uses: its own schema, and an application_name no other test uses. */
function serverUrl(schema: string, app: string, port?: number): string {
  const url = new URL(PG_URL);
  if (port !== undefined) url.port = String(port);
  url.searchParams.set('application_name', app);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

describe('PostgreSQL: every backend of the server terminated under load', () => {
  const schema = `outage_${randomBase62(10).toLowerCase()}`;
  // Only this server's connections are terminated: other test files share the database.
  const app = `connectd_${schema}`;
  const dir = mkdtempSync(join(tmpdir(), 'connectd-outage-'));
  let server: ServerProcess | undefined;

  before(async () => {
    await admin(`create schema "${schema}"`);
  });
  after(async () => {
    await server?.stop('SIGKILL');
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  // The CTE is materialized so the filter runs first: in one WHERE clause the planner may call
  // pg_terminate_backend on every backend of the cluster before testing application_name.
  const terminate = async () =>
    (
      await admin<{ pid: number }>(
        `with mine as materialized (
           select pid from pg_stat_activity where application_name = $1 and datname = current_database() and pid <> pg_backend_pid()
         ) select pid from mine where pg_terminate_backend(pid)`,
        [app],
      )
    ).length;

  it('stays up, answers 503 api_error meanwhile, recovers by itself, and stores every customer it answered 200 for', async () => {
    const seed = join(dir, 'seed.json');
    writeFileSync(seed, JSON.stringify(testSeed()));
    server = await spawnServer(['--db', serverUrl(schema, app), '--seed', seed, '--log-level', 'warn']);
    const load = new Load(server.url);
    let terminated = 0;
    try {
      await load.progress(30, 'customers before the first outage', server);
      for (let round = 0; round < 2; round++) {
        // A short outage: the server's backends are terminated again and again for half a second,
        // so requests in flight, idle pooled connections and fresh ones are all cut.
        for (let i = 0; i < 10; i++) {
          terminated += await terminate();
          await sleep(50);
        }
        await load.progress(30, `customers after outage ${round + 1}`, server);
      }
    } finally {
      await load.stop();
    }
    assert.ok(terminated > 0, 'the server had backends to terminate');
    assert.equal(server.child.exitCode, null, `the server process is alive:\n${server.output()}`);

    // The HTTP side never broke: every request got an answer, and every refusal was a clean 503.
    assert.deepEqual(load.dropped, []);
    assert.ok(load.refused.length > 0, 'requests cut by the outage were refused');
    for (const r of load.refused) assertUnavailable(r, 'refused during the outage');
    assert.match(server.output(), /"event":"database\.(connection_lost|unavailable)"/, 'the server saw the outage');

    // Healthy again, and nothing it acknowledged is lost or half-written.
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    const ids = load.created.map((c) => c.id);
    const rows = await admin<{ id: string; data: string }>(`select id, data from "${schema}".resources where id = any($1)`, [ids]);
    assert.equal(rows.length, ids.length, 'every customer answered 200 is stored');
    const stored = new Map(rows.map((r) => [r.id, (JSON.parse(r.data) as { email: string }).email]));
    for (const c of load.created) assert.equal(stored.get(c.id), c.email, c.id);
    // An update answered 200 is kept; a later one refused with a 503 may or may not have
    // committed (the connection can die after COMMIT reached the server), never half of it.
    const updated = await admin<{ id: string; data: string }>(`select id, data from "${schema}".resources where id = any($1)`, [[...load.updates.keys()]]);
    assert.equal(updated.length, load.updates.size);
    for (const row of updated) {
      const { ok, tried } = load.updates.get(row.id) ?? { ok: -1, tried: -1 };
      const description = (JSON.parse(row.data) as { description: string | null }).description;
      const n = description === null ? -1 : Number(description);
      assert.ok(ok >= 0, `customer ${row.id} was updated at least once`);
      assert.ok(n >= ok && n <= tried, `customer ${row.id}: stored update ${n}, last 200 ${ok}, last tried ${tried}`);
    }
  });
});

describe('PostgreSQL: database host unreachable, then back', () => {
  const schema = `outage_${randomBase62(10).toLowerCase()}`;
  const app = `connectd_${schema}`;
  const dir = mkdtempSync(join(tmpdir(), 'connectd-outage-'));
  const receiver = new Receiver();
  const pgAddress = new URL(PG_URL);
  const proxy = new TcpProxy(pgAddress.hostname, Number(pgAddress.port || 5432));
  let server: ServerProcess | undefined;

  before(async () => {
    await admin(`create schema "${schema}"`);
  });
  after(async () => {
    await server?.stop('SIGKILL');
    await proxy.down();
    await receiver.stop();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers each family its own 503 while the database is away, pauses webhooks, and resumes', async () => {
    const hooks = await receiver.start();
    const seed = testSeed();
    const platform = seed.accounts[0]?.platform;
    assert.ok(platform);
    platform.webhook_endpoints = [{ url: `${hooks}/hook`, secret: 'whsec_OutageSecretAAAAAAAAAAAAAAAAAAAA', livemode: false }];
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(seed));
    const port = await proxy.up();
    server = await spawnServer(['--db', serverUrl(schema, app, port), '--seed', seedFile, '--log-level', 'info', '--webhook-retry', 'fast'], {
      CONNECTD_WEBHOOK_POLL_MS: '50',
    });
    const base = server.url;
    const { code, stripe_user_id: account } = await helperCode(base, A.testSecret, { client_id: A.clientIdTest, scope: 'read_write' });
    const auth = { authorization: `Bearer ${A.testSecret}` };

    await proxy.down();

    assertUnavailable(asRefused(await call(base, 'POST', '/v1/customers', { key: A.testSecret, params: { email: 'x@example.com' } })), 'POST /v1/customers');
    assertUnavailable(asRefused(await call(base, 'GET', '/v1/customers', { key: A.testSecret })), 'GET /v1/customers');
    // Under /oauth too the REST api_error shape: only the six OAuth codes may use the OAuth
    // envelope (stripe-python fails on any other), exactly as for a 500.
    const token = await post(`${base}/oauth/token`, { grant_type: 'authorization_code', code }, auth);
    assertUnavailable(asRefused(token), 'POST /oauth/token');
    assert.equal(token.headers.get('cache-control'), 'no-store');
    assertUnavailable(asRefused(await post(`${base}/oauth/deauthorize`, { client_id: A.clientIdTest, stripe_user_id: account }, auth)), 'POST /oauth/deauthorize');
    const page = await fetch(`${base}/login`);
    const html = await page.text();
    assert.equal(page.status, 503);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(html, /Temporarily unavailable/);
    assert.doesNotMatch(html, /ECONN|\bat \S+ \(|stack/i);
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 503);
    assert.deepEqual(await health.json(), { status: 'unavailable' });
    await waitUntil('the health check failure in the log', () => (/"event":"healthz\.unavailable".*"reason":"ECONNREFUSED"/.test(server?.output() ?? '') ? true : undefined));

    // The worker logs the outage once, however many times it polls meanwhile.
    await waitUntil('the worker noticing the outage', () => (count(server?.output() ?? '', 'webhook.claim_failed') > 0 ? true : undefined));
    await sleep(1_000);
    assert.equal(count(server.output(), 'webhook.claim_failed'), 1);
    assert.equal(server.child.exitCode, null, 'the server process is alive');

    await proxy.up();

    await waitUntil('healthy again', async () => ((await fetch(`${base}/healthz`)).status === 200 ? true : undefined));
    // The refused exchange burnt nothing: the same code works now, and its event is delivered.
    const again = await post(`${base}/oauth/token`, { grant_type: 'authorization_code', code }, auth);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.stripe_user_id, account);
    const [delivered] = await receiver.waitFor(1, 20_000, '/hook');
    assert.equal((JSON.parse(delivered?.body ?? '{}') as { type: string }).type, 'account.application.authorized');
    await waitUntil('the worker resuming in the log', () => (count(server?.output() ?? '', 'webhook.claims_resumed') > 0 ? true : undefined));
    assert.equal(count(server.output(), 'webhook.claims_resumed'), 1);
    assert.equal(count(server.output(), 'webhook.claim_failed'), 1);
  });
});

/**
 * A disk the test can fill and free under a running server. A real tmpfs of a few MB when this
 * process may mount one (root with CAP_SYS_ADMIN, as in CI): filling it gives SQLite ENOSPC, i.e.
 * SQLITE_FULL. Otherwise the server's file size limit (RLIMIT_FSIZE, set on the running process
 * with util-linux prlimit) drops to 1 byte: every write to its files fails with EFBIG, which SQLite
 * reports as SQLITE_IOERR_WRITE.
 */
interface DiskFault {
  dir: string;
  mechanism: 'tmpfs' | 'rlimit';
  fill(pid: number): void;
  free(pid: number): void;
  cleanup(): void;
}

function diskFault(): DiskFault {
  const dir = mkdtempSync(join(tmpdir(), 'connectd-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'connectd-test', dir], { stdio: 'ignore' });
  } catch {
    return {
      dir,
      mechanism: 'rlimit',
      fill: (pid) => execFileSync('prlimit', ['--pid', String(pid), '--fsize=1:']),
      free: (pid) => execFileSync('prlimit', ['--pid', String(pid), '--fsize=unlimited:']),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    mechanism: 'tmpfs',
    fill: () => {
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (;;) {
        try {
          writeFileSync(filler, chunk, { flag: 'a' });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
      assert.ok(statfsSync(dir).bavail * statfsSync(dir).bsize < 64 * 1024, 'the disk is full');
    },
    free: () => rmSync(filler, { force: true }),
    cleanup: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('SQLite: the disk fills up, and another process holds the write lock', () => {
  const fault = diskFault();
  const file = join(fault.dir, 'data', 'connectd.sqlite');
  let server: ServerProcess | undefined;

  before(() => mkdirSync(join(fault.dir, 'data')));
  after(async () => {
    await server?.stop('SIGKILL');
    fault.cleanup();
  });

  const stored = (ids: string[]) => {
    const db = new Database(file);
    try {
      return db.prepare(`select id, data from resources where id in (${ids.map(() => '?').join(',')})`).all(...ids) as Array<{ id: string; data: string }>;
    } finally {
      db.close();
    }
  };

  it(`answers 503 api_error while nothing can be written (${fault.mechanism}), stays up, and saves again once space returns`, async () => {
    const seed = join(fault.dir, 'seed.json');
    writeFileSync(seed, JSON.stringify(testSeed()));
    server = await spawnServer(['--db', file, '--seed', seed, '--log-level', 'warn']);
    const base = server.url;
    const pid = server.child.pid ?? 0;
    // Large metadata so that each write needs new pages.
    const metadata = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(480)]));
    const params = (email: string, extra: Record<string, string> = {}) => ({ email, ...extra, metadata });
    const first = await call(base, 'POST', '/v1/customers', { key: A.testSecret, params: params('first@example.com') });
    assert.equal(first.status, 200, first.text);
    const firstId = String(first.json.id);

    fault.fill(pid);

    // Creations (one insert) and updates (a transaction) alternate until the disk refuses them.
    const created: Created[] = [];
    let lastUpdate: string | null = null;
    const refused: Refused[] = [];
    for (let i = 0; i < 400 && refused.length < 6; i++) {
      const email = `full-${i}@example.com`;
      const r =
        i % 2 === 0
          ? await call(base, 'POST', '/v1/customers', { key: A.testSecret, params: params(email) })
          : await call(base, 'POST', `/v1/customers/${firstId}`, { key: A.testSecret, params: params(email, { description: `update ${i}` }) });
      if (r.status === 200) {
        if (i % 2 === 0) created.push({ id: String(r.json.id), email });
        else lastUpdate = email;
      } else {
        refused.push(asRefused(r));
      }
    }
    assert.ok(refused.length > 0, 'the full disk refused writes');
    for (const r of refused) assertUnavailable(r, 'write on a full disk');
    assert.equal(server.child.exitCode, null, 'the server process is alive');
    await waitUntil('the SQLITE_FULL or IOERR log line', () =>
      /"event":"database\.unavailable".*"reason":"SQLITE_(FULL|IOERR)/.test(server?.output() ?? '') ? true : undefined,
    );
    assert.doesNotMatch(server.output(), /unexpected error/);

    fault.free(pid);

    const again = await waitUntil('writes accepted again', async () => {
      const r = await call(base, 'POST', '/v1/customers', { key: A.testSecret, params: params('again@example.com') });
      return r.status === 200 ? r : undefined;
    });
    created.push({ id: String(again.json.id), email: 'again@example.com' });
    const rows = new Map(stored([...created.map((c) => c.id), firstId]).map((r) => [r.id, JSON.parse(r.data) as { email: string }]));
    for (const c of created) assert.equal(rows.get(c.id)?.email, c.email, `customer ${c.id} answered 200 is stored`);
    // Updates refused mid-transaction left nothing behind: the customer is as the last 200 left it.
    assert.equal(rows.get(firstId)?.email, lastUpdate ?? 'first@example.com');
  });

  it('answers 503 api_error when the write lock stays taken past the busy timeout, then works again', async () => {
    assert.ok(server, 'the server of the previous test');
    const base = server.url;
    const blocker = new Database(file);
    try {
      blocker.exec('begin immediate');
      const r = await call(base, 'POST', '/v1/customers', { key: A.testSecret, params: { email: 'busy@example.com' } });
      assertUnavailable(asRefused(r), 'write while locked');
      // The log line travels through a pipe and may arrive after the response.
      await waitUntil('the SQLITE_BUSY log line', () => (/"reason":"SQLITE_BUSY"/.test(server?.output() ?? '') ? true : undefined));
    } finally {
      blocker.exec('rollback');
      blocker.close();
    }
    const ok = await call(base, 'POST', '/v1/customers', { key: A.testSecret, params: { email: 'busy@example.com' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(server.child.exitCode, null);
  });
});
