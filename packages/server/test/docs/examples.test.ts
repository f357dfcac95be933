// The examples in docs/examples run as written against a live connectd (issue 3 "Done when").
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { A } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);
const example = (name: string) => fileURLToPath(new URL(`../../../../docs/examples/${name}`, import.meta.url));

describe('docs/examples', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    server = await startTestServer();
    env = { ...process.env, CONNECTD_URL: server.url, PLATFORM_KEY: A.testSecret, CLIENT_ID: A.clientIdTest };
  });
  after(() => server.close());

  it('connected-account.mjs (stripe-node)', async () => {
    const { stdout } = await run(process.execPath, [example('connected-account.mjs')], { env });
    assert.match(stdout, /declined: card_declined/);
    assert.match(stdout, /after deauthorize: 403 account_invalid/);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { customers: number; charge: string };
    assert.equal(summary.customers, 1);
    assert.match(summary.charge, /^ch_/);
  });

  it('connected_account.py (python3-stripe)', async () => {
    const { stdout } = await run('/usr/bin/python3', ['-I', example('connected_account.py')], { env: { PATH: '/usr/bin:/bin', ...env, PYTHONPATH: '' } });
    const out = JSON.parse(stdout.trim()) as { account: string; customer: string; count: number; declined: string };
    assert.match(out.account, /^acct_/);
    assert.match(out.customer, /^cus_/);
    assert.equal(out.count, 1);
    assert.equal(out.declined, 'card_declined');
  });
});
