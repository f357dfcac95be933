// Webhook delivery (issue 4): signed so the official SDKs verify it, retried with a fresh
// signature and identical body, and a slow endpoint never delays another — on both databases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { A, testSeed } from '../support/fixtures.ts';
import { connectNew, deauthorize } from '../support/flow.ts';
import { Receiver } from '../support/receiver.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';
import { webhooks } from '../support/stripe.ts';
import { sleep } from '../support/wait.ts';

const SECRET = 'whsec_TestSecretAAAAAAAAAAAAAAAAAAAAAAAA';
for (const db of DB_KINDS) {
  describe(`webhook delivery on ${db}`, () => {
    let server: TestServer;
    const receiver = new Receiver();
    before(async () => {
      const url = await receiver.start();
      const seed = testSeed();
      const platform = seed.accounts[0]?.platform;
      assert.ok(platform);
      platform.webhook_endpoints = [
        { url: `${url}/hooks`, secret: SECRET, livemode: false },
        { url: `${url}/slow`, secret: SECRET, livemode: false },
      ];
      server = await startTestServer({ db, seed, args: ['--webhook-retry', 'fast'], env: { CONNECTD_WEBHOOK_POLL_MS: '50' } });
    });
    after(async () => {
      await receiver.stop();
      await server.close();
    });

    const connect = async () => (await connectNew(server.url, A)).accountId;

    it('delivers account.application.authorized and deauthorized, verifiable with stripe-node', async () => {
      receiver.respond = () => 200;
      const before = receiver.received.filter((r) => r.path === '/hooks').length;
      const account = await connect();
      await deauthorize(server.url, A, account);
      const got = (await receiver.waitFor(before + 2, 15_000, '/hooks')).slice(before);
      const events = got.map((r) => {
        assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(r.headers['user-agent'], 'Stripe/1.0 (+https://stripe.com/docs/webhooks)');
        assert.match(String(r.headers['stripe-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
        return webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), SECRET);
      });
      const types = events.map((e) => e.type).sort();
      assert.deepEqual(types, ['account.application.authorized', 'account.application.deauthorized']);
      for (const e of events) {
        assert.equal(e.object, 'event');
        assert.equal(e.account, account);
        assert.equal(e.livemode, false);
        assert.deepEqual(e.data.object, { id: A.clientIdTest, object: 'application', name: 'Platform A' });
        assert.match(e.id, /^evt_[A-Za-z0-9]{24}$/);
      }
      assert.throws(() => webhooks.constructEvent(got[0]?.body ?? '', String(got[0]?.headers['stripe-signature']), 'whsec_wrong'));
    });

    it('retries a dropped connection, then a 500, until the endpoint answers 2xx: fresh signature, same body', async () => {
      let calls = 0;
      // First the connection is cut (as good as refused), then a 500, then a 200.
      receiver.respond = (r) => (r.path === '/hooks' ? (++calls === 1 ? 'reset' : calls === 2 ? 500 : 200) : 200);
      const before = receiver.received.filter((r) => r.path === '/hooks').length;
      await connect();
      const got = (await receiver.waitFor(before + 3, 20_000, '/hooks')).slice(before, before + 3);
      assert.equal(new Set(got.map((r) => r.body)).size, 1, 'identical bodies');
      assert.equal(new Set(got.map((r) => String(r.headers['stripe-signature']))).size >= 2, true, 'fresh signatures');
      for (const r of got) webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), SECRET);
      assert.ok((got[2]?.at ?? 0) - (got[0]?.at ?? 0) >= 2500, 'backed off about 1 s then 2 s');
      const eventId = (JSON.parse(got[0]?.body ?? '{}') as { id: string }).id;
      await sleep(300);
      const attempts = await server.ctx.store.db
        .selectFrom('deliveries')
        .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'deliveries.endpoint_id')
        .select(['deliveries.status', 'deliveries.attempts', 'webhook_endpoints.url'])
        .where('deliveries.event_id', '=', eventId)
        .execute();
      const hooks = attempts.find((a) => a.url.endsWith('/hooks'));
      assert.equal(hooks?.status, 'succeeded');
      assert.equal(hooks?.attempts, 3);
    });

    it('a slow endpoint that never answers does not delay another endpoint', async () => {
      receiver.respond = (r) => (r.path === '/slow' ? 'hang' : 200);
      const beforeHooks = receiver.received.filter((r) => r.path === '/hooks').length;
      const t0 = Date.now();
      for (let i = 0; i < 6; i++) await connect();
      await receiver.waitFor(beforeHooks + 6, 5_000, '/hooks');
      assert.ok(Date.now() - t0 < 5_000);
    });
  });
}
