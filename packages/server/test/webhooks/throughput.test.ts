// Webhooks that keep up (issue 8, docs/webhooks.md "Delivery"): connectd as real processes and a
// real receiver. A backlog committed by a process without a worker (`--webhook-worker off`) is
// delivered whole by a worker process started later, once each, signed, with the receiver never
// seeing more than the per-endpoint cap open at once; two worker processes on one PostgreSQL
// schema share a backlog without a duplicate and together stay within the cap; a committed event
// reaches the receiver with the poll effectively off (the commit wakes the worker); and with the
// worker off nothing is sent.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { randomBase62 } from '../../src/domain/ids.ts';
import { A } from '../support/fixtures.ts';
import { connectNew } from '../support/flow.ts';
import { pool, writeHookSeed } from '../support/hooks.ts';
import { spawnServer, type ServerProcess } from '../support/process.ts';
import { Receiver, type Received } from '../support/receiver.ts';
import { dropSchema, PG_URL } from '../support/server.ts';
import { webhooks } from '../support/stripe.ts';
import { sleep, waitUntil } from '../support/wait.ts';

const SECRET = 'whsec_ThroughputSecretAAAAAAAAAAAAAAAA';
/** The per-endpoint cap (docs/webhooks.md). */
const CAP = 4;

const eventId = (r: Received) => (JSON.parse(r.body) as { id: string }).id;
/** A fresh account connected to platform A (one account.application.authorized event each). */
const connect = async (base: string) => (await connectNew(base, A)).accountId;
const writeSeed = (dir: string, name: string, hookUrls: string[]) => writeHookSeed(dir, name, hookUrls, SECRET);

const serve = (db: string, seed: string, extra: string[] = [], env: Record<string, string> = {}) =>
  spawnServer(['--db', db, '--seed', seed, '--log-level', 'info', '--webhook-retry', 'fast', ...extra], env);

/**
 * A receiver that answers each request a little later (so requests overlap as they would at a
 * real endpoint) and records, per path, the most requests it held open at once.
 */
function countingReceiver(): { receiver: Receiver; most: Map<string, number> } {
  const receiver = new Receiver();
  const open = new Map<string, number>();
  const most = new Map<string, number>();
  receiver.respond = async (r) => {
    const n = (open.get(r.path) ?? 0) + 1;
    open.set(r.path, n);
    most.set(r.path, Math.max(most.get(r.path) ?? 0, n));
    await sleep(3);
    open.set(r.path, (open.get(r.path) ?? 1) - 1);
    return 200;
  };
  return { receiver, most };
}

/** Every request to `path` verifies with stripe-node, and no event arrived twice. */
function assertOnceEach(received: Received[], path: string, expected: number): void {
  const got = received.filter((r) => r.path === path);
  for (const r of got) webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), SECRET);
  const ids = new Set(got.map(eventId));
  assert.equal(ids.size, expected, `${path}: ${ids.size} distinct events of ${expected}`);
  assert.equal(got.length, expected, `${path}: ${got.length - ids.size} events delivered twice`);
}

describe('a backlog drained by a worker process (SQLite)', () => {
  const N = 1000;
  const dir = mkdtempSync(join(tmpdir(), 'connectd-drain-'));
  const { receiver, most } = countingReceiver();
  const procs: ServerProcess[] = [];
  let hooks = '';
  before(async () => (hooks = await receiver.start()));
  after(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = <T>(file: string, sql: string): T[] => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };

  it(`--webhook-worker off commits ${N} events and sends none; a worker process started later delivers each once, within the cap`, async () => {
    const file = join(dir, 'drain.sqlite');
    const seed = writeSeed(dir, 'drain', [`${hooks}/drain`]);
    const web = await serve(file, seed, ['--webhook-worker', 'off'], { CONNECTD_WEBHOOK_POLL_MS: '20' });
    procs.push(web);
    await waitUntil('the worker-off line in the log', () => (/"event":"webhook\.worker_off"/.test(web.output()) ? true : undefined));
    await pool(N, 20, () => connect(web.url));
    // A worker would have polled dozens of times by now (20 ms): this process has none.
    await sleep(500);
    assert.equal(receiver.received.length, 0, 'nothing sent by the process without a worker');
    const [queued] = rows<{ n: number }>(file, `select count(*) as n from deliveries where status = 'pending' and attempts = 0 and lease_owner is null`);
    assert.equal(queued?.n, N, 'every event queued, none claimed');

    // The worker process runs beside the web process, on the same database.
    const worker = await serve(file, seed);
    procs.push(worker);
    await receiver.waitFor(N, 60_000, '/drain');
    await waitUntil('every delivery recorded', () => (rows<{ n: number }>(file, `select count(*) as n from deliveries where status != 'succeeded'`)[0]?.n === 0 ? true : undefined), 30_000);
    assert.equal(await worker.stop(), 0);
    assert.equal(await web.stop(), 0);

    assertOnceEach(receiver.received, '/drain', N);
    assert.ok((most.get('/drain') ?? 0) <= CAP, `${most.get('/drain')} requests open at once`);
    assert.ok((most.get('/drain') ?? 0) >= 2, 'requests to the endpoint overlapped');
    const [attempts] = rows<{ n: number; owners: number }>(file, `select count(*) as n, count(distinct owner) as owners from delivery_attempts`);
    assert.deepEqual(attempts, { n: N, owners: 1 }, 'one attempt per delivery, all by the worker process');
    assert.equal(rows(file, 'select 1 from events where pending_webhooks != 0').length, 0);
    assert.equal(rows(file, 'select 1 from deliveries where lease_owner is not null or lease_until is not null').length, 0, 'no lease left behind');
  });

  it('a committed event reaches the receiver without a poll: the commit wakes the worker', async () => {
    const file = join(dir, 'notice.sqlite');
    const seed = writeSeed(dir, 'notice', [`${hooks}/notice`]);
    // The longest poll allowed: after its first look at start, the worker polls again only in 60 s.
    const server = await serve(file, seed, [], { CONNECTD_WEBHOOK_POLL_MS: '60000' });
    procs.push(server);
    await sleep(300);
    for (let i = 1; i <= 5; i++) {
      await connect(server.url);
      // Each one arrives well inside the 60 s before the next poll.
      await receiver.waitFor(i, 15_000, '/notice');
    }
    assert.equal(await server.stop(), 0);
    assertOnceEach(receiver.received, '/notice', 5);
  });
});

