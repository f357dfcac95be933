// Chaos (issue 4 "Crash safety", "Two server processes"): connectd as real child processes killed
// with SIGKILL. Nothing committed is lost: an event committed before the kill is delivered after a
// restart, a delivery cut off mid-request is sent again once its lease expires, and two processes
// on one PostgreSQL schema share 1,000 deliveries without a duplicate while healthy, still deliver
// every event when one of them dies mid-run, and together never exceed the per-endpoint cap.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { randomBase62 } from '../../src/domain/ids.ts';
import { A } from '../support/fixtures.ts';
import { connectNew } from '../support/flow.ts';
import { pool, writeHookSeed } from '../support/hooks.ts';
import { spawnServer, type ServerProcess } from '../support/process.ts';
import { Receiver, type Received } from '../support/receiver.ts';
import { dropSchema, PG_URL } from '../support/server.ts';
import { webhooks } from '../support/stripe.ts';
import { sleep, waitUntil } from '../support/wait.ts';

const SECRET = 'whsec_CrashSecretAAAAAAAAAAAAAAAAAAAAA';

interface WireEvent {
  id: string;
  account: string;
  type: string;
}
const parse = (r: Received) => JSON.parse(r.body) as WireEvent;
/** A fresh account connected to platform A (one account.application.authorized event each). */
const connect = async (base: string) => (await connectNew(base, A)).accountId;
const writeSeed = (dir: string, name: string, ...hookUrls: string[]) => writeHookSeed(dir, name, hookUrls, SECRET);

const serve = (db: string, seed: string, env: Record<string, string>, logLevel = 'warn', extra: string[] = []) =>
  spawnServer(['--db', db, '--seed', seed, '--log-level', logLevel, '--webhook-retry', 'fast', ...extra], env);
/** A process that commits events but delivers none (its worker is off), as a web-only process. */
const serveWithoutWorker = (db: string, seed: string) => serve(db, seed, {}, 'warn', ['--webhook-worker', 'off']);

describe('crash safety on SQLite (one process, killed and restarted)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'connectd-crash-'));
  const receiver = new Receiver();
  let hooks = '';
  const procs: ServerProcess[] = [];
  before(async () => (hooks = await receiver.start()));
  after(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = (file: string, sql: string) => {
    const db = new Database(file);
    try {
      return db.prepare(sql).all() as Array<Record<string, unknown>>;
    } finally {
      db.close();
    }
  };

  it('SIGKILL between commit and send: every committed event is delivered after a restart', async () => {
    const file = join(dir, 'a.sqlite');
    const seed = writeSeed(dir, 'a', `${hooks}/a`);
    // No worker in the first process: every event stays queued, committed and unsent, until the kill.
    const first = await serveWithoutWorker(file, seed);
    procs.push(first);
    const accounts = await pool(5, 5, () => connect(first.url));
    await sleep(300);
    assert.equal(receiver.received.filter((r) => r.path === '/a').length, 0, 'nothing sent before the kill');
    assert.equal(await first.stop('SIGKILL'), null, 'killed by the signal');
    const queued = rows(file, `select status, attempts from deliveries`);
    assert.equal(queued.length, 5, 'the outbox committed one delivery per event');
    assert.ok(queued.every((d) => d.status === 'pending' && d.attempts === 0));

    const second = await serve(file, seed, { CONNECTD_WEBHOOK_POLL_MS: '100' });
    procs.push(second);
    const got = await receiver.waitFor(5, 15_000, '/a');
    const events = got.map((r) => webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), SECRET));
    assert.deepEqual(events.map((e) => e.account).sort(), [...accounts].sort());
    assert.ok(events.every((e) => e.type === 'account.application.authorized'));
    await waitUntil('deliveries recorded', () => (rows(file, `select 1 from deliveries where status != 'succeeded'`).length === 0 ? true : undefined));
    assert.equal(await second.stop(), 0);
    assert.deepEqual(rows(file, 'select pending_webhooks from events').map((e) => e.pending_webhooks), [0, 0, 0, 0, 0]);
  });

  it('SIGKILL mid-delivery: the delivery is sent again once its lease expires, and nothing is lost', async () => {
    const file = join(dir, 'b.sqlite');
    const seed = writeSeed(dir, 'b', `${hooks}/b`);
    // The lease (4 s) outlasts a restart (about 1-2 s), so a resend before it expires would show.
    const env = { CONNECTD_WEBHOOK_POLL_MS: '100', CONNECTD_WEBHOOK_LEASE_MS: '4000' };
    let calls = 0;
    receiver.respond = (r) => (r.path === '/b' && ++calls === 1 ? 'hang' : 200);
    const first = await serve(file, seed, env);
    procs.push(first);
    const hung = await connect(first.url);
    const [hungReq] = await receiver.waitFor(1, 10_000, '/b');
    assert.ok(hungReq);
    const hungId = parse(hungReq).id;
    // Two more events while the first request hangs: the endpoint answers them at once.
    const others = [await connect(first.url), await connect(first.url)];
    await waitUntil('the other two delivered', () =>
      others.every((a) => receiver.received.some((r) => r.path === '/b' && parse(r).account === a)) ? true : undefined,
    );
    assert.equal(await first.stop('SIGKILL'), null);

    const second = await serve(file, seed, env);
    procs.push(second);
    const again = await waitUntil('the hung event sent again', () => receiver.received.filter((r) => r.path === '/b' && parse(r).id === hungId)[1], 15_000);
    assert.ok(again.at - hungReq.at >= 3_500, `resent ${again.at - hungReq.at} ms after the first attempt: not before the lease expired`);
    const ev = webhooks.constructEvent(again.body, String(again.headers['stripe-signature']), SECRET);
    assert.equal(ev.account, hung);
    assert.equal(again.body, hungReq.body, 'the same event, byte for byte');
    await waitUntil('deliveries recorded', () => (rows(file, `select 1 from deliveries where status != 'succeeded'`).length === 0 ? true : undefined));
    assert.equal(await second.stop(), 0);
    const delivered = new Set(receiver.received.filter((r) => r.path === '/b').map((r) => parse(r).account));
    assert.deepEqual([...delivered].sort(), [hung, ...others].sort());
    assert.equal(rows(file, 'select 1 from events where pending_webhooks != 0').length, 0);
    receiver.respond = () => 200;
  });
});

