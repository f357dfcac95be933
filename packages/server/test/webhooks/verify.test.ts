// Events and webhook endpoints end to end (issue 4; docs/contract.md Part A "Events", "Webhook delivery",
// Part B §4): deliveries verify with stripe-node AND python3-stripe, endpoints made through
// /v1/webhook_endpoints show their secret once, a rolled secret signs alongside the new one until
// its overlap ends, disabled endpoints and enabled_events filter deliveries, /v1/events lists and
// retrieves, pending_webhooks counts down, and `connectd trigger` delivers through a running server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import pg from 'pg';
import Stripe from 'stripe';
import { randomBase62 } from '../../src/domain/ids.ts';
import { A, B, M, testSeed } from '../support/fixtures.ts';
import { connectNew, deauthorize } from '../support/flow.ts';
import { call } from '../support/api.ts';
import type { Form } from '../support/http.ts';
import { runCli, spawnServer, type ServerProcess } from '../support/process.ts';
import { Receiver, type Received } from '../support/receiver.ts';
import { DB_KINDS, dropSchema, PG_URL, startTestServer, type TestServer } from '../support/server.ts';
import { sdk, webhooks } from '../support/stripe.ts';
import { sleep, waitUntil } from '../support/wait.ts';

interface WireEvent {
  id: string;
  object: string;
  account: string;
  api_version: string | null;
  created: number;
  data: { object: { id: string; object: string; name: string | null } };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null } | null;
  type: string;
}

interface ListBody {
  object: string;
  url: string;
  has_more: boolean;
  data: WireEvent[];
}

// python3-stripe 5 (Debian) verifies each {payload, header, secret} with Webhook.construct_event.
const PY_VERIFY = `
import json, sys
import stripe
out = []
for item in json.load(sys.stdin):
    try:
        e = stripe.Webhook.construct_event(item["payload"], item["header"], item["secret"])
        out.append({"ok": True, "id": e.id, "type": e.type, "account": e.get("account"), "application": e.data.object.id})
    except stripe.error.SignatureVerificationError as err:
        out.append({"ok": False, "error": str(err)})
print(json.dumps(out))
`;

type PyResult = { ok: true; id: string; type: string; account: string; application: string } | { ok: false; error: string };

function pythonVerify(items: Array<{ payload: string; header: string; secret: string }>): Promise<PyResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', ['-I', '-c', PY_VERIFY], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`python3 exited with ${code}: ${stderr}`));
      resolve(JSON.parse(stdout) as PyResult[]);
    });
    child.stdin.end(JSON.stringify(items));
  });
}

const sig = (r: Received) => String(r.headers['stripe-signature']);
const parse = (r: Received) => JSON.parse(r.body) as WireEvent;

/** Verifies with stripe-node; throws if the secret does not verify. */
function nodeVerify(r: Received, secret: string): Stripe.Event {
  return webhooks.constructEvent(r.body, sig(r), secret);
}

