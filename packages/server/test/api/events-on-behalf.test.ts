// A platform checks a Connect event with its key and Stripe-Account = event.account, as
// `stripe.events.retrieve(id, {stripeAccount})` does; after deauthorization that is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { A } from '../support/fixtures.ts';
import { connectNew } from '../support/flow.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';
import { sdk } from '../support/stripe.ts';

for (const db of DB_KINDS) {
  describe(`events with Stripe-Account on ${db}`, () => {
    let server: TestServer;
    before(async () => (server = await startTestServer({ db })));
    after(() => server.close());

    it('retrieves the platform events about that account only, until it is disconnected', async () => {
      const stripe = sdk(server, A.testSecret);
      const connect = async () => (await connectNew(server.url, A, 'read_only')).accountId;
      const x = await connect();
      const y = await connect();
      const all = await stripe.events.list({ limit: 10 });
      const ofX = all.data.find((e) => e.account === x);
      const ofY = all.data.find((e) => e.account === y);
      assert.ok(ofX && ofY);
      assert.equal((await stripe.events.retrieve(ofX.id, {}, { stripeAccount: x })).id, ofX.id);
      const listed = await stripe.events.list({}, { stripeAccount: x });
      assert.ok(listed.data.length >= 1 && listed.data.every((e) => e.account === x));
      await assert.rejects(stripe.events.retrieve(ofY.id, {}, { stripeAccount: x }), Stripe.errors.StripeInvalidRequestError);
      await stripe.oauth.deauthorize({ client_id: A.clientIdTest, stripe_user_id: x });
      await assert.rejects(stripe.events.retrieve(ofX.id, {}, { stripeAccount: x }), Stripe.errors.StripePermissionError);
      // The platform's own key still sees it, and the deauthorized event next to it.
      const mine = await stripe.events.list({ type: 'account.application.deauthorized' });
      assert.ok(mine.data.some((e) => e.account === x));
    });
  });
}
