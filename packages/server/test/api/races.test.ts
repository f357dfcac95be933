// Read-modify-write under concurrency (PostgreSQL runs READ COMMITTED): refunds never exceed
// the charge, concurrent metadata updates are all kept, and pages never skip or repeat objects.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { A } from '../support/fixtures.ts';
import { connectNew } from '../support/flow.ts';
import { post, request } from '../support/http.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';

for (const db of DB_KINDS) {
  describe(`concurrent writes on ${db}`, () => {
    let server: TestServer;
    let asAccount: Record<string, string>;
    before(async () => {
      server = await startTestServer({ db });
      const { accountId } = await connectNew(server.url, A);
      asAccount = { authorization: `Bearer ${A.testSecret}`, 'stripe-account': accountId };
    });
    after(() => server.close());

    it('ten concurrent full refunds of one charge: exactly one succeeds', async () => {
      const charge = await post(`${server.url}/v1/charges`, { amount: '1000', currency: 'usd', source: 'tok_visa' }, asAccount);
      const results = await Promise.all(Array.from({ length: 10 }, () => post(`${server.url}/v1/refunds`, { charge: String(charge.json.id) }, asAccount)));
      assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.status)));
      const after = await request(`${server.url}/v1/charges/${String(charge.json.id)}`, { headers: asAccount });
      assert.equal(after.json.amount_refunded, 1000);
    });

    it('ten concurrent metadata updates of one customer: every key is kept', async () => {
      const c = await post(`${server.url}/v1/customers`, { email: 'race@example.com' }, asAccount);
      await Promise.all(Array.from({ length: 10 }, (_, i) => post(`${server.url}/v1/customers/${String(c.json.id)}`, { [`metadata[k${i}]`]: String(i) }, asAccount)));
      const got = (await request(`${server.url}/v1/customers/${String(c.json.id)}`, { headers: asAccount })).json as { metadata: Record<string, string> };
      assert.equal(Object.keys(got.metadata).length, 10);
    });

    it('a request that fails validation stores nothing under its Idempotency-Key (Part B §5.5)', async () => {
      const key = { ...asAccount, 'idempotency-key': `fix-${db}-${Date.now()}` };
      const bad = await post(`${server.url}/v1/customers`, { emial: 'typo@example.com' }, key);
      assert.equal(bad.status, 400);
      assert.equal((bad.json.error as { code: string }).code, 'parameter_unknown');
      const fixed = await post(`${server.url}/v1/customers`, { email: 'typo@example.com' }, key);
      assert.equal(fixed.status, 200, fixed.text);
      assert.equal(fixed.headers.get('idempotent-replayed'), null);
      const again = await post(`${server.url}/v1/customers`, { email: 'typo@example.com' }, key);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.json.id, fixed.json.id);
    });

    it('an endpoint update with nothing to change is not an error', async () => {
      const key = { authorization: `Bearer ${A.testSecret}` };
      const e = await post(`${server.url}/v1/webhook_endpoints`, { url: 'http://127.0.0.1:9/hooks', 'enabled_events[]': '*' }, key);
      assert.equal(e.status, 200, e.text);
      const res = await post(`${server.url}/v1/webhook_endpoints/${String(e.json.id)}`, {}, key);
      assert.equal(res.status, 200, res.text);
      const live = await post(`${server.url}/v1/webhook_endpoints`, { url: 'https://[::ffff:127.0.0.1]:8443/x', 'enabled_events[]': '*' }, { authorization: `Bearer ${A.liveSecret}` });
      assert.equal(live.status, 400);
      assert.equal((live.json.error as { code: string }).code, 'url_invalid');
    });

    it('objects stamped with the same sequence number page without gaps or repeats', async () => {
      const made: string[] = [];
      for (let i = 0; i < 6; i++) made.push(String((await post(`${server.url}/v1/customers`, { name: `tie ${i}` }, asAccount)).json.id));
      // Force ties, as two processes inserting in one microsecond would produce.
      await server.ctx.store.db.updateTable('resources').set({ seq: 42 }).where('id', 'in', made).execute();
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const params = { limit: '1', ...(after ? { starting_after: after } : {}) };
        const page = (await request(`${server.url}/v1/customers`, { params, headers: asAccount })).json as { data: Array<{ id: string }>; has_more: boolean };
        seen.push(...page.data.map((d) => d.id));
        if (!page.has_more) break;
        after = page.data.at(-1)?.id;
      }
      const tied = seen.filter((id) => made.includes(id));
      assert.equal(tied.length, 6);
      assert.equal(new Set(seen).size, seen.length);
    });
  });
}