for (const db of DB_KINDS) {
  describe(`events and webhook endpoints on ${db}`, () => {
    let server: TestServer;
    const receiver = new Receiver();
    let hooks = '';
    before(async () => {
      hooks = await receiver.start();
      server = await startTestServer({ db, args: ['--webhook-retry', 'fast'] });
    });
    after(async () => {
      await receiver.stop();
      await server.close();
    });
    // Every test starts with no endpoints: routing and pending_webhooks stay predictable.
    afterEach(async () => {
      receiver.respond = () => 200;
      const list = await api('GET', '/v1/webhook_endpoints', { limit: '100' });
      for (const e of list.json.data as Array<{ id: string }>) await api('DELETE', `/v1/webhook_endpoints/${e.id}`);
    });

    const api = (method: 'GET' | 'POST' | 'DELETE', path: string, params: Form = {}, key = A.testSecret) => call(server.url, method, path, { key, params });

    async function createEndpoint(path: string, events: string[] = ['*'], connect = true) {
      const res = await api('POST', '/v1/webhook_endpoints', { url: `${hooks}${path}`, connect: String(connect), enabled_events: events });
      assert.equal(res.status, 200, res.text);
      return res.json as { id: string; secret: string; status: string; connect: boolean; enabled_events: string[] };
    }

    const connect = async () => (await connectNew(server.url, A)).accountId;

    /** The first delivery to `path` of the event of `type` for `account`. */
    function delivery(path: string, account: string, type = 'account.application.authorized', timeoutMs = 10_000): Promise<Received> {
      return waitUntil(`${type} for ${account} at ${path}`, () => receiver.received.find((r) => r.path === path && parse(r).account === account && parse(r).type === type), timeoutMs);
    }

    async function event(id: string): Promise<WireEvent> {
      const res = await api('GET', `/v1/events/${id}`);
      assert.equal(res.status, 200, res.text);
      return res.json as unknown as WireEvent;
    }

    it('an endpoint created through the API shows its whsec_ secret once and receives events both SDKs verify', async () => {
      const e = await createEndpoint('/created');
      assert.match(e.secret, /^whsec_[A-Za-z0-9]{32}$/);
      assert.equal(e.status, 'enabled');
      assert.equal(e.connect, true);
      assert.deepEqual(e.enabled_events, ['*']);
      const got = await api('GET', `/v1/webhook_endpoints/${e.id}`);
      assert.equal(got.status, 200);
      assert.equal(got.json.object, 'webhook_endpoint');
      assert.equal(got.json.connect, true);
      assert.equal('secret' in got.json, false, 'retrieve never shows the secret');
      const updated = await api('POST', `/v1/webhook_endpoints/${e.id}`, { description: 'orders' });
      assert.equal(updated.status, 200);
      assert.equal('secret' in updated.json, false, 'update never shows the secret');
      const list = await api('GET', '/v1/webhook_endpoints');
      const listed = (list.json.data as Array<Record<string, unknown>>).find((x) => x.id === e.id);
      assert.ok(listed);
      assert.equal('secret' in listed, false, 'list never shows the secret');
      assert.equal(JSON.stringify(list.json).includes(e.secret), false);
      // Encrypted at rest: the stored row does not hold the secret.
      const stored = await server.ctx.store.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', e.id).executeTakeFirstOrThrow();
      assert.equal(JSON.stringify(stored).includes(e.secret.slice(6)), false);

      const account = await connect();
      await deauthorize(server.url, A, account);
      const got2 = [await delivery('/created', account), await delivery('/created', account, 'account.application.deauthorized')];
      for (const r of got2) {
        assert.match(sig(r), /^t=\d+,v1=[0-9a-f]{64}$/);
        const ev = nodeVerify(r, e.secret);
        assert.equal(ev.account, account);
        assert.deepEqual(ev.data.object, { id: A.clientIdTest, object: 'application', name: 'Platform A' });
      }
      const tampered = (got2[0]?.body ?? '').replace(account, 'acct_TamperedTamperedXX');
      const py = await pythonVerify([
        ...got2.map((r) => ({ payload: r.body, header: sig(r), secret: e.secret })),
        { payload: got2[0]?.body ?? '', header: sig(got2[0] as Received), secret: 'whsec_WrongWrongWrongWrongWrongWrongWr' },
        { payload: tampered, header: sig(got2[0] as Received), secret: e.secret },
      ]);
      assert.deepEqual(py.slice(0, 2), got2.map((r) => ({ ok: true, id: parse(r).id, type: parse(r).type, account, application: A.clientIdTest })));
      assert.equal(py[2]?.ok, false, 'python refuses a wrong secret');
      assert.equal(py[3]?.ok, false, 'python refuses a tampered body');
    });

    it('during a roll each delivery carries two v1 signatures and both secrets verify; after the overlap only the new one', async () => {
      const e = await createEndpoint('/roll');
      const s1 = e.secret;
      const roll = async (expiresIn?: number) => {
        const res = await api('POST', `/v1/webhook_endpoints/${e.id}/roll_secret`, expiresIn === undefined ? {} : { expires_in: String(expiresIn) });
        assert.equal(res.status, 200, res.text);
        const secret = String(res.json.secret);
        assert.match(secret, /^whsec_[A-Za-z0-9]{32}$/);
        const again = await api('GET', `/v1/webhook_endpoints/${e.id}`);
        assert.equal('secret' in again.json, false);
        return secret;
      };
      const both = /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/;
      const one = /^t=\d+,v1=[0-9a-f]{64}$/;

      // Default overlap (24 h): old and new sign.
      const s2 = await roll();
      assert.notEqual(s2, s1);
      const d1 = await delivery('/roll', await connect());
      assert.match(sig(d1), both);
      nodeVerify(d1, s1);
      nodeVerify(d1, s2);
      // expires_in=0: only the new secret, at once.
      const s3 = await roll(0);
      const d2 = await delivery('/roll', await connect());
      assert.match(sig(d2), one);
      nodeVerify(d2, s3);
      assert.throws(() => nodeVerify(d2, s2), /No signatures found matching/);
      assert.throws(() => nodeVerify(d2, s1), /No signatures found matching/);
      // A short overlap (4 s, whole seconds: at least 3 s): both while it lasts, then only the new one.
      const rollStarted = Date.now();
      const s4 = await roll(4);
      const rolled = Date.now();
      const d3 = await delivery('/roll', await connect());
      assert.ok(d3.at - rollStarted < 2_900, 'delivered inside the overlap');
      assert.match(sig(d3), both);
      nodeVerify(d3, s3);
      nodeVerify(d3, s4);
      await sleep(Math.max(0, rolled + 4_100 - Date.now()));
      const d4 = await delivery('/roll', await connect());
      assert.match(sig(d4), one);
      nodeVerify(d4, s4);
      assert.throws(() => nodeVerify(d4, s3), /No signatures found matching/);

      const py = await pythonVerify([
        { payload: d1.body, header: sig(d1), secret: s1 },
        { payload: d1.body, header: sig(d1), secret: s2 },
        { payload: d3.body, header: sig(d3), secret: s3 },
        { payload: d3.body, header: sig(d3), secret: s4 },
        { payload: d4.body, header: sig(d4), secret: s4 },
        { payload: d4.body, header: sig(d4), secret: s3 },
        { payload: d2.body, header: sig(d2), secret: s2 },
      ]);
      assert.deepEqual(py.map((p) => p.ok), [true, true, true, true, true, false, false]);
    });

    it('disabled endpoints receive nothing; enabled_events and connect=false filter deliveries', async () => {
      await createEndpoint('/f-all');
      await createEndpoint('/f-auth', ['account.application.authorized']);
      await createEndpoint('/f-deauth', ['account.application.deauthorized']);
      await createEndpoint('/f-plain', ['*'], false);
      const off = await createEndpoint('/f-off');
      const disabled = await api('POST', `/v1/webhook_endpoints/${off.id}`, { disabled: 'true' });
      assert.equal(disabled.status, 200);
      assert.equal(disabled.json.status, 'disabled');

      const account = await connect();
      await deauthorize(server.url, A, account);
      const auth = parse(await delivery('/f-all', account));
      const deauth = parse(await delivery('/f-all', account, 'account.application.deauthorized'));
      // Two endpoints match each event: /f-all and the one enabled for that type.
      assert.equal(auth.pending_webhooks, 2);
      assert.equal(deauth.pending_webhooks, 2);
      for (const id of [auth.id, deauth.id]) await waitUntil(`${id} fully delivered`, async () => ((await event(id)).pending_webhooks === 0 ? true : undefined));
      await sleep(300);
      const ids = (path: string) => receiver.received.filter((r) => r.path === path && parse(r).account === account).map((r) => parse(r).id);
      assert.deepEqual(ids('/f-auth'), [auth.id]);
      assert.deepEqual(ids('/f-deauth'), [deauth.id]);
      assert.deepEqual(ids('/f-off'), [], 'a disabled endpoint receives nothing');
      assert.deepEqual(ids('/f-plain'), [], 'an account (connect=false) endpoint receives no Connect events');
      assert.equal(receiver.received.filter((r) => r.path === '/f-all' && parse(r).account === account).length, 2);

      // Enabled again: it receives the next event, signed with its secret.
      const enabled = await api('POST', `/v1/webhook_endpoints/${off.id}`, { disabled: 'false' });
      assert.equal(enabled.json.status, 'enabled');
      const next = await connect();
      nodeVerify(await delivery('/f-off', next), off.secret);
    });

    it('GET /v1/events lists the platform events newest first, filters by type and created, paginates, and retrieves', async () => {
      const [a1, a2, a3] = [await connect(), await connect(), await connect()];
      await deauthorize(server.url, A, a1 ?? '');
      await deauthorize(server.url, A, a2 ?? '');
      const full = (await api('GET', '/v1/events', { limit: '100' })).json as unknown as ListBody;
      assert.equal(full.object, 'list');
      assert.equal(full.url, '/v1/events');
      assert.equal(full.has_more, false);
      assert.deepEqual(full.data.slice(0, 5).map((e) => [e.type, e.account]), [
        ['account.application.deauthorized', a2],
        ['account.application.deauthorized', a1],
        ['account.application.authorized', a3],
        ['account.application.authorized', a2],
        ['account.application.authorized', a1],
      ]);
      for (const e of full.data) {
        assert.equal(e.object, 'event');
        assert.match(e.id, /^evt_[A-Za-z0-9]{24}$/);
        assert.equal(e.livemode, false);
        assert.deepEqual(e.data.object, { id: A.clientIdTest, object: 'application', name: 'Platform A' });
      }
      for (let i = 1; i < full.data.length; i++) assert.ok((full.data[i - 1]?.created ?? 0) >= (full.data[i]?.created ?? 0), 'newest first');
      const ids = full.data.map((e) => e.id);

      const deauths = (await api('GET', '/v1/events', { type: 'account.application.deauthorized', limit: '100' })).json as unknown as ListBody;
      assert.deepEqual(deauths.data.map((e) => e.id), full.data.filter((e) => e.type === 'account.application.deauthorized').map((e) => e.id));
      assert.deepEqual(deauths.data.slice(0, 2).map((e) => e.account), [a2, a1]);
      const family = (await api('GET', '/v1/events', { type: 'account.application.*', limit: '100' })).json as unknown as ListBody;
      assert.deepEqual(family.data.map((e) => e.id), ids);
      const none = (await api('GET', '/v1/events', { type: 'charge.succeeded' })).json as unknown as ListBody;
      assert.deepEqual(none.data, []);

      const oldest = full.data[4]?.created ?? 0;
      const since = (await api('GET', '/v1/events', { 'created[gte]': String(oldest), limit: '100' })).json as unknown as ListBody;
      assert.ok(since.data.every((e) => e.created >= oldest));
      assert.deepEqual(since.data.slice(0, 5).map((e) => e.id), ids.slice(0, 5));
      const future = (await api('GET', '/v1/events', { 'created[gt]': String(Math.floor(Date.now() / 1000) + 3600) })).json as unknown as ListBody;
      assert.deepEqual(future.data, []);

      const p1 = (await api('GET', '/v1/events', { limit: '2' })).json as unknown as ListBody;
      assert.deepEqual(p1.data.map((e) => e.id), ids.slice(0, 2));
      assert.equal(p1.has_more, true);
      const p2 = (await api('GET', '/v1/events', { limit: '2', starting_after: ids[1] ?? '' })).json as unknown as ListBody;
      assert.deepEqual(p2.data.map((e) => e.id), ids.slice(2, 4));
      const back = (await api('GET', '/v1/events', { limit: '2', ending_before: ids[2] ?? '' })).json as unknown as ListBody;
      assert.deepEqual(back.data.map((e) => e.id), ids.slice(0, 2));
      const top = (await api('GET', '/v1/events', { ending_before: ids[0] ?? '' })).json as unknown as ListBody;
      assert.deepEqual(top.data, []);
      assert.equal(top.has_more, false);
      const last = (await api('GET', '/v1/events', { limit: '100', starting_after: ids[ids.length - 1] ?? '' })).json as unknown as ListBody;
      assert.deepEqual(last.data, []);

      // stripe-node's auto-pagination walks the same list.
      const platform = sdk(server, A.testSecret);
      const walked: string[] = [];
      for await (const e of platform.events.list({ limit: 3 })) walked.push(e.id);
      assert.deepEqual(walked, ids);
      const retrievedBySdk = await platform.events.retrieve(ids[0] ?? '');
      assert.equal(retrievedBySdk.type, 'account.application.deauthorized');

      const one = await api('GET', `/v1/events/${ids[0] ?? ''}`);
      assert.equal(one.status, 200);
      assert.deepEqual(one.json, full.data[0]);
      const missing = await api('GET', '/v1/events/evt_000000000000000000000000');
      assert.equal(missing.status, 404);
      assert.equal((missing.json.error as { type: string }).type, 'invalid_request_error');
      // Another platform, or the same platform's live key, sees none of these test events.
      assert.equal((await api('GET', `/v1/events/${ids[0] ?? ''}`, {}, B.testSecret)).status, 404);
      const other = (await api('GET', '/v1/events', { limit: '100' }, B.testSecret)).json as unknown as ListBody;
      assert.equal(other.data.some((e) => ids.includes(e.id)), false);
      const live = (await api('GET', '/v1/events', { limit: '100' }, A.liveSecret)).json as unknown as ListBody;
      assert.equal(live.data.some((e) => ids.includes(e.id)), false);
      assert.equal((await api('GET', `/v1/events/${ids[0] ?? ''}`, {}, A.liveSecret)).status, 404);
    });

    it('pending_webhooks stays 1 through a failed attempt and drops to 0 after the successful delivery', async () => {
      const e = await createEndpoint('/pending');
      let release: () => void = () => undefined;
      const gate = new Promise<number>((resolve) => (release = () => resolve(200)));
      let calls = 0;
      receiver.respond = (r) => (r.path !== '/pending' ? 200 : ++calls === 1 ? 500 : gate);
      const account = await connect();
      const first = parse(await delivery('/pending', account));
      assert.equal(first.pending_webhooks, 1, 'the body counts the endpoints at creation');
      // The retry (after the 500 was recorded) now hangs at the gate: still pending.
      const [r1, r2] = await receiver.waitFor(2, 10_000, '/pending');
      assert.ok((r2?.at ?? 0) - (r1?.at ?? 0) >= 1_000, `the first retry waits about 1 s (--webhook-retry fast), not ${(r2?.at ?? 0) - (r1?.at ?? 0)} ms`);
      assert.equal((await event(first.id)).pending_webhooks, 1);
      release();
      await waitUntil('pending_webhooks 0', async () => ((await event(first.id)).pending_webhooks === 0 ? true : undefined), 5_000);
      const bodies = receiver.received.filter((r) => r.path === '/pending').map((r) => r.body);
      assert.equal(new Set(bodies).size, 1, 'every attempt sends the same bytes');
      nodeVerify(receiver.received.filter((r) => r.path === '/pending')[1] as Received, e.secret);
    });

    it('an endpoint hanging on a backlog larger than one claim batch does not hold up another endpoint', async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<number>((resolve) => (release = () => resolve(200)));
      receiver.respond = (r) => (r.path === '/stuck' ? gate : 200);
      try {
        await createEndpoint('/stuck');
        // 60 events for an endpoint that never answers: 4 requests hang, the rest stay due.
        for (let i = 0; i < 6; i++) await Promise.all(Array.from({ length: 10 }, () => connect()));
        await receiver.waitFor(4, 5_000, '/stuck');
        // The next event is due strictly after the whole backlog.
        await sleep(1_100);
        const free = await createEndpoint('/free');
        const account = await connect();
        nodeVerify(await delivery('/free', account, 'account.application.authorized', 3_000), free.secret);
      } finally {
        release();
      }
    });
  });
}

