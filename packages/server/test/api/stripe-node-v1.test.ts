// The official stripe npm SDK acting for connected accounts with `{ stripeAccount }` (issue 3,
// "Tests that must exist": every resource and operation, auto-pagination, retries reusing the
// Idempotency-Key; docs/contract.md Part A "Acting on behalf" and "Idempotency", Part B §5).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { ManualClock } from '../../src/domain/clock.ts';
import { A, B } from '../support/fixtures.ts';
import { connectNew, type Connected } from '../support/flow.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';
import { apiError, call, ok, REQUEST_ID } from '../support/api.ts';
import { sdk } from '../support/stripe.ts';

interface Seen {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  replayed: string | undefined;
  status: number;
}

/**
 * A proxy in front of the server that forwards every request but loses the first `drop`
 * responses (the connection is reset after the server has answered): what an SDK retry is for.
 */
async function lossyProxy(target: string, drop: number): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const seen: Seen[] = [];
  let toDrop = drop;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fwd = http.request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            const key = req.headers['idempotency-key'];
            const replayed = up.headers['idempotent-replayed'];
            seen.push({
              method: req.method ?? '',
              path: req.url ?? '',
              idempotencyKey: typeof key === 'string' ? key : undefined,
              replayed: typeof replayed === 'string' ? replayed : undefined,
              status: up.statusCode ?? 0,
            });
            if (toDrop > 0) {
              toDrop -= 1;
              req.socket.destroy();
              return;
            }
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      fwd.on('error', () => req.socket.destroy());
      fwd.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Every customer of an account, through the raw API (no SDK involved). */
async function customerIds(server: TestServer, account: string, params: Record<string, string> = {}): Promise<string[]> {
  const r = await call(server.url, 'GET', '/v1/customers', { key: A.testSecret, account, params: { limit: '100', ...params } });
  return (ok(r).data as Array<{ id: string }>).map((c) => c.id);
}

