// The webhooks dashboard (issue 4): add an endpoint (secret shown once), see each delivery's
// result and why it failed, resend, read the event JSON, roll and disable — on both databases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { A } from '../support/fixtures.ts';
import { connectNew, FormClient } from '../support/flow.ts';
import { Receiver } from '../support/receiver.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';
import { webhooks } from '../support/stripe.ts';
import { sleep, waitUntil } from '../support/wait.ts';

for (const db of DB_KINDS) {
  describe(`webhooks dashboard on ${db}`, () => {
    let server: TestServer;
    const receiver = new Receiver();
    let receiverUrl = '';
    before(async () => {
      receiverUrl = await receiver.start();
      server = await startTestServer({ db, args: ['--webhook-retry', 'fast'], env: { CONNECTD_WEBHOOK_POLL_MS: '50' } });
    });
    after(async () => {
      await receiver.stop();
      await server.close();
    });

    it('shows deliveries and their failures, resends, shows the event, rolls and disables', async () => {
      const c = new FormClient(server.url);
      await c.login(A.email, A.password);
      let page = await c.get('/dashboard/webhooks');
      const csrf = FormClient.csrfFrom(page.text);
      const bad = await c.post('/dashboard/webhooks', { _csrf: csrf, url: 'http://example.com/hook', mode: 'live' });
      assert.equal(bad.status, 400, 'live endpoints need https');
      const added = await c.post('/dashboard/webhooks', { _csrf: csrf, url: `${receiverUrl}/dash`, mode: 'test' });
      assert.equal(added.status, 200);
      const secret = /id="new-secret">(whsec_[A-Za-z0-9]+)</.exec(added.text)?.[1];
      assert.ok(secret, 'the signing secret is shown once');
      page = await c.get('/dashboard/webhooks');
      assert.doesNotMatch(page.text, new RegExp(secret), 'and never again');

      receiver.respond = () => 500;
      await connectNew(server.url, A, 'read_only');
      const [first] = await receiver.waitFor(1, 10_000, '/dash');
      assert.ok(first);
      webhooks.constructEvent(first.body, String(first.headers['stripe-signature']), secret);
      // The worker records an attempt just after the receiver answers.
      page = await waitUntil('the failed attempt on the page', async () => {
        const p = await c.get('/dashboard/webhooks');
        return /HTTP 500/.test(p.text) ? p : undefined;
      }, 5_000);
      assert.match(page.text, /account\.application\.authorized/);
      assert.match(page.text, /HTTP 500/);
      assert.match(page.text, /next retry in \d+ s/);

      receiver.respond = () => 200;
      const delivered = await receiver.waitFor(2, 10_000, '/dash');
      assert.equal(delivered[1]?.body, first.body);
      page = await waitUntil('the delivery on the page', async () => {
        const p = await c.get('/dashboard/webhooks');
        return /Delivered/.test(p.text) ? p : undefined;
      }, 5_000);
      assert.match(page.text, /Delivered/);
      assert.match(page.text, /HTTP 200/);

      const deliveryId = /data-delivery="(whdel_[A-Za-z0-9]+)"/.exec(page.text)?.[1];
      assert.ok(deliveryId);
      const resent = await c.post(`/dashboard/webhooks/deliveries/${deliveryId}/resend`, { _csrf: csrf });
      assert.equal(resent.status, 303);
      await receiver.waitFor(3, 10_000, '/dash');

      const eventId = (JSON.parse(first.body) as { id: string }).id;
      const eventPage = await c.get(`/dashboard/events/${eventId}`);
      assert.equal(eventPage.status, 200);
      assert.match(eventPage.text, new RegExp(`&quot;id&quot;: &quot;${eventId}&quot;`));

      const endpointId = /data-endpoint="(we_[A-Za-z0-9]+)"/.exec(page.text)?.[1];
      const rolled = await c.post(`/dashboard/webhooks/${endpointId}/roll`, { _csrf: csrf });
      const newSecret = /id="new-secret">(whsec_[A-Za-z0-9]+)</.exec(rolled.text)?.[1];
      assert.ok(newSecret && newSecret !== secret);
      await connectNew(server.url, A, 'read_only');
      const [, , , fourth] = await receiver.waitFor(4, 10_000, '/dash');
      assert.ok(fourth);
      assert.match(String(fourth.headers['stripe-signature']), /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
      for (const s of [secret, newSecret]) webhooks.constructEvent(fourth.body, String(fourth.headers['stripe-signature']), s);

      assert.equal((await c.post(`/dashboard/webhooks/${endpointId}/disable`, { _csrf: csrf })).status, 303);
      await connectNew(server.url, A, 'read_only');
      await sleep(500);
      assert.equal(receiver.received.filter((r) => r.path === '/dash').length, 4, 'a disabled endpoint receives nothing');
    });
  });
}