describe('connectd trigger through a running server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'connectd-trigger-'));
  const schema = `trig_${randomBase62(10).toLowerCase()}`;
  const receiver = new Receiver();
  const SECRET = 'whsec_TriggerSecretAAAAAAAAAAAAAAAAAA';
  let seedFile = '';
  before(async () => {
    const url = await receiver.start();
    const seed = testSeed();
    const platform = seed.accounts[0]?.platform;
    assert.ok(platform);
    platform.webhook_endpoints = [{ url: `${url}/trigger`, secret: SECRET, livemode: false }];
    seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(seed));
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`create schema "${schema}"`);
    await client.end();
  });
  after(async () => {
    await receiver.stop();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  const targets = [
    { name: 'sqlite', db: join(dir, 'trigger.sqlite') },
    { name: 'postgres', db: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` },
  ];
  for (const t of targets) {
    it(`${t.name}: trigger authorized, updated, then deauthorized for a merchant; the server delivers all three`, async () => {
      let server: ServerProcess | undefined;
      try {
        server = await spawnServer(['--db', t.db, '--seed', seedFile, '--log-level', 'warn'], { CONNECTD_WEBHOOK_POLL_MS: '100' });
        const mine = () => receiver.received.filter((r) => r.path === '/trigger' && (JSON.parse(r.body) as WireEvent).account === M.id);
        const start = mine().length;
        const authorized = await runCli(['trigger', 'account.application.authorized', '--platform', A.clientIdTest, '--account', M.id, '--db', t.db]);
        assert.equal(authorized.code, 0, authorized.stderr);
        assert.match(authorized.stdout, /account\.application\.authorized queued/);
        const updated = await runCli(['trigger', 'account.updated', '--platform', A.clientIdTest, '--account', M.id, '--db', t.db]);
        assert.equal(updated.code, 0, updated.stderr);
        assert.match(updated.stdout, /account\.updated queued for 1 platform/);
        const deauthorized = await runCli(['trigger', 'account.application.deauthorized', '--platform', A.clientIdTest, '--account', M.id, '--db', t.db]);
        assert.equal(deauthorized.code, 0, deauthorized.stderr);
        assert.match(deauthorized.stdout, /account\.application\.deauthorized queued/);
        const again = await runCli(['trigger', 'account.application.deauthorized', '--platform', A.clientIdTest, '--account', M.id, '--db', t.db]);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /is not connected/);

        await waitUntil('three triggered deliveries', () => (mine().length >= start + 3 ? true : undefined), 10_000);
        const events = mine().slice(start).map((r) => webhooks.constructEvent(r.body, sig(r), SECRET));
        assert.deepEqual(events.map((e) => e.type).sort(), ['account.application.authorized', 'account.application.deauthorized', 'account.updated']);
        for (const e of events.filter((x) => x.type !== 'account.updated')) assert.deepEqual(e.data.object, { id: A.clientIdTest, object: 'application', name: 'Platform A' });
        const update = events.find((e) => e.type === 'account.updated');
        assert.equal((update?.data.object as { id: string }).id, M.id);
        assert.deepEqual(update?.data.previous_attributes, { metadata: { connectd_trigger: null } });
        assert.match(String((update?.data.object as { metadata: Record<string, string> }).metadata.connectd_trigger), /^\d+$/);

        const latestEvents = (base: string) => call(base, 'GET', '/v1/events', { key: A.testSecret, params: { limit: '3' } });
        const list = (await latestEvents(server.url)).json as unknown as ListBody;
        assert.deepEqual(list.data.map((e) => [e.type, e.account]), [
          ['account.application.deauthorized', M.id],
          ['account.updated', M.id],
          ['account.application.authorized', M.id],
        ]);
        assert.deepEqual(list.data.map((e) => e.id).sort(), events.map((e) => e.id).sort());
        await waitUntil('pending_webhooks 0', async () => {
          const r = await latestEvents(server?.url ?? '');
          return (r.json as unknown as ListBody).data.every((e) => e.pending_webhooks === 0) ? true : undefined;
        });
      } finally {
        if (server) assert.equal(await server.stop(), 0);
      }
    });
  }
});
