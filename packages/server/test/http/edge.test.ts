// The HTTP edge's fixed per-request work (issue 8): which headers each family of responses carries,
// Request-Id values, and the asynchronous log output losing no line on SIGTERM or at exit.
// Headers and logs do not depend on the database: SQLite only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { newRequestId } from '../../src/http/request-id.ts';
import { newAccountId, newConnectionId, newEventId, randomPooledBytes, sortableBase62 } from '../../src/domain/ids.ts';
import { decryptSecret, encryptSecret } from '../../src/domain/secrets.ts';
import { A, testSeed } from '../support/fixtures.ts';
import { spawnServer } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { sleep } from '../support/wait.ts';

/** The browser protections a page carries; none of them belongs on a JSON API answer. */
const PAGE_ONLY = ['content-security-policy', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection'];

const bearer = { authorization: `Bearer ${A.testSecret}` };

function assertApiHeaders(res: Response, what: string): void {
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  assert.match(res.headers.get('request-id') ?? '', /^req_[A-Za-z0-9]{14}$/, `${what}: Request-Id`);
  for (const h of PAGE_ONLY) assert.equal(res.headers.get(h), null, `${what}: no ${h}`);
}

function assertPageHeaders(res: Response, what: string): void {
  assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, `${what}: CSP`);
  assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/, `${what}: CSP`);
  assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', what);
  assert.match(res.headers.get('request-id') ?? '', /^req_[A-Za-z0-9]{14}$/, `${what}: Request-Id`);
}

describe('response headers by family', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.close());

  it('/v1 answers, successes and errors, carry the small fixed set and no page protections', async () => {
    assertApiHeaders(await fetch(`${server.url}/v1/account`, { headers: bearer }), 'GET /v1/account');
    assertApiHeaders(await fetch(`${server.url}/v1/account`), 'GET /v1/account without a key (401)');
    assertApiHeaders(await fetch(`${server.url}/v1/nope`, { headers: bearer }), 'GET /v1/nope (404)');
    const created = await fetch(`${server.url}/v1/customers`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': `edge-${newRequestId()}` },
      body: 'email=edge%40example.com',
    });
    assert.equal(created.status, 200);
    assertApiHeaders(created, 'POST /v1/customers');
  });

  it('/oauth/token and /oauth/deauthorize are never cacheable, without page protections', async () => {
    for (const path of ['/oauth/token', '/oauth/deauthorize']) {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=ac_nope' });
      assert.equal(res.status, 400, path);
      assertApiHeaders(res, path);
      assert.equal(res.headers.get('cache-control'), 'no-store', path);
      assert.equal(res.headers.get('pragma'), 'no-cache', path);
    }
  });

  it('the JSON probes (/healthz, RFC 8414 metadata) carry the API set', async () => {
    assertApiHeaders(await fetch(`${server.url}/healthz`), '/healthz');
    assertApiHeaders(await fetch(`${server.url}/.well-known/oauth-authorization-server`), 'metadata');
  });

  it('pages and /oauth/authorize carry the page protections; /oauth/ pages are never cacheable', async () => {
    assertPageHeaders(await fetch(`${server.url}/login`), '/login');
    assertPageHeaders(await fetch(`${server.url}/nope`), '/nope (404 page)');
    const authorize = await fetch(`${server.url}/oauth/authorize?response_type=code&client_id=ca_nope`, { redirect: 'manual' });
    assertPageHeaders(authorize, '/oauth/authorize');
    assert.equal(authorize.headers.get('cache-control'), 'no-store');
    assert.equal(authorize.headers.get('pragma'), 'no-cache');
    const unknown = await fetch(`${server.url}/oauth/nope`);
    assert.equal(unknown.status, 404);
    assertPageHeaders(unknown, '/oauth/nope');
    assert.equal(unknown.headers.get('cache-control'), 'no-store');
  });
});

describe('response headers with an https public URL', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ args: ['--public-url', 'https://connectd.example'] });
  });
  after(() => server?.close());

  it('HSTS on pages and on /v1 and /oauth answers alike', async () => {
    for (const [path, init] of [
      ['/login', {}],
      ['/v1/account', { headers: bearer }],
      ['/oauth/token', { method: 'POST', headers: bearer }],
      ['/healthz', {}],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, init);
      assert.equal(res.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains', path);
    }
  });
});

describe('Request-Id values', () => {
  it('are req_ and 14 base62 characters, every one different', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = newRequestId();
      assert.match(id, /^req_[A-Za-z0-9]{14}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 20_000);
  });
});

