// stripe-python creates a Standard account, an Account Link for it and retrieves it (issue 11,
// docs/contract.md Part B §8): Debian's python3-stripe 5.x, unmodified but for its base URL. The
// Python side is python_accounts.py, which prints what every SDK call returned or raised.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { A } from '../support/fixtures.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./python_accounts.py', import.meta.url));

interface Raised {
  class: string;
  is_invalid_request_error: boolean;
  param: string | null;
  http_status: number | null;
  user_message: string | null;
}
type Outcome<T> = { ok: T } | { raised: Raised };
interface PyResult {
  sdk_version: string;
  created: Outcome<{ id: string; object: string; type: string; country: string; default_currency: string; details_submitted: boolean; charges_enabled: boolean; metadata: Record<string, string>; currently_due: string[]; is_controller: boolean }>;
  link: Outcome<{ object: string; url: string; lifetime: number }>;
  retrieved: Outcome<{ id: string; email: string; business_name: string }>;
  controller_and_type: Outcome<string>;
  account_update_link: Outcome<string>;
}

const ok = <T>(o: Outcome<T>, what: string): T => ('ok' in o ? o.ok : assert.fail(`${what} raised ${o.raised.class}: ${o.raised.user_message ?? ''}`));
const raised = <T>(o: Outcome<T>, what: string): Raised => ('raised' in o ? o.raised : assert.fail(`${what} returned ${JSON.stringify(o.ok)}`));

for (const db of DB_KINDS) {
  describe(`stripe-python creates, links and retrieves a Standard account (${db})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ db });
    });
    after(() => server.close());

    it('Account.create, AccountLink.create, Account.retrieve; refusals are InvalidRequestError', async () => {
      const { stdout } = await run('/usr/bin/python3', ['-I', SCRIPT], { env: { CONNECTD_URL: server.url, PLATFORM_KEY: A.testSecret, PATH: process.env.PATH ?? '' }, timeout: 60_000 });
      const r = JSON.parse(stdout) as PyResult;
      assert.match(r.sdk_version, /^5\./);
      const created = ok(r.created, 'Account.create');
      assert.equal(created.object, 'account');
      assert.equal(created.type, 'standard');
      assert.equal(created.country, 'GB');
      assert.equal(created.default_currency, 'gbp');
      assert.equal(created.details_submitted, false);
      assert.equal(created.charges_enabled, false);
      assert.deepEqual(created.metadata, { from: 'python' });
      assert.deepEqual(created.currently_due, ['business_profile.product_description', 'business_profile.support_phone', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip']);
      assert.equal(created.is_controller, true);
      const link = ok(r.link, 'AccountLink.create');
      assert.equal(link.object, 'account_link');
      assert.equal(link.lifetime, 300);
      assert.ok(link.url.startsWith(`${server.url}/setup/s/${created.id}/`));
      assert.deepEqual(ok(r.retrieved, 'Account.retrieve'), { id: created.id, email: 'py@example.com', business_name: 'Py Pies' });
      const both = raised(r.controller_and_type, 'type with controller');
      assert.equal(both.is_invalid_request_error, true);
      assert.equal(both.param, 'type');
      const update = raised(r.account_update_link, 'an account_update link');
      assert.equal(update.is_invalid_request_error, true);
      assert.equal(update.param, 'type');
      assert.equal(update.http_status, 400);
    });
  });
}