for (const db of DB_KINDS) {
  describe(`stripe-node /v1 with { stripeAccount } on ${db}`, () => {
    let server: TestServer;
    let platform: Stripe;
    let acct: Connected;
    let opts: { stripeAccount: string };
    const clock = new ManualClock(Math.floor(Date.now() / 1000));

    before(async () => {
      server = await startTestServer({ db, clock });
      platform = sdk(server, A.testSecret);
      acct = await connectNew(server.url, A);
      opts = { stripeAccount: acct.accountId };
    });
    after(() => server.close());

    it('accounts: retrieveCurrent with stripeAccount, retrieve(id), and list of the platform’s connected accounts', async () => {
      const current = await platform.accounts.retrieveCurrent(undefined, opts);
      assert.equal(current.id, acct.accountId);
      assert.equal(current.object, 'account');
      assert.equal(current.type, 'standard');
      assert.equal(current.charges_enabled, true);
      assert.equal(current.details_submitted, true);
      assert.equal(typeof current.email, 'string');
      assert.equal(typeof current.country, 'string');
      assert.match(current.default_currency ?? '', /^[a-z]{3}$/);
      assert.ok(current.business_profile && typeof current.business_profile === 'object');
      assert.match(current.lastResponse.requestId, REQUEST_ID);

      // The URL names the account: it implies Stripe-Account.
      const byId = await platform.accounts.retrieve(acct.accountId);
      assert.equal(byId.id, acct.accountId);
      assert.equal(byId.type, 'standard');
      // Without the header the platform is itself.
      assert.equal((await platform.accounts.retrieveCurrent()).id, A.id);

      clock.advance(1);
      const other = await connectNew(server.url, A);
      const ofB = await connectNew(server.url, B);
      const listed = await platform.accounts.list({ limit: 100 });
      const ids = listed.data.map((a) => a.id);
      assert.ok(ids.includes(acct.accountId) && ids.includes(other.accountId), JSON.stringify(ids));
      assert.ok(!ids.includes(ofB.accountId), 'another platform’s connected account is not listed');
      assert.ok(!ids.includes(A.id) && !ids.includes(B.id));
      assert.equal(ids[0], other.accountId, 'newest connection first');
      for (const a of listed.data) {
        assert.equal(a.object, 'account');
        assert.equal(a.type, 'standard');
      }
      await assert.rejects(platform.accounts.retrieve(ofB.accountId), (e: unknown) => e instanceof Stripe.errors.StripePermissionError && e.statusCode === 403);
    });

    it('customers: create, retrieve, update (metadata merge, empty value deletes), delete, list by email', async () => {
      const email = `Ada.${Date.now()}@Example.com`;
      const created = await platform.customers.create(
        { email, name: 'Ada Lovelace', description: 'first', metadata: { a: '1', b: '2' } },
        opts,
      );
      assert.match(created.id, /^cus_[A-Za-z0-9]+$/);
      assert.equal(created.object, 'customer');
      assert.equal(created.email, email, 'the email is kept as given');
      assert.equal(created.name, 'Ada Lovelace');
      assert.equal(created.livemode, false);
      assert.equal(typeof created.created, 'number');
      assert.deepEqual(created.metadata, { a: '1', b: '2' });

      const got = await platform.customers.retrieve(created.id, undefined, opts);
      assert.ok(!('deleted' in got && got.deleted));
      assert.equal(got.id, created.id);
      assert.equal((got as Stripe.Customer).email, email);

      const updated = await platform.customers.update(created.id, { description: 'second', metadata: { b: '', c: '3' } }, opts);
      assert.equal(updated.description, 'second');
      assert.deepEqual(updated.metadata, { a: '1', c: '3' }, 'merged; an empty value deletes the key');
      assert.deepEqual(((await platform.customers.retrieve(created.id, undefined, opts)) as Stripe.Customer).metadata, { a: '1', c: '3' });
      const cleared = await platform.customers.update(created.id, { metadata: '' as unknown as Stripe.MetadataParam }, opts);
      assert.deepEqual(cleared.metadata, {}, 'metadata= clears every key');

      const twin = await platform.customers.create({ email: `x-${email}` }, opts);
      const byEmail = await platform.customers.list({ email }, opts);
      assert.deepEqual(byEmail.data.map((c) => c.id), [created.id]);
      assert.equal(byEmail.object, 'list');
      assert.equal(byEmail.has_more, false);
      assert.equal(byEmail.url, '/v1/customers');
      assert.deepEqual((await platform.customers.list({ email: email.toLowerCase() }, opts)).data, [], 'the email filter is case-sensitive');

      const deleted = await platform.customers.del(created.id, undefined, opts);
      assert.deepEqual({ id: deleted.id, object: deleted.object, deleted: deleted.deleted }, { id: created.id, object: 'customer', deleted: true });
      const after = await platform.customers.retrieve(created.id, undefined, opts);
      assert.equal('deleted' in after && after.deleted, true, 'a deleted customer retrieves as DeletedCustomer');
      assert.deepEqual((await platform.customers.list({ email }, opts)).data, []);
      const all = (await platform.customers.list({ limit: 100 }, opts)).data.map((c) => c.id);
      assert.ok(all.includes(twin.id) && !all.includes(created.id));
      await assert.rejects(platform.customers.del(created.id, undefined, opts), (e: unknown) => e instanceof Stripe.errors.StripeInvalidRequestError && e.statusCode === 404);
    });

    it('charges: tok_visa and tok_mastercard succeed; retrieve, update, list by customer', async () => {
      const visa = await platform.charges.create({ amount: 2000, currency: 'usd', source: 'tok_visa', description: 'order 1', metadata: { order: '1' } }, opts);
      assert.match(visa.id, /^ch_[A-Za-z0-9]+$/);
      assert.equal(visa.object, 'charge');
      assert.equal(visa.status, 'succeeded');
      assert.equal(visa.paid, true);
      assert.equal(visa.captured, true);
      assert.equal(visa.amount, 2000);
      assert.equal(visa.amount_refunded, 0);
      assert.equal(visa.currency, 'usd');
      assert.equal(visa.livemode, false);
      assert.equal(visa.payment_method_details?.card?.brand, 'visa');
      assert.equal(visa.payment_method_details?.card?.last4, '4242');
      assert.deepEqual(visa.metadata, { order: '1' });

      const mc = await platform.charges.create({ amount: 1234, currency: 'EUR', source: 'tok_mastercard' }, opts);
      assert.equal(mc.status, 'succeeded');
      assert.equal(mc.currency, 'eur');
      assert.equal(mc.payment_method_details?.card?.brand, 'mastercard');
      assert.equal(mc.payment_method_details?.card?.last4, '4444');

      const got = await platform.charges.retrieve(visa.id, undefined, opts);
      assert.equal(got.id, visa.id);
      assert.equal(got.amount, 2000);

      const updated = await platform.charges.update(visa.id, { description: 'order 1 (gift)', metadata: { gift: 'yes' } }, opts);
      assert.equal(updated.description, 'order 1 (gift)');
      assert.deepEqual(updated.metadata, { order: '1', gift: 'yes' });
      const again = await platform.charges.retrieve(visa.id, undefined, opts);
      assert.equal(again.description, 'order 1 (gift)');
      assert.deepEqual(again.metadata, { order: '1', gift: 'yes' });

      const customer = await platform.customers.create({ email: 'payer@example.com', source: 'tok_visa' }, opts);
      const c1 = await platform.charges.create({ amount: 500, currency: 'usd', customer: customer.id }, opts);
      const c2 = await platform.charges.create({ amount: 700, currency: 'usd', customer: customer.id, source: 'tok_mastercard' }, opts);
      assert.equal(c1.customer, customer.id);
      assert.equal(c1.payment_method_details?.card?.brand, 'visa', 'the customer’s default source');
      const byCustomer = await platform.charges.list({ customer: customer.id }, opts);
      assert.deepEqual(byCustomer.data.map((c) => c.id), [c2.id, c1.id], 'only that customer’s charges, newest first');
      const all = (await platform.charges.list({ limit: 100 }, opts)).data.map((c) => c.id);
      for (const id of [visa.id, mc.id, c1.id, c2.id]) assert.ok(all.includes(id));
    });

    it('tok_chargeDeclined raises StripeCardError card_declined, and the failed charge is recorded', async () => {
      let chargeId = '';
      await assert.rejects(platform.charges.create({ amount: 999, currency: 'usd', source: 'tok_chargeDeclined' }, opts), (e: unknown) => {
        assert.ok(e instanceof Stripe.errors.StripeCardError, String(e));
        assert.equal(e.statusCode, 402);
        assert.equal(e.type, 'StripeCardError');
        assert.equal(e.rawType, 'card_error');
        assert.equal(e.code, 'card_declined');
        assert.equal(e.decline_code, 'generic_decline');
        assert.equal(e.message, 'Your card was declined.');
        assert.match(e.requestId ?? '', REQUEST_ID);
        const raw = e.raw as { charge?: unknown };
        assert.equal(typeof raw.charge, 'string');
        chargeId = String(raw.charge);
        return true;
      });
      const failed = await platform.charges.retrieve(chargeId, undefined, opts);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.paid, false);
      assert.equal(failed.failure_code, 'card_declined');
      await assert.rejects(platform.refunds.create({ charge: chargeId }, opts), Stripe.errors.StripeInvalidRequestError);
    });

    it('refunds: partial then the rest, too large, already refunded, list by charge', async () => {
      const charge = await platform.charges.create({ amount: 5000, currency: 'usd', source: 'tok_visa' }, opts);
      const partial = await platform.refunds.create({ charge: charge.id, amount: 1500, reason: 'requested_by_customer' }, opts);
      assert.match(partial.id, /^re_[A-Za-z0-9]+$/);
      assert.equal(partial.object, 'refund');
      assert.equal(partial.amount, 1500);
      assert.equal(partial.charge, charge.id);
      assert.equal(partial.currency, 'usd');
      assert.equal(partial.status, 'succeeded');
      let c = await platform.charges.retrieve(charge.id, undefined, opts);
      assert.equal(c.amount_refunded, 1500);
      assert.equal(c.refunded, false);

      await assert.rejects(platform.refunds.create({ charge: charge.id, amount: 3501 }, opts), (e: unknown) => {
        assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, String(e));
        assert.equal(e.statusCode, 400);
        assert.equal(e.param, 'amount');
        assert.equal(e.code, 'amount_too_large');
        return true;
      });

      const rest = await platform.refunds.create({ charge: charge.id }, opts);
      assert.equal(rest.amount, 3500, 'without amount: the unrefunded rest');
      c = await platform.charges.retrieve(charge.id, undefined, opts);
      assert.equal(c.amount_refunded, 5000);
      assert.equal(c.refunded, true);
      await assert.rejects(platform.refunds.create({ charge: charge.id, amount: 1 }, opts), Stripe.errors.StripeInvalidRequestError);

      const full = await platform.charges.create({ amount: 800, currency: 'usd', source: 'tok_mastercard' }, opts);
      const whole = await platform.refunds.create({ charge: full.id }, opts);
      assert.equal(whole.amount, 800);
      assert.equal((await platform.charges.retrieve(full.id, undefined, opts)).refunded, true);

      const list = await platform.refunds.list({ charge: charge.id }, opts);
      assert.deepEqual(list.data.map((r) => r.id), [rest.id, partial.id]);
      assert.equal(list.url, '/v1/refunds');
      const all = (await platform.refunds.list({ limit: 100 }, opts)).data.map((r) => r.id);
      assert.deepEqual(all.slice(0, 3), [whole.id, rest.id, partial.id]);
    });

    it('capture=false authorizes only; charges.capture captures all or part, once', async () => {
      const auth = await platform.charges.create({ amount: 3000, currency: 'usd', source: 'tok_visa', capture: false }, opts);
      assert.equal(auth.status, 'succeeded');
      assert.equal(auth.paid, true);
      assert.equal(auth.captured, false);
      assert.equal(auth.amount_captured, 0);
      assert.equal(auth.balance_transaction, null);
      const captured = await platform.charges.capture(auth.id, { amount: 2000 }, opts);
      assert.equal(captured.captured, true);
      assert.equal(captured.amount_captured, 2000);
      assert.equal(captured.amount_refunded, 1000, 'the uncaptured rest is released, shown as refunded');
      assert.match(String(captured.balance_transaction), /^txn_/);
      assert.equal((await platform.charges.retrieve(auth.id, undefined, opts)).amount_captured, 2000);
      await assert.rejects(platform.charges.capture(auth.id, undefined, opts), (e: unknown) => {
        assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, String(e));
        assert.equal(e.code, 'charge_already_captured');
        return true;
      });

      const whole = await platform.charges.create({ amount: 900, currency: 'usd', source: 'tok_visa', capture: false }, opts);
      await assert.rejects(platform.charges.capture(whole.id, { amount: 901 }, opts), (e: unknown) => {
        assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, String(e));
        assert.equal(e.code, 'amount_too_large');
        assert.equal(e.param, 'amount');
        return true;
      });
      const all = await platform.charges.capture(whole.id, undefined, opts);
      assert.equal(all.amount_captured, 900);
      assert.equal(all.amount_refunded, 0);

      const declined = await call(server.url, 'POST', '/v1/charges', { key: A.testSecret, account: acct.accountId, params: { amount: '100', currency: 'usd', source: 'tok_chargeDeclined', capture: 'false' } });
      const failedId = String((declined.json.error as { charge?: unknown }).charge);
      await assert.rejects(platform.charges.capture(failedId, undefined, opts), Stripe.errors.StripeInvalidRequestError);
    });

    it('expand: charge.customer, refund.charge and refund.charge.customer, list data.customer; others are 400', async () => {
      const customer = await platform.customers.create({ email: 'expand@example.com', source: 'tok_visa' }, opts);
      const charge = await platform.charges.create({ amount: 1500, currency: 'usd', customer: customer.id, expand: ['customer'] }, opts);
      assert.equal((charge.customer as Stripe.Customer).id, customer.id);
      assert.equal((charge.customer as Stripe.Customer).email, 'expand@example.com');
      const got = await platform.charges.retrieve(charge.id, { expand: ['customer'] }, opts);
      assert.equal((got.customer as Stripe.Customer).object, 'customer');
      assert.equal((await platform.charges.retrieve(charge.id, undefined, opts)).customer, customer.id, 'an id unless asked');
      const refund = await platform.refunds.create({ charge: charge.id, amount: 100, expand: ['charge.customer'] }, opts);
      const refundCharge = refund.charge as Stripe.Charge;
      assert.equal(refundCharge.id, charge.id);
      assert.equal(refundCharge.amount_refunded, 100, 'the charge as the refund left it');
      assert.equal((refundCharge.customer as Stripe.Customer).id, customer.id);
      assert.equal(((await platform.refunds.retrieve(refund.id, { expand: ['charge'] }, opts)).charge as Stripe.Charge).object, 'charge');
      const list = await platform.charges.list({ customer: customer.id, expand: ['data.customer'] }, opts);
      assert.equal((list.data[0]?.customer as Stripe.Customer).id, customer.id);

      for (const [call, path] of [
        [() => platform.charges.retrieve(charge.id, { expand: ['balance_transaction'] }, opts), 'balance_transaction'],
        [() => platform.charges.retrieve(charge.id, { expand: ['customer.default_source'] }, opts), 'customer.default_source'],
        [() => platform.charges.list({ expand: ['customer'] }, opts), 'customer'],
        [() => platform.customers.retrieve(customer.id, { expand: ['default_source'] }, opts), 'default_source'],
        [() => platform.charges.create({ amount: 100, currency: 'usd', source: 'tok_visa', expand: ['nope'] }, opts), 'nope'],
      ] as const) {
        await assert.rejects(call(), (e: unknown) => {
          assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, String(e));
          assert.equal(e.statusCode, 400);
          assert.equal(e.message, `This property cannot be expanded (${path}).`);
          assert.equal(e.param, 'expand');
          return true;
        });
      }
    });

    it('currencies are Stripe’s list: an unknown one is 400 naming currency, with Stripe’s message', async () => {
      const jpy = await platform.charges.create({ amount: 500, currency: 'JPY', source: 'tok_visa' }, opts);
      assert.equal(jpy.currency, 'jpy');
      const before = (await platform.charges.list({ limit: 100 }, opts)).data.length;
      await assert.rejects(platform.charges.create({ amount: 500, currency: 'XYZ', source: 'tok_visa' }, opts), (e: unknown) => {
        assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, String(e));
        assert.equal(e.statusCode, 400);
        assert.equal(e.param, 'currency');
        assert.match(e.message, /^Invalid currency: xyz\. Stripe currently supports these currencies: usd, aed, afn, .*, eur, /);
        return true;
      });
      assert.equal((await platform.charges.list({ limit: 100 }, opts)).data.length, before, 'nothing created');
    });

    it('auto-pagination: for await over 25 customers with limit 10, and ending_before paging', async () => {
      const own = await connectNew(server.url, A);
      const o = { stripeAccount: own.accountId };
      const created: string[] = [];
      for (let i = 0; i < 25; i += 1) created.push((await platform.customers.create({ description: `c${i}` }, o)).id);
      const newestFirst = [...created].reverse();

      const listCalls: string[] = [];
      const counting = sdk(server, A.testSecret);
      counting.on('request', (ev: { method: string; path: string }) => {
        if (ev.method === 'GET') listCalls.push(ev.path);
      });
      const seen: string[] = [];
      for await (const c of counting.customers.list({ limit: 10 }, o)) seen.push(c.id);
      assert.deepEqual(seen, newestFirst, 'all 25, newest first, no duplicates');
      assert.equal(new Set(seen).size, 25);
      assert.equal(listCalls.length, 3, 'three pages of 10, 10 and 5');

      const first = await platform.customers.list({ limit: 10 }, o);
      assert.equal(first.has_more, true);
      const third = await platform.customers.list({ limit: 10, starting_after: newestFirst[19] }, o);
      assert.deepEqual(third.data.map((c) => c.id), newestFirst.slice(20));
      assert.equal(third.has_more, false);

      // ending_before: the page just newer than the cursor, still newest first.
      const before20 = await platform.customers.list({ ending_before: newestFirst[20], limit: 5 }, o);
      assert.deepEqual(before20.data.map((c) => c.id), newestFirst.slice(15, 20));
      assert.equal(before20.has_more, true);
      const top = await platform.customers.list({ ending_before: newestFirst[4] }, o);
      assert.deepEqual(top.data.map((c) => c.id), newestFirst.slice(0, 4));
      assert.equal(top.has_more, false);

      // stripe-node pages backwards with ending_before and yields oldest to newest.
      const backwards: string[] = [];
      for await (const c of platform.customers.list({ ending_before: newestFirst[20], limit: 6 }, o)) backwards.push(c.id);
      assert.deepEqual(backwards, newestFirst.slice(0, 20).reverse());
    });

    describe('Idempotency-Key', () => {
      it('the same key and parameters replay the first response with Idempotent-Replayed: true', async () => {
        const email = `idem-${Date.now()}@example.com`;
        const params = { email, 'metadata[n]': '1' };
        const first = await call(server.url, 'POST', '/v1/customers', { key: A.testSecret, account: acct.accountId, params, headers: { 'idempotency-key': `k-${email}` } });
        const body = ok(first);
        assert.equal(first.headers.get('idempotent-replayed'), null);
        const second = await call(server.url, 'POST', '/v1/customers', { key: A.testSecret, account: acct.accountId, params, headers: { 'idempotency-key': `k-${email}` } });
        assert.equal(ok(second).id, body.id);
        assert.equal(second.headers.get('idempotent-replayed'), 'true');
        assert.deepEqual(second.json, first.json);
        assert.notEqual(second.headers.get('request-id'), first.headers.get('request-id'));
        assert.deepEqual(await customerIds(server, acct.accountId, { email }), [body.id], 'one customer');
      });

      it('the same key with other parameters is 400 idempotency_error (StripeIdempotencyError in stripe-node)', async () => {
        const key = `mismatch-${Date.now()}`;
        const first = await platform.customers.create({ email: 'one@example.com' }, { ...opts, idempotencyKey: key });
        const raw = await call(server.url, 'POST', '/v1/customers', {
          key: A.testSecret,
          account: acct.accountId,
          params: { email: 'two@example.com' },
          headers: { 'idempotency-key': key },
        });
        const err = apiError(raw, 400);
        assert.equal(err.type, 'idempotency_error');
        assert.equal(
          err.message,
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        );
        await assert.rejects(platform.customers.create({ email: 'two@example.com' }, { ...opts, idempotencyKey: key }), (e: unknown) => {
          assert.ok(e instanceof Stripe.errors.StripeIdempotencyError, String(e));
          assert.equal(e.statusCode, 400);
          return true;
        });
        // Another path with the same key is other parameters too.
        await assert.rejects(platform.charges.create({ amount: 100, currency: 'usd', source: 'tok_visa' }, { ...opts, idempotencyKey: key }), Stripe.errors.StripeIdempotencyError);
        const replay = await platform.customers.create({ email: 'one@example.com' }, { ...opts, idempotencyKey: key });
        assert.equal(replay.id, first.id);
        assert.equal(replay.lastResponse.headers['idempotent-replayed'], 'true');
      });

      it('keys are scoped by Stripe-Account and by authenticating key', async () => {
        const key = `scoped-${Date.now()}`;
        const other = await connectNew(server.url, A);
        const one = await platform.customers.create({ email: 'scoped@example.com' }, { ...opts, idempotencyKey: key });
        const two = await platform.customers.create({ email: 'scoped@example.com' }, { stripeAccount: other.accountId, idempotencyKey: key });
        assert.notEqual(one.id, two.id);
        assert.equal(two.lastResponse.headers['idempotent-replayed'], undefined);
        const three = await sdk(server, acct.accessToken).customers.create({ email: 'scoped@example.com' }, { idempotencyKey: key });
        assert.notEqual(three.id, one.id, 'the access token is another authenticating key');
        assert.deepEqual(await customerIds(server, other.accountId, { email: 'scoped@example.com' }), [two.id]);
      });

      it('stripe-node retries after a lost response reuse the Idempotency-Key: exactly one customer', async () => {
        for (const explicit of [true, false]) {
          const proxy = await lossyProxy(server.url, 1);
          try {
            const email = `retry-${explicit ? 'explicit' : 'auto'}-${Date.now()}@example.com`;
            const retrying = sdk(proxy.url, A.testSecret, { maxNetworkRetries: 2 });
            const key = `explicit-${Date.now()}`;
            const customer = await retrying.customers.create({ email }, explicit ? { ...opts, idempotencyKey: key } : opts);
            const posts = proxy.seen.filter((s) => s.method === 'POST');
            assert.equal(posts.length, 2, 'the first response was lost, the SDK retried once');
            const [a, b] = posts;
            assert.ok(a?.idempotencyKey, 'stripe-node sends an Idempotency-Key on POST');
            assert.equal(b?.idempotencyKey, a.idempotencyKey, 'the retry reuses the key');
            if (explicit) assert.equal(a.idempotencyKey, key);
            else assert.match(a.idempotencyKey, /^stripe-node-retry-/);
            assert.equal(a.replayed, undefined);
            assert.equal(b?.replayed, 'true', 'the retry is answered from the stored response');
            assert.deepEqual(await customerIds(server, acct.accountId, { email }), [customer.id], 'exactly one customer');
          } finally {
            await proxy.close();
          }
        }
      });

      it('concurrent requests with one key create one object; the others replay it or get 409', async () => {
        const email = `parallel-${Date.now()}@example.com`;
        const results = await Promise.all(
          Array.from({ length: 8 }, () =>
            call(server.url, 'POST', '/v1/customers', { key: A.testSecret, account: acct.accountId, params: { email }, headers: { 'idempotency-key': `p-${email}` } }),
          ),
        );
        const ids = new Set<unknown>();
        for (const r of results) {
          if (r.status === 200) ids.add(r.json.id);
          else assert.equal(apiError(r, 409).code, 'idempotency_key_in_use');
        }
        assert.equal(ids.size, 1, JSON.stringify(results.map((r) => r.status)));
        assert.deepEqual(await customerIds(server, acct.accountId, { email }), [...ids]);
      });
    });

    it('an OAuth access token used as the API key acts on its own account', async () => {
      const own = sdk(server, acct.accessToken);
      const me = await own.accounts.retrieveCurrent();
      assert.equal(me.id, acct.accountId);
      const mine = await own.customers.create({ email: 'token@example.com' });
      const seenByPlatform = await platform.customers.retrieve(mine.id, undefined, opts);
      assert.equal(seenByPlatform.id, mine.id);
      // The connected account sees what the platform created for it.
      const fromPlatform = await platform.customers.create({ email: 'for-account@example.com' }, opts);
      const listed = (await own.customers.list({ limit: 100 })).data.map((c) => c.id);
      assert.ok(listed.includes(fromPlatform.id) && listed.includes(mine.id));
      const charge = await own.charges.create({ amount: 300, currency: 'usd', source: 'tok_visa' });
      assert.equal((await platform.charges.retrieve(charge.id, undefined, opts)).amount, 300);
      // Not the platform's data.
      await assert.rejects(platform.customers.retrieve(mine.id), (e: unknown) => e instanceof Stripe.errors.StripeInvalidRequestError && e.statusCode === 404);
    });
  });
}