describe('two server processes on one PostgreSQL schema', () => {
  const N = 1000;
  const dir = mkdtempSync(join(tmpdir(), 'connectd-pg2-'));
  const schemas = [0, 1, 2].map(() => `chaos_${randomBase62(10).toLowerCase()}`);
  const receiver = new Receiver();
  let hooks = '';
  const procs: ServerProcess[] = [];
  const dbUrl = (schema: string) => `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  before(async () => {
    hooks = await receiver.start();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    for (const s of schemas) await client.query(`create schema "${s}"`);
    await client.end();
  });
  after(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await receiver.stop();
    for (const s of schemas) await dropSchema(s);
    rmSync(dir, { recursive: true, force: true });
  });

  async function query<T>(schema: string, sql: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: dbUrl(schema) });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /**
   * Commits N events with a producer process without a worker (`--webhook-worker off`), then stops
   * it: the two delivering processes start on a full queue and compete for it.
   */
  async function produce(schema: string, seed: string, events = N, endpoints = 1): Promise<string[]> {
    const producer = await serveWithoutWorker(dbUrl(schema), seed);
    procs.push(producer);
    const accounts = await pool(events, 20, () => connect(producer.url));
    assert.equal(await producer.stop(), 0);
    const [queued] = await query<{ n: string }>(schema, `select count(*) as n from deliveries where status = 'pending' and attempts = 0`);
    assert.equal(Number(queued?.n), events * endpoints, 'every event queued, none sent yet');
    return accounts;
  }

  /** Starts two delivering processes; the receiver holds its answers until both are up. */
  async function startPair(schema: string, seed: string, path: string, leaseMs: number): Promise<ServerProcess[]> {
    let up: () => void = () => undefined;
    const bothUp = new Promise<void>((resolve) => (up = resolve));
    receiver.respond = (r) => (r.path === path ? bothUp.then(() => 200) : 200);
    const env = { CONNECTD_WEBHOOK_POLL_MS: '50', CONNECTD_WEBHOOK_LEASE_MS: String(leaseMs) };
    // Info logs name each process's worker (webhook.worker_started), so a test can tell them apart.
    const pair = await Promise.all([serve(dbUrl(schema), seed, env, 'info'), serve(dbUrl(schema), seed, env, 'info')]);
    procs.push(...pair);
    up();
    return pair;
  }

  const at = (path: string) => receiver.received.filter((r) => r.path === path);
  const unique = (path: string) => new Set(at(path).map((r) => parse(r).id));

  it(`deliver ${N} events with zero duplicate (event, endpoint) deliveries while healthy`, async () => {
    const [schema = ''] = schemas;
    const seed = writeSeed(dir, 'healthy', `${hooks}/healthy`);
    const accounts = await produce(schema, seed);
    const pair = await startPair(schema, seed, '/healthy', 10_000);
    await waitUntil(`${N} deliveries`, () => (unique('/healthy').size >= N ? true : undefined), 40_000);
    await waitUntil('every delivery recorded', async () => {
      const [left] = await query<{ n: string }>(schema, `select count(*) as n from deliveries where status != 'succeeded'`);
      return Number(left?.n) === 0 ? true : undefined;
    });
    await sleep(500);
    for (const p of pair) assert.equal(await p.stop(), 0);

    const got = at('/healthy');
    assert.equal(got.length, N, `${got.length - unique('/healthy').size} duplicate deliveries`);
    assert.deepEqual(new Set(got.map((r) => parse(r).account)), new Set(accounts));
    for (const r of got.slice(0, 50)) webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), SECRET);
    const attempts = await query<{ owner: string; n: string }>(schema, `select owner, count(*) as n from delivery_attempts group by owner`);
    assert.equal(attempts.reduce((s, a) => s + Number(a.n), 0), N, 'one attempt per delivery');
    assert.equal(attempts.length, 2, `both processes delivered: ${JSON.stringify(attempts)}`);
    const [pending] = await query<{ n: string }>(schema, `select count(*) as n from events where pending_webhooks != 0`);
    assert.equal(Number(pending?.n), 0);
  });

  it(`deliver every one of ${N} events when one process is SIGKILLed mid-run`, async (t) => {
    const [, schema = ''] = schemas;
    const seed = writeSeed(dir, 'kill', `${hooks}/kill`);
    const accounts = await produce(schema, seed);
    const pair = await startPair(schema, seed, '/kill', 2_000);
    await waitUntil('a third delivered', () => (unique('/kill').size >= N / 3 ? true : undefined), 30_000);
    // Hold the answers until the endpoint's 4 slots (the per-endpoint cap, over both processes) are
    // taken, then kill the process holding leases: its claimed deliveries (sent and unanswered, or
    // claimed in its batch and not sent yet) are left leased in its name.
    let held = 0;
    let letGo: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => (letGo = resolve));
    const unanswered: Received[] = [];
    receiver.respond = (r) => (r.path === '/kill' ? (held++, unanswered.push(r), hold.then(() => 200)) : 200);
    await waitUntil('4 requests in flight', () => (held >= 4 ? true : undefined), 10_000);
    const holders = await query<{ owner: string; n: string }>(schema, `select lease_owner as owner, count(*) as n from deliveries where status = 'pending' and lease_owner is not null group by lease_owner order by count(*) desc`);
    const victim = pair.find((p) => holders[0] && p.output().includes(holders[0].owner));
    const survivor = pair.find((p) => p !== victim);
    assert.ok(victim && survivor, `a process holds leases: ${JSON.stringify(holders)}`);
    assert.equal(await victim.stop('SIGKILL'), null);
    // One process holds an endpoint at a time, so every request held open came from the victim.
    const unansweredAtKill = unanswered.map((r) => parse(r).id);
    const atKill = unique('/kill').size;
    assert.ok(atKill < N, 'killed mid-run');
    // Within the 2 s lease: the dead process's claims are still held in its name.
    const attemptsAtKill = await query<{ owner: string; n: string }>(schema, `select owner, count(*) as n from delivery_attempts group by owner`);
    const leasesAtKill = await query<{ owner: string; n: string }>(schema, `select lease_owner as owner, count(*) as n from deliveries where status = 'pending' and lease_owner is not null group by lease_owner`);
    letGo();
    await waitUntil(`all ${N} delivered`, () => (unique('/kill').size >= N ? true : undefined), 40_000);
    await waitUntil('every delivery recorded', async () => {
      const [left] = await query<{ n: string }>(schema, `select count(*) as n from deliveries where status != 'succeeded'`);
      return Number(left?.n) === 0 ? true : undefined;
    });
    assert.equal(await survivor.stop(), 0);

    assert.deepEqual(new Set(at('/kill').map((r) => parse(r).account)), new Set(accounts), 'every event delivered');
    const [pending] = await query<{ n: string }>(schema, `select count(*) as n from events where pending_webhooks != 0`);
    assert.equal(Number(pending?.n), 0);
    const owners = await query<{ owner: string; n: string }>(schema, `select owner, count(*) as n from delivery_attempts group by owner`);
    assert.equal(owners.length, 2, 'both processes delivered before the kill');
    // The dead process is the one whose attempts stopped at the kill.
    const dead = owners.find((o) => attemptsAtKill.some((k) => k.owner === o.owner && k.n === o.n))?.owner;
    assert.ok(dead, 'one process made no attempt after the kill');
    const orphaned = Number(leasesAtKill.find((l) => l.owner === dead)?.n ?? 0);
    const [stillDead] = await query<{ n: string }>(schema, `select count(*) as n from deliveries where lease_owner = '${dead}'`);
    assert.equal(Number(stillDead?.n), 0, 'every claim of the dead process was taken over');
    assert.ok(orphaned >= 1, `the dead process held ${orphaned} leases`);
    const dupes = at('/kill').length - unique('/kill').size;
    // Its sent, unanswered deliveries were sent again (same event ids) once their lease expired;
    // the ones it had claimed but not sent were sent once, by the survivor.
    assert.ok(unansweredAtKill.length >= 4);
    for (const id of unansweredAtKill) assert.ok(at('/kill').filter((r) => parse(r).id === id).length >= 2, `unanswered ${id} was sent again`);
    assert.ok(dupes >= unansweredAtKill.length, `its ${unansweredAtKill.length} unanswered deliveries were sent again: ${dupes} duplicates`);
    t.diagnostic(`killed after ${atKill}/${N} deliveries; ${orphaned} deliveries leased by the dead process, ${unansweredAtKill.length} of them sent and unanswered; ${dupes} sent twice`);
  });

  it('never more than 4 concurrent requests to one endpoint, over both processes', async (t) => {
    const [, , schema = ''] = schemas;
    const paths = ['/capA', '/capB'];
    const seed = writeSeed(dir, 'cap', ...paths.map((p) => `${hooks}${p}`));
    const events = 60;
    await produce(schema, seed, events, paths.length);
    // A slow receiver: each answer takes 150 ms, and it records the most requests open at once per endpoint.
    const open = new Map<string, number>();
    const most = new Map<string, number>();
    receiver.respond = async (r) => {
      if (!paths.includes(r.path)) return 200;
      const n = (open.get(r.path) ?? 0) + 1;
      open.set(r.path, n);
      most.set(r.path, Math.max(most.get(r.path) ?? 0, n));
      await sleep(150);
      open.set(r.path, (open.get(r.path) ?? 1) - 1);
      return 200;
    };
    const env = { CONNECTD_WEBHOOK_POLL_MS: '20', CONNECTD_WEBHOOK_LEASE_MS: '10000' };
    const pair = await Promise.all([serve(dbUrl(schema), seed, env), serve(dbUrl(schema), seed, env)]);
    procs.push(...pair);
    for (const p of paths) await waitUntil(`${events} deliveries to ${p}`, () => (unique(p).size >= events ? true : undefined), 60_000);
    await waitUntil('every delivery recorded', async () => {
      const [left] = await query<{ n: string }>(schema, `select count(*) as n from deliveries where status != 'succeeded'`);
      return Number(left?.n) === 0 ? true : undefined;
    });
    for (const p of pair) assert.equal(await p.stop(), 0);
    t.diagnostic(`most concurrent requests: ${JSON.stringify(Object.fromEntries(most))}`);
    for (const p of paths) assert.ok((most.get(p) ?? 0) <= 4, `${p}: ${most.get(p)} requests at once`);
    const owners = await query<{ owner: string }>(schema, `select distinct owner from delivery_attempts`);
    assert.equal(owners.length, 2, 'both processes delivered');
    receiver.respond = () => 200;
  });
});
