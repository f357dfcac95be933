// The CLI: flags, errors that name what is wrong (exit 2), seeds that refuse bad values, health,
// and graceful shutdown on SIGTERM with an in-flight request finishing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { A, testSeed } from './support/fixtures.ts';
import { runCli, spawnServer } from './support/process.ts';
import { sleep } from './support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'connectd-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('connectd CLI', () => {
  it('--help prints usage and exits 0', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /connectd serve/);
    assert.match(r.stdout, /DATABASE_URL/);
  });

  for (const [args, names] of [
    [['serve', '--bogus'], /--bogus/],
    [['serve', '--port', 'abc'], /--port/],
    [['serve', '--port', '70000'], /--port/],
    [['serve', '--log-level', 'loud'], /--log-level/],
    [['serve', '--code-ttl', '601'], /--code-ttl/],
    [['serve', '--webhook-worker', 'maybe'], /--webhook-worker/],
    [['frobnicate'], /frobnicate/],
  ] as const) {
    it(`refuses ${args.join(' ')} with one line naming it, exit 2`, async () => {
      const r = await runCli([...args]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, names);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }

  it('refuses a seed with a malformed value, naming the field', async () => {
    const seed = testSeed();
    const first = seed.accounts[0];
    assert.ok(first?.keys);
    first.keys.test_secret = 'pk_test_wrongprefix';
    const file = join(dir, 'bad-seed.json');
    writeFileSync(file, JSON.stringify(seed));
    const r = await runCli(['serve', '--port', '0', '--db', ':memory:', '--seed', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /accounts\[0\]\.keys\.test_secret/);

    const bad = testSeed();
    const p = bad.accounts[0]?.platform;
    assert.ok(p);
    p.redirect_uris = ['not a url'];
    writeFileSync(file, JSON.stringify(bad));
    const r2 = await runCli(['serve', '--port', '0', '--db', ':memory:', '--seed', file]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /accounts\[0\]\.platform\.redirect_uris\[0\]/);
  });

  it('refuses to start in production without CONNECTD_SECRET or --secret-file', async () => {
    const r = await runCli(['serve', '--port', '0', '--db', ':memory:'], { CONNECTD_ENV: 'production', CONNECTD_SECRET: '' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CONNECTD_SECRET or --secret-file is required/);
  });

  it('refuses the crash-test hooks in production; they are inert unless set', async () => {
    const secret = 'x'.repeat(40);
    const hooks: Array<Record<string, string>> = [{ CONNECTD_TEST_CRASH_AFTER_COMMIT: '/oauth/token' }, { CONNECTD_TEST_CLOCK_OFFSET: '120' }];
    for (const hook of hooks) {
      const r = await runCli(['serve', '--port', '0', '--db', ':memory:'], { CONNECTD_ENV: 'production', CONNECTD_SECRET: secret, ...hook });
      assert.equal(r.code, 2, JSON.stringify(hook));
      assert.match(r.stderr, /test hooks, refused when CONNECTD_ENV=production/);
    }
    const { config } = loadConfig(['serve'], {});
    assert.equal(config.testCrashAfterCommit, undefined);
    assert.equal(config.testClockOffset, 0);
  });

  it('migrate applies migrations to a new database', async () => {
    const r = await runCli(['migrate', '--db', join(dir, 'migrated.sqlite')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /migrations applied/);
  });

  it('serves /healthz, prints the seeded platform, and shuts down gracefully on SIGTERM', async () => {
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(testSeed()));
    const server = await spawnServer(['--db', join(dir, 'serve.sqlite'), '--seed', seedFile]);
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', database: 'sqlite' });
    await sleep(100);
    assert.match(server.output(), new RegExp(A.clientIdTest));
    // A request in flight when SIGTERM arrives (its body half sent) is still answered.
    const { port, hostname } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    await new Promise((r) => socket.once('connect', r));
    const body = 'grant_type=authorization_code&code=ac_doesnotexist';
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write(`POST /oauth/token HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${A.testSecret}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`);
    await sleep(200);
    const stopped = server.stop('SIGTERM');
    await sleep(300);
    socket.write(body.slice(10));
    await closed;
    assert.match(response, /^HTTP\/1\.1 400/, response);
    assert.match(response, /Authorization code does not exist/);
    assert.equal(await stopped, 0);
  });
});
