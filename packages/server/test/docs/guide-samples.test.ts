// Stripe's guide "Using Connect with Standard Accounts" (steps 4 and "Revoked and revoking
// access"): its own samples, copied as written, run against connectd with only the origin, keys,
// client_id, code and account ids substituted (docs/oauth-flow.md). curl, Python `requests` and
// Node `request` run here; the Ruby, PHP, Java (Apache HttpComponents) and Go samples need
// toolchains or libraries this test does not install.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { A } from '../support/fixtures.ts';
import { connectNew, helperCode } from '../support/flow.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);
const NODE_MODULES = fileURLToPath(new URL('../../../../node_modules', import.meta.url));

// The samples, verbatim from the guide.
const CURL_TOKEN = `curl https://connect.stripe.com/oauth/token \\
-d client_secret=sk_test_4eC39HqLyjWDarjtT1zdp7dc \\
-d code="{AUTHORIZATION_CODE}" \\
-d grant_type=authorization_code`;

const CURL_DEAUTHORIZE = `curl https://connect.stripe.com/oauth/deauthorize \\
-u sk_test_4eC39HqLyjWDarjtT1zdp7dc: \\
-d client_id=ca_32D88BD1qLklliziD7gYQvctJIhWBSQ7 \\
-d stripe_user_id=acct_qlaZ93jG9qL2yN`;

const PYTHON_DEAUTHORIZE = `requests.post(
'https://connect.stripe.com/oauth/deauthorize',
data={
'client_id': 'ca_32D88BD1qLklliziD7gYQvctJIhWBSQ7',
'stripe_user_id': 'acct_52eTqb9zk2yDal',
},
headers={'Authorization': 'Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc'}
)`;

const NODE_DEAUTHORIZE = `var request = require('request');
request.post({
url: 'https://connect.stripe.com/oauth/deauthorize',
formData: {
client_id: 'ca_32D88BD1qLklliziD7gYQvctJIhWBSQ7',
stripe_user_id: 'acct_KuWSgC6RkG7Arn',
},
headers: {'Authorization': 'Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc'},
});`;

describe('Stripe’s Connect guide samples, run against connectd', () => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'connectd-guide-'));
  before(async () => (server = await startTestServer()));
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Only what the guide leaves to the reader: where connectd is, and the platform's own values. */
  const substitute = (sample: string, values: { code?: string; account?: string }) =>
    sample
      .replaceAll('https://connect.stripe.com', server.url)
      .replaceAll('sk_test_4eC39HqLyjWDarjtT1zdp7dc', A.testSecret)
      .replaceAll('ca_32D88BD1qLklliziD7gYQvctJIhWBSQ7', A.clientIdTest)
      .replaceAll('{AUTHORIZATION_CODE}', values.code ?? '')
      .replace(/acct_[A-Za-z0-9]{14}\b/g, values.account ?? '');

  /** A fresh account connected to platform A, and its access token. */
  async function connected(): Promise<{ account: string; accessToken: string }> {
    const c = await connectNew(server.url, A);
    return { account: c.accountId, accessToken: c.accessToken };
  }

  /** The connection is gone: its access token no longer authenticates. */
  async function assertRevoked(accessToken: string): Promise<void> {
    const res = await fetch(`${server.url}/v1/account`, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(res.status, 401, 'the access token was revoked');
  }

  it('curl: the token exchange returns the credentials, stripe_user_id included', async () => {
    const { code, stripe_user_id: account } = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, scope: 'read_write' });
    const { stdout } = await run('/bin/sh', ['-c', `${substitute(CURL_TOKEN, { code })} -sS`]);
    const body = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(body.stripe_user_id, account);
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.scope, 'read_write');
    assert.equal(body.livemode, false);
    for (const key of ['access_token', 'refresh_token', 'stripe_publishable_key']) assert.equal(typeof body[key], 'string', key);
  });

  it('curl: deauthorize with -u key: returns {stripe_user_id}', async () => {
    const { account, accessToken } = await connected();
    const { stdout } = await run('/bin/sh', ['-c', `${substitute(CURL_DEAUTHORIZE, { account })} -sS`]);
    assert.deepEqual(JSON.parse(stdout), { stripe_user_id: account });
    await assertRevoked(accessToken);
  });

  it('Python requests: deauthorize with data= and a Bearer header returns {stripe_user_id}', async () => {
    const { account, accessToken } = await connected();
    const script = `import requests\nr = ${substitute(PYTHON_DEAUTHORIZE, { account })}\nprint(r.status_code)\nprint(r.text)\n`;
    const file = join(dir, 'deauthorize.py');
    writeFileSync(file, script);
    const { stdout } = await run('python3', [file]);
    const [status, text] = stdout.split('\n');
    assert.equal(status, '200', stdout);
    assert.deepEqual(JSON.parse(text ?? ''), { stripe_user_id: account });
    await assertRevoked(accessToken);
  });

  it('Node request: deauthorize with formData (multipart/form-data) returns {stripe_user_id}', async () => {
    const { account, accessToken } = await connected();
    // The sample ignores the answer; the only addition is a callback that prints it.
    const sample = substitute(NODE_DEAUTHORIZE, { account }).replace(
      /\}\);$/,
      '}, (err, res, body) => { if (err) throw err; console.log(res.statusCode); console.log(res.request.headers["content-type"]); console.log(body); });',
    );
    const file = join(dir, 'deauthorize.cjs');
    writeFileSync(file, sample);
    const { stdout } = await run(process.execPath, [file], { env: { ...process.env, NODE_PATH: NODE_MODULES } });
    const [status, contentType, body] = stdout.split('\n');
    assert.equal(status, '200', stdout);
    assert.match(contentType ?? '', /^multipart\/form-data; boundary=/, 'the guide’s sample really sends multipart');
    assert.deepEqual(JSON.parse(body ?? ''), { stripe_user_id: account });
    await assertRevoked(accessToken);
  });
});
