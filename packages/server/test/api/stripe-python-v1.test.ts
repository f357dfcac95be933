// stripe-python with `stripe_account=` against /v1 (issue 3, "Tests that must exist"): account
// retrieval, customer create and list, a declined charge raising CardError. Debian's python3-stripe
// 5.x; the Python side is python_v1.py, which prints what every SDK call returned or raised.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { A, B } from '../support/fixtures.ts';
import { connectNew } from '../support/flow.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';
import { call, masked, noAccessMessage, ok, REQUEST_ID } from '../support/api.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python_v1.py', import.meta.url));

interface RaisedError {
  class: string;
  is_card_error: boolean;
  is_permission_error: boolean;
  is_invalid_request_error: boolean;
  code: string | null;
  param: string | null;
  user_message: string | null;
  http_status: number | null;
  request_id: string | null;
  json_body: { error?: Record<string, unknown> } | null;
}
type Outcome<T> = { ok: T } | { raised: RaisedError };

interface PyResult {
  sdk_version: string;
  account: Outcome<{ id: string; object: string; type: string; charges_enabled: boolean }>;
  customer: Outcome<{ id: string; object: string; email: string; metadata: Record<string, string>; livemode: boolean }>;
  more: Outcome<string[]>;
  list_by_email: Outcome<{ object: string; url: string; has_more: boolean; ids: string[] }>;
  list_all: Outcome<string[]>;
  declined: Outcome<string>;
  succeeded: Outcome<{ id: string; status: string; brand: string }>;
  foreign_account: Outcome<string>;
}

function okOf<T>(outcome: Outcome<T>, what: string): T {
  if ('raised' in outcome) assert.fail(`${what} raised ${outcome.raised.class}: ${outcome.raised.user_message ?? ''}`);
  return outcome.ok;
}

function raisedOf<T>(outcome: Outcome<T>, what: string): RaisedError {
  if ('ok' in outcome) assert.fail(`${what} returned ${JSON.stringify(outcome.ok)} instead of raising`);
  return outcome.raised;
}

for (const db of DB_KINDS) {
  describe(`stripe-python with stripe_account= on ${db}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ db });
    });
    after(() => server.close());

    it('Account.retrieve, Customer.create and Customer.list, and a declined charge raising CardError', async () => {
      const acct = await connectNew(server.url, A);
      const foreign = await connectNew(server.url, B);
      const runId = `${db}${Date.now()}`;
      const { stdout } = await run(PYTHON, ['-I', SCRIPT], {
        env: {
          PATH: '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          NO_PROXY: '*',
          LANG: 'C.UTF-8',
          CONNECTD_URL: server.url,
          PLATFORM_KEY: A.testSecret,
          ACCOUNT: acct.accountId,
          FOREIGN_ACCOUNT: foreign.accountId,
          RUN_ID: runId,
        },
        timeout: 30_000,
      });
      const r = JSON.parse(stdout) as PyResult;
      assert.match(r.sdk_version, /^5\./);

      assert.deepEqual(okOf(r.account, 'Account.retrieve'), { id: acct.accountId, object: 'account', type: 'standard', charges_enabled: true });

      const customer = okOf(r.customer, 'Customer.create');
      assert.match(customer.id, /^cus_/);
      assert.equal(customer.object, 'customer');
      assert.equal(customer.email, `py-${runId}@example.com`);
      assert.deepEqual(customer.metadata, { run: runId });
      assert.equal(customer.livemode, false);
      const more = okOf(r.more, 'Customer.create x3');

      // Created on the connected account, not on the platform.
      ok(await call(server.url, 'GET', `/v1/customers/${customer.id}`, { key: A.testSecret, account: acct.accountId }));
      assert.equal((await call(server.url, 'GET', `/v1/customers/${customer.id}`, { key: A.testSecret })).status, 404);

      assert.deepEqual(okOf(r.list_by_email, 'Customer.list(email=)'), { object: 'list', url: '/v1/customers', has_more: false, ids: [customer.id] });
      assert.deepEqual(okOf(r.list_all, 'auto_paging_iter'), [...more].reverse().concat(customer.id), 'newest first over two pages');

      const declined = raisedOf(r.declined, 'Charge.create(tok_chargeDeclined)');
      assert.equal(declined.class, 'CardError');
      assert.equal(declined.is_card_error, true);
      assert.equal(declined.http_status, 402);
      assert.equal(declined.code, 'card_declined');
      assert.equal(declined.user_message, 'Your card was declined.');
      assert.match(declined.request_id ?? '', REQUEST_ID);
      assert.equal(declined.json_body?.error?.type, 'card_error');
      assert.equal(declined.json_body?.error?.decline_code, 'generic_decline');

      const success = okOf(r.succeeded, 'Charge.create(tok_visa)');
      assert.equal(success.status, 'succeeded');
      assert.equal(success.brand, 'visa');

      const denied = raisedOf(r.foreign_account, 'Customer.list for an account of another platform');
      assert.equal(denied.class, 'PermissionError');
      assert.equal(denied.is_permission_error, true);
      assert.equal(denied.http_status, 403);
      // python3-stripe 5 builds PermissionError without `code`; the body carries it.
      assert.equal(denied.json_body?.error?.code, 'account_invalid');
      assert.equal(denied.json_body?.error?.type, 'invalid_request_error');
      assert.equal(denied.user_message, noAccessMessage(masked(A.testSecret), foreign.accountId));
    });
  });
}
