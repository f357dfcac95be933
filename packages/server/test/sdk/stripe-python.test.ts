// stripe-python as an oracle (docs/contract.md Part B §7.2): Debian's python3-stripe 5.x, legacy globals API,
// against a live connectd on each database. The Python side lives in python_oracle.py; it prints one
// JSON document recording what every SDK call returned or raised.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { A, M } from '../support/fixtures.ts';
import { codeFrom, FormClient, helperCode } from '../support/flow.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);
/** Debian's interpreter, where python3-stripe is installed (the `python3` on PATH may be another one). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python_oracle.py', import.meta.url));

interface RaisedError {
  class: string;
  module: string;
  is_oauth_error: boolean;
  is_invalid_grant: boolean;
  is_invalid_client: boolean;
  is_authentication_error: boolean;
  code: string | null;
  user_message: string | null;
  text: string;
  http_status: number | null;
  request_id: string | null;
  json_body: Record<string, unknown> | null;
}
type Outcome<T> = { ok: T } | { raised: RaisedError };
interface TokenView {
  keys: string[];
  types: Record<string, string>;
  data: Record<string, string | boolean>;
}
interface FlowResult {
  sdk_version: string;
  oauth_module_had_connect_api_base: boolean;
  oauth_module_connect_api_base: string | null;
  exchange: Outcome<TokenView>;
  account_with_access_token: Outcome<string>;
  refresh: Outcome<TokenView>;
  refresh_widen: Outcome<unknown>;
  deauthorize: Outcome<Record<string, string>>;
  account_after_deauthorize: Outcome<string>;
  refresh_after_deauthorize: Outcome<unknown>;
  deauthorize_again: Outcome<unknown>;
  unknown_code: Outcome<unknown>;
  replay_first: Outcome<TokenView>;
  replay_second: Outcome<unknown>;
  replay_first_access_token_after: Outcome<string>;
  missing_code: Outcome<unknown>;
  unsupported_grant: Outcome<unknown>;
  bad_key: Outcome<unknown>;
}

async function oracle<T>(mode: 'flow' | 'authorize_url', env: Record<string, string>): Promise<T> {
  const { stdout } = await run(PYTHON, ['-I', SCRIPT, mode], {
    // A clean environment: no proxies (requests honours them), no PYTHON* variables.
    env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NO_PROXY: '*', LANG: 'C.UTF-8', ...env },
    timeout: 60_000,
    maxBuffer: 4 * 1024 * 1024,
  });
  return JSON.parse(stdout) as T;
}

function ok<T>(outcome: Outcome<T>, what: string): T {
  if ('raised' in outcome) assert.fail(`${what} raised ${outcome.raised.class}: ${outcome.raised.text}`);
  return outcome.ok;
}

function raised<T>(outcome: Outcome<T>, what: string): RaisedError {
  if ('ok' in outcome) assert.fail(`${what} returned ${JSON.stringify(outcome.ok)} instead of raising`);
  return outcome.raised;
}

const TOKEN_KEYS = ['access_token', 'livemode', 'refresh_token', 'token_type', 'stripe_publishable_key', 'stripe_user_id', 'scope'];

for (const db of DB_KINDS) {
  describe(`stripe-python (legacy globals) against connectd on ${db}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ db });
    });
    after(() => server.close());

    it('exchanges, refreshes and deauthorizes; unknown and replayed codes raise InvalidGrantError', async () => {
      const main = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, scope: 'read_write' });
      const replay = await helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, scope: 'read_only' });
      const r = await oracle<FlowResult>('flow', {
        CONNECTD_URL: server.url,
        PLATFORM_KEY: A.testSecret,
        CLIENT_ID: A.clientIdTest,
        CODE: main.code,
        REPLAY_CODE: replay.code,
      });

      assert.match(r.sdk_version, /^5\./, 'the Debian python3-stripe 5.x is the one under test');
      assert.equal(r.oauth_module_had_connect_api_base, true, 'v5 binds connect_api_base into stripe.oauth at import');
      assert.equal(r.oauth_module_connect_api_base, server.url);

      // Code exchange: the seven fields, in Stripe's order, with JSON types stripe-python decodes.
      const token = ok(r.exchange, 'OAuth.token(authorization_code)');
      assert.deepEqual(token.keys, TOKEN_KEYS);
      assert.deepEqual(token.types, {
        access_token: 'str', livemode: 'bool', refresh_token: 'str', token_type: 'str',
        stripe_publishable_key: 'str', stripe_user_id: 'str', scope: 'str',
      });
      assert.equal(token.data.stripe_user_id, main.stripe_user_id);
      assert.equal(token.data.scope, 'read_write');
      assert.equal(token.data.livemode, false);
      assert.equal(token.data.token_type, 'bearer');
      assert.match(String(token.data.access_token), /^sk_test_/);
      assert.match(String(token.data.refresh_token), /^rt_[A-Za-z0-9]{48}$/);
      assert.match(String(token.data.stripe_publishable_key), /^pk_test_/);
      assert.equal(ok(r.account_with_access_token, 'Account.retrieve(access token)'), main.stripe_user_id);

      // Refresh: narrower scope, same refresh token, new access token.
      const refreshed = ok(r.refresh, 'OAuth.token(refresh_token)');
      assert.deepEqual(refreshed.keys, TOKEN_KEYS);
      assert.equal(refreshed.data.scope, 'read_only');
      assert.equal(refreshed.data.refresh_token, token.data.refresh_token, 'refresh tokens are not rotated');
      assert.notEqual(refreshed.data.access_token, token.data.access_token);
      assert.equal(refreshed.data.stripe_user_id, main.stripe_user_id);

      // Deauthorize: {"stripe_user_id"}; afterwards tokens are dead and a second call is invalid_client.
      assert.deepEqual(ok(r.deauthorize, 'OAuth.deauthorize'), { stripe_user_id: main.stripe_user_id });
      const afterDeauth = raised(r.account_after_deauthorize, 'Account.retrieve after deauthorize');
      assert.equal(afterDeauth.is_authentication_error, true, afterDeauth.class);
      assert.equal(afterDeauth.http_status, 401);
      const rtAfter = raised(r.refresh_after_deauthorize, 'refresh after deauthorize');
      assert.equal(rtAfter.is_invalid_grant, true, rtAfter.class);
      const again = raised(r.deauthorize_again, 'second deauthorize');
      assert.equal(again.is_invalid_client, true, again.class);
      assert.equal(again.class, 'InvalidClientError');
      assert.equal(again.http_status, 401);
      assert.equal(
        again.user_message,
        `This application is not connected to stripe account ${main.stripe_user_id}, or that account does not exist.`,
      );

      // Unknown code: stripe.oauth_error.InvalidGrantError, with the Request-Id in the text.
      const unknown = raised(r.unknown_code, 'unknown code');
      assert.equal(unknown.is_invalid_grant, true, unknown.class);
      assert.equal(unknown.class, 'InvalidGrantError');
      assert.equal(unknown.module, 'stripe.oauth_error');
      assert.equal(unknown.code, 'invalid_grant');
      assert.equal(unknown.user_message, 'Authorization code does not exist: ac_doesnotexist');
      assert.equal(unknown.http_status, 400);
      assert.match(unknown.request_id ?? '', /^req_[A-Za-z0-9]{14}$/);
      assert.equal(unknown.text, `Request ${unknown.request_id}: Authorization code does not exist: ac_doesnotexist`);
      assert.deepEqual(unknown.json_body, { error: 'invalid_grant', error_description: 'Authorization code does not exist: ac_doesnotexist' });

      // Replayed code: InvalidGrantError with Stripe's text, and the first exchange's token is revoked.
      const first = ok(r.replay_first, 'first exchange of the replayed code');
      assert.equal(first.data.stripe_user_id, replay.stripe_user_id);
      assert.equal(first.data.scope, 'read_only');
      const widen = raised(r.refresh_widen, 'refresh widening a read_only grant');
      assert.equal(widen.class, 'InvalidScopeError');
      assert.equal(widen.user_message, 'Invalid scope parameter provided.');
      assert.equal(widen.http_status, 400);
      const second = raised(r.replay_second, 'replayed code');
      assert.equal(second.is_invalid_grant, true, second.class);
      assert.equal(second.class, 'InvalidGrantError');
      assert.equal(second.http_status, 400);
      assert.equal(second.user_message, 'This authorization code has already been used. All tokens issued with this code have been revoked.');
      const revoked = raised(r.replay_first_access_token_after, 'first access token after the replay');
      assert.equal(revoked.is_authentication_error, true, revoked.class);

      // The other OAuth error classes stripe-python maps (it crashes on codes outside the six).
      const missing = raised(r.missing_code, 'missing code');
      assert.equal(missing.class, 'InvalidRequestError');
      assert.equal(missing.is_oauth_error, true);
      assert.equal(missing.user_message, 'No code provided');
      const grant = raised(r.unsupported_grant, 'unsupported grant_type');
      assert.equal(grant.class, 'UnsupportedGrantTypeError');
      assert.equal(grant.user_message, 'Unsupported grant_type: password');
      const badKey = raised(r.bad_key, 'unknown API key');
      assert.equal(badKey.class, 'InvalidClientError');
      assert.equal(badKey.http_status, 401);
      assert.ok(!badKey.text.includes('unknownkey'), 'the key is masked');
    });

    it('authorize_url() from the rebound connect_api_base starts a flow that ends in a code', async () => {
      const { url } = await oracle<{ url: string }>('authorize_url', {
        CONNECTD_URL: server.url,
        PLATFORM_KEY: A.testSecret,
        CLIENT_ID: A.clientIdTest,
        REDIRECT_URI: A.redirect,
      });
      const parsed = new URL(url);
      assert.equal(parsed.origin, new URL(server.url).origin, 'authorize_url uses stripe.oauth.connect_api_base');
      assert.equal(parsed.pathname, '/oauth/authorize');
      assert.equal(parsed.searchParams.get('client_id'), A.clientIdTest);
      assert.equal(parsed.searchParams.get('response_type'), 'code');
      assert.match(url, /stripe_user%5Bemail%5D=/, 'stripe-python percent-encodes the brackets');

      const client = new FormClient(server.url);
      await client.login(M.email, M.password);
      const location = await client.connect(Object.fromEntries(parsed.searchParams));
      const back = new URL(location);
      assert.equal(back.origin + back.pathname, A.redirect);
      assert.equal(back.searchParams.get('scope'), 'read_write');
      assert.equal(back.searchParams.get('state'), 'py state & more');
      assert.match(codeFrom(location), /^ac_[A-Za-z0-9]{32}$/);
    });
  });
}