describe('time-ordered row ids', () => {
  it('keep the id format, start with the creation time, and never repeat', async () => {
    const first = [newAccountId(), newConnectionId(), newEventId()];
    assert.match(first[0] ?? '', /^acct_[A-Za-z0-9]{16}$/);
    assert.match(first[1] ?? '', /^conn_[A-Za-z0-9]{24}$/);
    assert.match(first[2] ?? '', /^evt_[A-Za-z0-9]{24}$/);
    await sleep(5);
    const later = [newAccountId(), newConnectionId(), newEventId()];
    // Byte order (SQLite's BINARY collation): a later id sorts after an earlier one.
    for (const [i, id] of later.entries()) assert.ok(id > (first[i] ?? ''), `${id} sorts after ${first[i] ?? ''}`);
    const seen = new Set(Array.from({ length: 20_000 }, () => sortableBase62(24)));
    assert.equal(seen.size, 20_000);
  });
});

describe('pooled random bytes (AES-GCM nonces)', () => {
  it('hands out each pooled byte once, across refills of the pool', () => {
    const seen = new Set<string>();
    // 12-byte nonces: 2,000 of them span several 8 KiB pool refills.
    for (let i = 0; i < 2_000; i++) {
      const iv = randomPooledBytes(12);
      assert.equal(iv.length, 12);
      seen.add(iv.toString('hex'));
    }
    assert.equal(seen.size, 2_000);
    // A draw larger than the pool is filled across refills, not truncated or repeated.
    const big = randomPooledBytes(20_000);
    assert.equal(big.length, 20_000);
    assert.notDeepEqual(big.subarray(0, 8192), big.subarray(8192, 16384));
  });

  it('seals each secret with a fresh nonce: the same plaintext never seals the same way twice', () => {
    const key = Buffer.alloc(32, 7);
    const sealed = new Set(Array.from({ length: 500 }, () => encryptSecret(key, 'sk_test_same')));
    assert.equal(sealed.size, 500);
    for (const s of sealed) assert.equal(decryptSecret(key, s), 'sk_test_same');
  });
});

/** Resolves once everything the child wrote to `stream` has been read. */
async function ended(stream: Readable | null): Promise<void> {
  if (stream && !stream.readableEnded) await once(stream, 'end');
}

describe('log output to stdout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'connectd-edge-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the access line of a request answered just before SIGTERM reaches the output, without its query string', async () => {
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(testSeed()));
    const server = await spawnServer(['--db', join(dir, 'sigterm.sqlite'), '--seed', seedFile]);
    const res = await fetch(`${server.url}/healthz?state=private-value`);
    assert.equal(res.status, 200);
    const reqId = res.headers.get('request-id') ?? '';
    assert.equal(await server.stop('SIGTERM'), 0);
    await Promise.all([ended(server.child.stdout), ended(server.child.stderr)]);
    const line = server.output().split('\n').find((l) => l.includes(`"reqId":"${reqId}"`));
    assert.ok(line, `the access line for ${reqId}:\n${server.output().slice(-2000)}`);
    assert.match(line, /"path":"\/healthz","status":200/);
    assert.doesNotMatch(server.output(), /private-value/);
    assert.match(server.output(), /"signal":"SIGTERM","msg":"shutting down"/);
  });

  for (const [name, ending] of [
    ['process.exit', 'process.exit(3);'],
    ['an uncaught error', "throw new Error('fatal after logging');"],
  ] as const) {
    it(`every line logged right before ${name} reaches the output, in order`, async () => {
      const server = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
      const config = fileURLToPath(new URL('../../src/config/config.ts', import.meta.url));
      const script = [
        `const { createLogger } = await import(${JSON.stringify(server)});`,
        `const { loadConfig } = await import(${JSON.stringify(config)});`,
        `const log = createLogger(loadConfig(['serve'], {}).config);`,
        // Long enough lines that the pipe fills and the writer must wait on the reader at exit.
        `for (let i = 0; i < 3000; i++) log.info({ event: 'edge.test', i, pad: 'x'.repeat(200) }, 'line');`,
        ending,
      ].join('\n');
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const [code] = (await once(child, 'close')) as [number | null];
      assert.notEqual(code, 0);
      const seen = stdout
        .split('\n')
        .filter((l) => l.includes('"event":"edge.test"'))
        .map((l) => (JSON.parse(l) as { i: number }).i);
      assert.equal(seen.length, 3000, `lines written: ${seen.length}`);
      assert.deepEqual(seen, Array.from({ length: 3000 }, (_, i) => i));
    });
  }
});
