// Data a platform creates for a connected Standard account is visible in that account's own
// dashboard (issue 3; the seed document's Standard-account model), on both databases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { A, M } from '../support/fixtures.ts';
import { codeFrom, exchange, FormClient } from '../support/flow.ts';
import { post } from '../support/http.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';

for (const db of DB_KINDS) {
  describe(`connected account dashboard on ${db}`, () => {
    let server: TestServer;
    before(async () => (server = await startTestServer({ db })));
    after(() => server.close());

    it("shows the customers and payments a platform created for the account", async () => {
      const merchant = new FormClient(server.url);
      await merchant.login(M.email, M.password);
      const code = codeFrom(await merchant.connect({ response_type: 'code', client_id: A.clientIdTest, scope: 'read_write' }));
      await exchange(server.url, A.testSecret, code);

      const asM = { authorization: `Bearer ${A.testSecret}`, 'stripe-account': M.id };
      const customer = await post(`${server.url}/v1/customers`, { email: 'buyer@example.com', name: 'Ada Buyer' }, asM);
      assert.equal(customer.status, 200, customer.text);
      const charge = await post(
        `${server.url}/v1/charges`,
        { amount: '2599', currency: 'usd', customer: String(customer.json.id), source: 'tok_visa', description: 'Order #42' },
        asM,
      );
      // A customer without a card cannot be charged; with a source it can.
      assert.equal(charge.status, 200, charge.text);
      const refund = await post(`${server.url}/v1/refunds`, { charge: String(charge.json.id), amount: '599' }, asM);
      assert.equal(refund.status, 200, refund.text);

      const page = await merchant.get('/dashboard');
      assert.match(page.text, new RegExp(`data-customer="${String(customer.json.id)}"`));
      assert.match(page.text, /Ada Buyer/);
      assert.match(page.text, new RegExp(`data-charge="${String(charge.json.id)}"`));
      assert.match(page.text, /25\.99 USD/);
      assert.match(page.text, /Partially refunded/);
      assert.match(page.text, /Order #42/);

      // The platform's own dashboard does not show them: they belong to the connected account.
      const platform = new FormClient(server.url);
      await platform.login(A.email, A.password);
      const own = await platform.get('/dashboard');
      assert.doesNotMatch(own.text, new RegExp(String(customer.json.id)));
    });
  });
}