describe('two worker processes on one PostgreSQL schema share a backlog', () => {
  const N = 400;
  const paths = ['/pgA', '/pgB'];
  const dir = mkdtempSync(join(tmpdir(), 'connectd-drain-pg-'));
  const schema = `drain_${randomBase62(10).toLowerCase()}`;
  const dbUrl = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const { receiver, most } = countingReceiver();
  const procs: ServerProcess[] = [];
  let hooks = '';
  before(async () => {
    hooks = await receiver.start();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`create schema "${schema}"`);
    await client.end();
  });
  after(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await receiver.stop();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  async function query<T>(sql: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it(`deliver ${N} events to each of 2 endpoints once each, never more than ${CAP} open per endpoint over both`, async (t) => {
    const seed = writeSeed(dir, 'pg', paths.map((p) => `${hooks}${p}`));
    const web = await serve(dbUrl, seed, ['--webhook-worker', 'off']);
    procs.push(web);
    await pool(N, 20, () => connect(web.url));
    assert.equal(await web.stop(), 0);
    const [queued] = await query<{ n: string }>(`select count(*) as n from deliveries where status = 'pending' and attempts = 0`);
    assert.equal(Number(queued?.n), N * paths.length, 'every event queued, none sent yet');

    // A 3 s lease leaves each batch about 0.3 s to be sent in (a request may take up to 2.5 s), so
    // batches stay small and the endpoints pass between the processes many times.
    const env = { CONNECTD_WEBHOOK_POLL_MS: '50', CONNECTD_WEBHOOK_LEASE_MS: '3000' };
    const pair = await Promise.all([serve(dbUrl, seed, [], env), serve(dbUrl, seed, [], env)]);
    procs.push(...pair);
    for (const p of paths) await receiver.waitFor(N, 60_000, p);
    await waitUntil('every delivery recorded', async () => {
      const [left] = await query<{ n: string }>(`select count(*) as n from deliveries where status != 'succeeded'`);
      return Number(left?.n) === 0 ? true : undefined;
    });
    for (const p of pair) assert.equal(await p.stop(), 0);

    t.diagnostic(`most requests open at once: ${JSON.stringify(Object.fromEntries(most))}`);
    for (const p of paths) {
      assertOnceEach(receiver.received, p, N);
      assert.ok((most.get(p) ?? 0) <= CAP, `${p}: ${most.get(p)} requests open at once`);
    }
    const attempts = await query<{ owner: string; n: string }>(`select owner, count(*) as n from delivery_attempts group by owner`);
    assert.equal(attempts.reduce((s, a) => s + Number(a.n), 0), N * paths.length, 'one attempt per delivery');
    assert.equal(attempts.length, 2, `both processes delivered: ${JSON.stringify(attempts)}`);
    const [pending] = await query<{ n: string }>(`select count(*) as n from events where pending_webhooks != 0`);
    assert.equal(Number(pending?.n), 0);
  });
});

describe('--webhook-worker', () => {
  it('is on by default, off by flag or CONNECTD_WEBHOOK_WORKER, the flag winning; other values are refused by name', () => {
    assert.equal(loadConfig(['serve'], {}).config.webhookWorker, 'on');
    assert.equal(loadConfig(['serve', '--webhook-worker', 'off'], {}).config.webhookWorker, 'off');
    assert.equal(loadConfig(['serve'], { CONNECTD_WEBHOOK_WORKER: 'off' }).config.webhookWorker, 'off');
    assert.equal(loadConfig(['serve', '--webhook-worker', 'on'], { CONNECTD_WEBHOOK_WORKER: 'off' }).config.webhookWorker, 'on');
    assert.throws(() => loadConfig(['serve', '--webhook-worker', 'maybe'], {}), (err: unknown) => err instanceof ConfigError && /--webhook-worker/.test(err.message));
  });
});
