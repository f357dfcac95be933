// Secrets at rest and in logs (docs/security-model.md SE-01, SE-04, CD-06, TK-12, AC-01): every secret
// minted during a full flow is absent from the database files (SQLite file + WAL) or tables
// (PostgreSQL), and from everything the server logged.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import SQLite from 'better-sqlite3';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { A, M } from '../support/fixtures.ts';
import { codeFrom, FormClient, helperCode } from '../support/flow.ts';
import { post } from '../support/http.ts';
import { decryptSecret } from '../../src/domain/secrets.ts';
import { DB_KINDS, PG_URL, startTestServer, type TestServer } from '../support/server.ts';

async function rows<T>(server: TestServer, query: string): Promise<T[]> {
  if (server.sqlitePath) {
    const raw = new SQLite(server.sqlitePath, { readonly: true });
    try {
      return raw.prepare(query).all() as T[];
    } finally {
      raw.close();
    }
  }
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${server.pgSchema ?? 'public'}` });
  await client.connect();
  try {
    return (await client.query(query)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The probe's attack: derive the sealing key from a value found in the database. */
function opensWith(candidate: string, sealed: string): boolean {
  const key = createHmac('sha256', candidate).update('connectd/seal/v1').digest();
  try {
    decryptSecret(key, sealed);
    return true;
  } catch {
    return false;
  }
}

async function databaseText(server: TestServer): Promise<string> {
  if (server.sqlitePath) {
    return ['', '-wal', '-shm']
      .map((suffix) => server.sqlitePath + suffix)
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1',
      [server.pgSchema],
    );
    let text = '';
    for (const { table_name } of tables.rows) {
      const rows = await client.query(`select t::text as row from "${server.pgSchema}"."${table_name}" t`);
      text += rows.rows.map((r: { row: string }) => r.row).join('\n');
    }
    return text;
  } finally {
    await client.end();
  }
}

for (const db of DB_KINDS) {
  describe(`secrets on ${db}`, () => {
    let server: TestServer;
    const atRest: Record<string, string> = {};
    const everywhere: Record<string, string> = {};
    before(async () => {
      server = await startTestServer({ db });
      const auth = { authorization: `Bearer ${A.testSecret}` };

      // A merchant registers through the authorize page, connects, and the platform exchanges.
      const client = new FormClient(server.url);
      const password = `canary-password-${db}-Zq81`;
      const start = await client.authorize({ response_type: 'code', client_id: A.clientIdTest, scope: 'read_write', state: 'canary-state' });
      const form = await client.get(start.location ?? '');
      const reg = await client.post(`${start.location}/register`, {
        _csrf: FormClient.csrfFrom(form.text), email: `canary-${db}@example.com`, password, business_name: 'Canary', country: 'US',
      });
      assert.equal(reg.status, 303);
      const consent = await client.get(start.location ?? '');
      const decided = await client.post(`${start.location}/decision`, { _csrf: FormClient.csrfFrom(consent.text), decision: 'allow' });
      const code = codeFrom(decided.location ?? '');
      // As the SDKs do: an Idempotency-Key, so the response is stored for replay (sealed).
      const token = await post(`${server.url}/oauth/token`, { grant_type: 'authorization_code', code }, { ...auth, 'idempotency-key': `canary-${db}` });
      assert.equal(token.status, 200);
      const replayed = await post(`${server.url}/oauth/token`, { grant_type: 'authorization_code', code }, { ...auth, 'idempotency-key': `canary-${db}` });
      assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
      assert.equal(replayed.json.access_token, token.json.access_token, 'the sealed response replays intact');
      const refreshed = await post(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: String(token.json.refresh_token) }, { ...auth, 'idempotency-key': `canary-r-${db}` });
      assert.equal(refreshed.status, 200);
      // Replay and unknown-code errors echo codes to the client; they must not reach our logs.
      await post(`${server.url}/oauth/token`, { grant_type: 'authorization_code', code }, auth);
      const helper = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, state: 'canary-state-2' });

      // M signs in and rolls the live key: shown once, stored as a hash.
      const merchant = new FormClient(server.url);
      await merchant.login(M.email, M.password);
      const dash = await merchant.get('/dashboard');
      const rolled = await merchant.post('/dashboard/keys/roll', { _csrf: FormClient.csrfFrom(dash.text), mode: 'live' });
      const liveKey = /id="new-key">(sk_live_[A-Za-z0-9]+)</.exec(rolled.text)?.[1];
      assert.ok(liveKey, 'the rolled live key is shown once');

      Object.assign(atRest, {
        password,
        merchantPassword: M.password,
        code,
        helperCode: helper.code,
        accessToken: String(token.json.access_token),
        refreshedAccessToken: String(refreshed.json.access_token),
        refreshToken: String(token.json.refresh_token),
        seededLiveKey: A.liveSecret,
        rolledLiveKey: liveKey,
      });
      Object.assign(everywhere, atRest, { testSecret: A.testSecret, state: 'canary-state' });
    });
    after(() => server.close());

    it('stores no code, token, live key or password in plaintext', async () => {
      const text = await databaseText(server);
      assert.ok(text.length > 1000, 'the scan read the database');
      assert.ok(text.includes(A.clientIdTest), 'the scan sees plain columns');
      // Test secret keys are kept revealable on purpose (docs/contract.md Part A "Secrets at rest"): proof the scan would find a key.
      assert.ok(text.includes(A.testSecret), 'the scan finds a key stored in plaintext');
      for (const [name, secret] of Object.entries(atRest)) assert.ok(!text.includes(secret), `${name} is stored in plaintext`);
    });

    it('keeps no key in the database: nothing found there opens a sealed token response or webhook secret', async () => {
      const sealed = [
        ...(await rows<{ body: string }>(server, `select body from idempotency_keys where body is not null`)).map((r) => r.body),
        ...(await rows<{ secret_sealed: string }>(server, `select secret_sealed from webhook_endpoints`)).map((r) => r.secret_sealed),
      ];
      assert.ok(sealed.length >= 2, 'the database holds sealed values');
      const settings = await rows<{ name: string; value: string }>(server, `select name, value from settings`);
      for (const { name, value } of settings) {
        for (const s of sealed) assert.ok(!opensWith(value, s), `the setting ${name} opens a sealed value`);
      }
      if (server.sqlitePath) {
        // The key file, beside the data directory, is what opens them (so the check above could fail).
        const keyFile = `${dirname(server.sqlitePath)}.key`;
        assert.equal(statSync(keyFile).mode & 0o777, 0o600);
        const first = sealed[0] ?? '';
        assert.ok(opensWith(readFileSync(keyFile, 'utf8').trim(), first), 'the key file opens the sealed values');
      }
    });

    it('stores passwords with scrypt at OWASP parameters', async () => {
      const text = await databaseText(server);
      assert.match(text, /scrypt\$32768\$8\$3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}/);
    });

    it('logs none of the secrets it minted or received', () => {
      const logs = server.logs.join('');
      assert.ok(logs.includes('"path":"/oauth/token"'), 'the access log was captured');
      for (const [name, secret] of Object.entries(everywhere)) assert.ok(!logs.includes(secret), `${name} appears in the logs`);
    });
  });
}

describe('the server secret outside the database', () => {
  it('moves a secret kept in the database by an older release into the key file, and erases it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'connectd-legacy-'));
    const path = join(dir, 'connectd.sqlite');
    const query = <T>(q: string, ...params: string[]): T[] => {
      const raw = new SQLite(path);
      try {
        return q.startsWith('select') ? (raw.prepare(q).all(...params) as T[]) : (raw.prepare(q).run(...params), []);
      } finally {
        raw.close();
      }
    };
    try {
      const first = await startTestServer({ args: ['--db', path] });
      const made = await post(`${first.url}/v1/webhook_endpoints`, { url: 'https://platform.example/hooks', 'enabled_events[]': '*', connect: 'true' }, { authorization: `Bearer ${A.testSecret}` });
      assert.equal(made.status, 200, made.text);
      await first.close();
      const sealed = query<{ secret_sealed: string }>('select secret_sealed from webhook_endpoints')[0]?.secret_sealed ?? '';
      const secret = readFileSync(`${dir}.key`, 'utf8').trim();
      // As an older release left it: the secret in `settings`, no key file.
      rmSync(`${dir}.key`);
      query(`insert into settings (name, value) values ('server_secret', ?)`, secret);

      await (await startTestServer({ args: ['--db', path] })).close();
      assert.equal(readFileSync(`${dir}.key`, 'utf8').trim(), secret, 'the key file holds the old secret');
      assert.equal(statSync(`${dir}.key`).mode & 0o777, 0o600);
      assert.deepEqual(query(`select name from settings where name = 'server_secret'`), []);
      const bytes = ['', '-wal'].map((x) => path + x).filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')).join('');
      assert.ok(!bytes.includes(secret), 'the secret is erased from the database file and its WAL');
      assert.ok(opensWith(secret, sealed), 'data sealed before the move still opens');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(`${dir}.key`, { force: true });
    }
  });
  it('refuses to start with another secret than the database was set up with, and never replaces a lost key file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'connectd-wrongkey-'));
    const path = join(dir, 'connectd.sqlite');
    const keyFile = `${dir}.key`;
    try {
      await (await startTestServer({ args: ['--db', path] })).close();
      const secret = readFileSync(keyFile, 'utf8');
      // Lost: starting again must not mint a new secret over the database's data.
      rmSync(keyFile);
      await assert.rejects(startTestServer({ args: ['--db', path] }), /key file .* was missing, but this database already holds accounts/);
      assert.ok(!existsSync(keyFile), 'no new key file was left behind');
      // Another secret: refused too, from a file or from CONNECTD_SECRET's place.
      writeFileSync(keyFile, 'x'.repeat(43), { mode: 0o600 });
      await assert.rejects(startTestServer({ args: ['--db', path] }), /does not belong to this database/);
      // The right one: starts.
      writeFileSync(keyFile, secret, { mode: 0o600 });
      await (await startTestServer({ args: ['--db', path] })).close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(keyFile, { force: true });
    }
  });
});
