// The bad-input catalogue (docs/security-model.md "Bad inputs": BI-01…BI-32, BI-37…BI-66) against a live connectd on
// each database. Where the textbook answer and docs/contract.md Part A differ, the contract wins:
// authorize errors other than access_denied are on-page 400 JSON (never redirected), an unknown or
// missing client_id is a REST-shaped 400, and a header key beats a body client_secret (BI-58).
//
// Every response is checked for: no 5xx, Request-Id, Cache-Control: no-store, no stack traces;
// authorize error pages additionally carry no Location, token/deauthorize errors carry Pragma and
// exactly {error, error_description} with one of the six OAuth codes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { A, B, M } from '../support/fixtures.ts';
import { connectNew, FormClient, helperCode, type Connected } from '../support/flow.ts';
import { rawRequest, responseOf, type HttpResponse, type RawRequestOptions } from '../support/http.ts';
import { DB_KINDS, startTestServer, type TestServer } from '../support/server.ts';

// ---- HTTP without a client library in the way ---------------------------------------------------

type Res = HttpResponse;

/** node:http, so content types, bodies and headers go out exactly as written (no defaults added). */
const send = (base: string, { path, ...opts }: RawRequestOptions & { path: string }): Promise<Res> => rawRequest(`${base}${path}`, opts);

/** A raw request over a socket, for framing the HTTP client would refuse to produce (docs/security-model.md BI-63). */
function sendRaw(base: string, raw: string): Promise<Res> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.end(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = new Headers();
      for (const line of lines) {
        const i = line.indexOf(':');
        if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      resolve(responseOf(Number(statusLine.split(' ')[1] ?? 0), headers, rest.join('\r\n\r\n')));
    });
  });
}

// ---- What every response must satisfy -------------------------------------------------------------

const SIX = ['invalid_request', 'invalid_grant', 'invalid_client', 'invalid_scope', 'unsupported_grant_type', 'unsupported_response_type'];
/** Stack frames ("    at fn (file:1:2)") or an Error's toString ("TypeError: …"). */
const STACK = [/^\s*at\s.*:\d+:\d+\)?\s*$/m, /\b(?:[A-Z][A-Za-z]*)?Error: /, /node_modules|\/src\/[\w/.-]+\.ts/];

function commonChecks(res: Res, what: string): void {
  assert.ok(res.status > 0 && res.status < 500, `${what}: status ${res.status} (never a 5xx)\n${res.text.slice(0, 500)}`);
  assert.match(res.headers.get('request-id') ?? '', /^req_[A-Za-z0-9]{14}$/, `${what}: Request-Id`);
  assert.match(res.headers.get('cache-control') ?? '', /(^|[\s,])no-store($|[\s,])/, `${what}: Cache-Control: no-store`);
  for (const re of STACK) assert.doesNotMatch(res.text, re, `${what}: no stack trace text in the body`);
}

function oauthErrorChecks(res: Res, what: string): void {
  assert.equal(res.headers.get('pragma'), 'no-cache', `${what}: Pragma`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${what}: JSON`);
  assert.deepEqual(Object.keys(res.json).sort(), ['error', 'error_description'], `${what}: OAuth envelope, got ${res.text.slice(0, 300)}`);
  assert.ok(SIX.includes(String(res.json.error)), `${what}: one of the six OAuth codes, got ${String(res.json.error)}`);
  assert.equal(typeof res.json.error_description, 'string');
}

// ---- Authorize rows --------------------------------------------------------------------------------

const S1 = 's1';
const NO_APPLICATION = { error: { message: 'No application matches the supplied client identifier' } };
const REDIRECT_MISMATCH = /^Invalid redirect URI '.*'\. Ensure this uri exactly matches one of the uris specified in your application settings$/s;
const MISSING_RESPONSE_TYPE = 'Missing response_type parameter.';
const UNSUPPORTED_RESPONSE_TYPE = 'Unsupported response_type parameter. Currently the only supported response_type is code.';
const INVALID_SCOPE = 'Invalid scope parameter provided.';

type Value = string | string[] | null;
const enc = encodeURIComponent;

/**
 * A valid authorize query (platform A, development client_id, a registered URI, state s1) with
 * overrides: null drops a parameter, an array repeats it. `raw` is appended verbatim.
 */
function authz(over: Record<string, Value> = {}, raw = ''): string {
  const base: Record<string, Value> = { client_id: A.clientIdTest, response_type: 'code', redirect_uri: A.liveRedirect, state: S1 };
  const all = { ...base, ...over };
  const parts: string[] = [];
  for (const [k, v] of Object.entries(all)) {
    if (v === null) continue;
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${enc(k)}=${enc(one)}`);
  }
  if (raw) parts.push(raw);
  return `/oauth/authorize?${parts.join('&')}`;
}

type AuthorizeExpect =
  | { kind: 'no_application' }
  | { kind: 'page'; error: string; description?: string | RegExp; state: string | null }
  | { kind: 'proceeds' };

interface AuthorizeRow {
  id: string;
  name: string;
  path: string;
  expect: AuthorizeExpect;
}

const page = (error: string, description?: string | RegExp, state: string | null = S1): AuthorizeExpect => ({ kind: 'page', error, description, state });
const noApp: AuthorizeExpect = { kind: 'no_application' };
const proceeds: AuthorizeExpect = { kind: 'proceeds' };
const badRedirect = page('invalid_redirect_uri', REDIRECT_MISMATCH);

const AUTHORIZE_ROWS: AuthorizeRow[] = [
  { id: 'BI-01', name: 'client_id missing', path: authz({ client_id: null }), expect: noApp },
  { id: 'BI-01', name: 'client_id empty', path: authz({ client_id: '' }), expect: noApp },
  { id: 'BI-02', name: 'client_id=ca_nope', path: authz({ client_id: 'ca_nope', redirect_uri: 'https://evil.example/cb' }), expect: noApp },
  { id: 'BI-02', name: 'client_id of no platform, well formed', path: authz({ client_id: 'ca_DoesNotExist0000000000000000000' }), expect: noApp },
  { id: 'BI-03', name: 'client_id=%00', path: authz({ client_id: '\u0000' }), expect: noApp },
  { id: 'BI-03', name: 'client_id=%1B', path: authz({ client_id: '\u001b' }), expect: noApp },
  { id: 'BI-03', name: 'client_id of 10 kB', path: authz({ client_id: `ca_${'A'.repeat(10_000)}` }), expect: noApp },
  { id: 'BI-03', name: 'client_id emoji', path: authz({ client_id: 'ca_\u{1F600}' }), expect: noApp },
  { id: 'BI-03', name: 'client_id nested (client_id[a]=)', path: authz({ client_id: null }, `client_id%5Ba%5D=${A.clientIdTest}`), expect: noApp },
  { id: 'BI-04', name: 'client_id twice', path: authz({ client_id: [A.clientIdTest, B.clientIdTest] }), expect: page('invalid_request') },
  { id: 'BI-04', name: 'client_id twice, same value', path: authz({ client_id: [A.clientIdTest, A.clientIdTest] }), expect: page('invalid_request') },
  { id: 'BI-05', name: 'redirect_uri=https://evil.example/cb', path: authz({ redirect_uri: 'https://evil.example/cb' }), expect: badRedirect },
  { id: 'BI-05', name: "another platform's registered URI", path: authz({ redirect_uri: B.redirect }), expect: badRedirect },
  { id: 'BI-06', name: 'trailing slash', path: authz({ redirect_uri: `${A.liveRedirect}/` }), expect: badRedirect },
  { id: 'BI-07', name: 'case: HTTPS://PLATFORM-A.EXAMPLE/cb', path: authz({ redirect_uri: 'HTTPS://PLATFORM-A.EXAMPLE/cb' }), expect: badRedirect },
  { id: 'BI-07', name: 'case in the path: /CB', path: authz({ redirect_uri: 'https://platform-a.example/CB' }), expect: badRedirect },
  { id: 'BI-08', name: 'explicit default port :443', path: authz({ redirect_uri: 'https://platform-a.example:443/cb' }), expect: badRedirect },
  { id: 'BI-09', name: 'other port :8443', path: authz({ redirect_uri: 'https://platform-a.example:8443/cb' }), expect: badRedirect },
  { id: 'BI-09', name: 'loopback URI on another port', path: authz({ redirect_uri: 'http://127.0.0.1:4001/callback' }), expect: badRedirect },
  { id: 'BI-09', name: 'loopback URI as localhost', path: authz({ redirect_uri: 'http://localhost:4000/callback' }), expect: badRedirect },
  { id: 'BI-10', name: 'query added', path: authz({ redirect_uri: 'https://platform-a.example/cb?next=https://evil.example' }), expect: badRedirect },
  { id: 'BI-11', name: 'registered query changed', path: authz({ redirect_uri: 'https://platform-a.example/cb2?x=2' }), expect: badRedirect },
  { id: 'BI-11', name: 'registered query dropped', path: authz({ redirect_uri: 'https://platform-a.example/cb2' }), expect: badRedirect },
  { id: 'BI-11', name: 'registered query extended', path: authz({ redirect_uri: `${A.queryRedirect}&y=2` }), expect: badRedirect },
  { id: 'BI-12', name: 'fragment', path: authz({ redirect_uri: 'https://platform-a.example/cb#frag' }), expect: badRedirect },
  { id: 'BI-13', name: 'dot segments', path: authz({ redirect_uri: 'https://platform-a.example/cb/../evil' }), expect: badRedirect },
  { id: 'BI-13', name: 'encoded dot segments', path: authz({ redirect_uri: 'https://platform-a.example/cb/%2e%2e/evil' }), expect: badRedirect },
  { id: 'BI-13', name: 'encoded slashes', path: authz({ redirect_uri: 'https://platform-a.example/cb%2F..%2Fevil' }), expect: badRedirect },
  { id: 'BI-14', name: 'userinfo', path: authz({ redirect_uri: 'https://platform-a.example@evil.example/cb' }), expect: badRedirect },
  { id: 'BI-14', name: 'backslash', path: authz({ redirect_uri: 'https://evil.example\\@platform-a.example/cb' }), expect: badRedirect },
  { id: 'BI-14', name: 'suffix host', path: authz({ redirect_uri: 'https://platform-a.example.evil.example/cb' }), expect: badRedirect },
  { id: 'BI-15', name: 'http with the live client_id', path: authz({ client_id: A.clientIdLive, redirect_uri: 'http://platform-a.example/cb' }), expect: badRedirect },
  { id: 'BI-15', name: 'registered loopback http URI with the live client_id', path: authz({ client_id: A.clientIdLive, redirect_uri: A.redirect }), expect: badRedirect },
  { id: 'BI-15', name: 'http with the development client_id', path: authz({ redirect_uri: 'http://platform-a.example/cb' }), expect: badRedirect },
  { id: 'BI-15', name: 'javascript:', path: authz({ redirect_uri: 'javascript:alert(1)' }), expect: badRedirect },
  { id: 'BI-15', name: 'data:', path: authz({ redirect_uri: 'data:text/html,<script>alert(1)</script>' }), expect: badRedirect },
  { id: 'BI-15', name: 'scheme-relative', path: authz({ redirect_uri: '//evil.example/cb' }), expect: badRedirect },
  { id: 'BI-16', name: 'percent-encoded letter (server sees /c%62)', path: authz({ redirect_uri: 'https://platform-a.example/c%62' }), expect: badRedirect },
  { id: 'BI-17', name: 'CRLF header injection', path: authz({ redirect_uri: 'https://platform-a.example/cb\r\nSet-Cookie:x=y' }), expect: badRedirect },
  { id: 'BI-17', name: 'space', path: authz({ redirect_uri: 'https://platform-a.example/cb test' }), expect: badRedirect },
  { id: 'BI-17', name: 'format-string junk', path: authz({ redirect_uri: 'ZAP%n%s%n%s%n%s\n' }), expect: badRedirect },
  { id: 'BI-18', name: 'redirect_uri twice, both registered', path: authz({ redirect_uri: [A.liveRedirect, A.queryRedirect] }), expect: page('invalid_request') },
  { id: 'BI-18', name: 'redirect_uri nested (redirect_uri[a]=)', path: authz({ redirect_uri: null }, `redirect_uri%5Ba%5D=${enc(A.liveRedirect)}`), expect: page('invalid_request') },
  { id: 'BI-19', name: 'redirect_uri absent', path: authz({ redirect_uri: null }), expect: proceeds },
  { id: 'BI-19', name: 'redirect_uri= (empty is absent)', path: authz({ redirect_uri: '' }), expect: proceeds },
  { id: 'BI-19', name: 'each registered URI, exactly', path: authz({ redirect_uri: A.queryRedirect }), expect: proceeds },
  { id: 'BI-19', name: 'registered loopback URI with the development client_id', path: authz({ redirect_uri: A.redirect }), expect: proceeds },
  { id: 'BI-19', name: 'live client_id, registered https URI', path: authz({ client_id: A.clientIdLive }), expect: proceeds },
  { id: 'BI-20', name: 'response_type missing', path: authz({ response_type: null }), expect: page('invalid_request', MISSING_RESPONSE_TYPE) },
  { id: 'BI-20', name: 'response_type= (empty)', path: authz({ response_type: '' }), expect: page('invalid_request', MISSING_RESPONSE_TYPE) },
  { id: 'BI-21', name: 'response_type=token', path: authz({ response_type: 'token' }), expect: page('unsupported_response_type', UNSUPPORTED_RESPONSE_TYPE) },
  { id: 'BI-21', name: 'response_type=code token', path: authz({ response_type: 'code token' }), expect: page('unsupported_response_type', UNSUPPORTED_RESPONSE_TYPE) },
  { id: 'BI-21', name: 'response_type=CODE', path: authz({ response_type: 'CODE' }), expect: page('unsupported_response_type', UNSUPPORTED_RESPONSE_TYPE) },
  { id: 'BI-21', name: 'response_type=id_token', path: authz({ response_type: 'id_token' }), expect: page('unsupported_response_type', UNSUPPORTED_RESPONSE_TYPE) },
  { id: 'BI-21', name: 'response_type twice', path: authz({ response_type: ['code', 'code'] }), expect: page('invalid_request') },
  { id: 'BI-22', name: 'scope=read_write read_only', path: authz({ scope: 'read_write read_only' }), expect: page('invalid_scope', INVALID_SCOPE) },
  { id: 'BI-22', name: 'scope=READ_WRITE', path: authz({ scope: 'READ_WRITE' }), expect: page('invalid_scope', INVALID_SCOPE) },
  { id: 'BI-22', name: 'scope=admin', path: authz({ scope: 'admin' }), expect: page('invalid_scope', INVALID_SCOPE) },
  { id: 'BI-22', name: 'scope=read_write%00', path: authz({ scope: 'read_write\u0000' }), expect: page('invalid_scope', INVALID_SCOPE) },
  { id: 'BI-22', name: 'scope twice', path: authz({ scope: ['read_write', 'read_write'] }), expect: page('invalid_request') },
  { id: 'BI-23', name: 'scope= (empty is absent)', path: authz({ scope: '' }), expect: proceeds },
  { id: 'BI-24', name: 'state of 2 048 bytes (the maximum)', path: authz({ state: 'x'.repeat(2048) }), expect: proceeds },
  { id: 'BI-24', name: 'state of 2 049 bytes', path: authz({ state: 'x'.repeat(2049) }), expect: page('invalid_request', undefined, null) },
  { id: 'BI-24', name: 'state of 10 kB', path: authz({ state: 'x'.repeat(10_000) }), expect: page('invalid_request', undefined, null) },
  { id: 'BI-25', name: 'state with & = # + % spaces emoji RTL echoed on the page', path: authz({ state: 'a&b=c#d+e%f g \u{1F600}\u200F', response_type: 'token' }), expect: page('unsupported_response_type', UNSUPPORTED_RESPONSE_TYPE, 'a&b=c#d+e%f g \u{1F600}\u200F') },
  { id: 'BI-26', name: 'state=a&state=b', path: authz({ state: ['a', 'b'] }), expect: page('invalid_request', undefined, null) },
  { id: 'BI-26', name: 'state nested (state[]=a)', path: authz({ state: null }, 'state%5B%5D=a'), expect: page('invalid_request', undefined, null) },
  { id: 'BI-27', name: 'state=<script> is JSON on an error page', path: authz({ state: '<script>alert(1)</script>', scope: 'admin' }), expect: page('invalid_scope', INVALID_SCOPE, '<script>alert(1)</script>') },
  { id: 'BI-28', name: 'unknown parameters ignored', path: authz({ foo: 'bar', 'stripe_user[unknown]': '1' }), expect: proceeds },
  { id: 'BI-28', name: 'invalid stripe_user prefill silently ignored', path: authz({ 'stripe_user[email]': 'not an email', 'stripe_user[country]': 'usa' }), expect: proceeds },
  { id: 'BI-29', name: 'code_challenge without method', path: authz({ code_challenge: 'a'.repeat(43) }), expect: page('invalid_request') },
  { id: 'BI-30', name: 'code_challenge_method=plain', path: authz({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }), expect: page('invalid_request') },
  { id: 'BI-30', name: 'challenge of 42 chars', path: authz({ code_challenge: 'a'.repeat(42), code_challenge_method: 'S256' }), expect: page('invalid_request') },
  { id: 'BI-30', name: 'challenge of 129 chars', path: authz({ code_challenge: 'a'.repeat(129), code_challenge_method: 'S256' }), expect: page('invalid_request') },
  { id: 'BI-30', name: 'challenge with + / =', path: authz({ code_challenge: `${'a'.repeat(40)}+/=`, code_challenge_method: 'S256' }), expect: page('invalid_request') },
  { id: 'BI-30', name: 'method without challenge', path: authz({ code_challenge_method: 'S256' }), expect: page('invalid_request') },
  { id: 'BI-30', name: 'valid S256 challenge proceeds', path: authz({ code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' }), expect: proceeds },
  { id: 'BI-31', name: 'broken percent-encoding %zz in state', path: authz({ state: null }, 'state=%zz'), expect: page('invalid_request', undefined, null) },
  { id: 'BI-31', name: 'truncated UTF-8 %E0%A4%A in state', path: authz({ state: null }, 'state=%E0%A4%A'), expect: page('invalid_request', undefined, null) },
  { id: 'BI-31', name: 'invalid UTF-8 %FF in client_id', path: authz({ client_id: null }, 'client_id=ca_%FF'), expect: page('invalid_request', undefined, null) },
  { id: 'BI-31', name: 'lone % in redirect_uri', path: authz({ redirect_uri: null }, 'redirect_uri=https://platform-a.example/cb%'), expect: page('invalid_request', undefined, null) },
];

// Client and redirect URI are validated before anything else (docs/security-model.md AZ-03): a bad URI with other errors
// is still the redirect error, on the page.
AUTHORIZE_ROWS.push(
  { id: 'BI-05', name: 'bad redirect_uri wins over response_type=token and scope=bogus', path: authz({ redirect_uri: 'https://evil.example/cb', response_type: 'token', scope: 'bogus' }), expect: badRedirect },
  { id: 'BI-02', name: 'unknown client_id wins over a bad redirect_uri', path: authz({ client_id: 'ca_nope', redirect_uri: 'javascript:alert(1)', response_type: 'token' }), expect: noApp },
);

function checkAuthorize(res: Res, row: AuthorizeRow): void {
  const what = `${row.id} ${row.name}`;
  commonChecks(res, what);
  assert.equal(res.headers.get('set-cookie')?.includes('x=y') ?? false, false, `${what}: no injected header`);
  if (row.expect.kind === 'proceeds') {
    assert.equal(res.status, 303, `${what}: ${res.text.slice(0, 300)}`);
    assert.match(res.headers.get('location') ?? '', /^\/oauth\/consent\/[A-Za-z0-9]{32}$/, what);
    return;
  }
  assert.equal(res.status, 400, `${what}: ${res.text.slice(0, 300)}`);
  assert.equal(res.headers.get('location'), null, `${what}: never a redirect`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${what}: a JSON document`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: never sniffed as HTML`);
  if (row.expect.kind === 'no_application') {
    assert.deepEqual(res.json, NO_APPLICATION, what);
    return;
  }
  const { error, description, state } = row.expect;
  assert.equal(res.json.error, error, `${what}: ${res.text.slice(0, 300)}`);
  assert.equal(typeof res.json.error_description, 'string', what);
  if (typeof description === 'string') assert.equal(res.json.error_description, description, what);
  else if (description) assert.match(String(res.json.error_description), description, what);
  const expectedKeys = state === null ? ['error', 'error_description'] : ['error', 'error_description', 'state'];
  assert.deepEqual(Object.keys(res.json).sort(), expectedKeys, `${what}: keys`);
  if (state !== null) assert.equal(res.json.state, state, `${what}: state echoed byte-exact`);
}

// ---- Token and deauthorize rows -------------------------------------------------------------------

interface Env {
  server: TestServer;
  clock: ManualClock;
  /** A fresh test-mode code for platform A (test helper: a new account each time). */
  code(extra?: Record<string, string>): Promise<{ code: string; stripe_user_id: string }>;
  /** A fresh connection of platform A (a fresh code, exchanged). */
  connection(scope?: 'read_write' | 'read_only'): Promise<Connected>;
}

type OAuthExpect =
  | { ok: true }
  | { status: number; error: string; description?: string | RegExp; challenge?: 'Bearer' | 'Basic' | null; allow?: string };

interface OAuthRow {
  id: string;
  name: string;
  send(env: Env): Promise<Res>;
  expect: OAuthExpect;
  /** Further checks: state after the request (code not burnt, tokens revoked, logs clean…). */
  then?(env: Env, res: Res, ctx: Record<string, string>): Promise<void>;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const basic = (user: string, password = '') => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const form = (pairs: Record<string, string>) => new URLSearchParams(pairs).toString();

function token(env: Env, body: string | Buffer, headers: Record<string, string> = bearer(A.testSecret), path = '/oauth/token'): Promise<Res> {
  return send(env.server.url, { method: 'POST', path, headers: { ...FORM, ...headers }, body });
}

function deauth(env: Env, body: string, headers: Record<string, string> = bearer(A.testSecret)): Promise<Res> {
  return send(env.server.url, { method: 'POST', path: '/oauth/deauthorize', headers: { ...FORM, ...headers }, body });
}

/** The code still works for its owner (it was not burnt by the refused request). */
async function exchangeSucceeds(env: Env, code: string, headers: Record<string, string> = bearer(A.testSecret)): Promise<Record<string, unknown>> {
  const res = await token(env, form({ grant_type: 'authorization_code', code }), headers);
  assert.equal(res.status, 200, `the code is still redeemable: ${res.text.slice(0, 300)}`);
  return res.json;
}

async function apiAccount(env: Env, key: string): Promise<number> {
  return (await send(env.server.url, { path: '/v1/account', headers: bearer(key) })).status;
}

/** Rows that need a value minted per run store it in ctx (the request and the follow-up share it). */
function withCode(
  build: (env: Env, code: string) => Promise<Res>,
  extra?: Record<string, string>,
): { send(env: Env): Promise<Res>; ctx: Record<string, string> } {
  const ctx: Record<string, string> = {};
  return {
    ctx,
    async send(env) {
      const { code, stripe_user_id } = await env.code(extra);
      ctx.code = code;
      ctx.stripe_user_id = stripe_user_id;
      return build(env, code);
    },
  };
}

const NO_SUCH_KEY = /^No such API key: /;
const NOT_CONNECTED = (acct: string) => `This application is not connected to stripe account ${acct}, or that account does not exist.`;
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const VERIFIER = 'v'.repeat(43) + '-._~0123456789';

function oauthRows(): OAuthRow[] {
  const rows: OAuthRow[] = [];
  const add = (row: OAuthRow) => rows.push(row);
  const addWithCode = (
    id: string,
    name: string,
    build: (env: Env, code: string) => Promise<Res>,
    expect: OAuthExpect,
    then?: (env: Env, res: Res, ctx: Record<string, string>) => Promise<void>,
    extra?: Record<string, string>,
  ) => {
    const c = withCode(build, extra);
    // An accepted code gives the tokens of the account it was issued for.
    const check = then ?? ('ok' in expect ? async (_env: Env, res: Res, ctx: Record<string, string>) => assert.equal(res.json.stripe_user_id, ctx.stripe_user_id, `${id} ${name}`) : undefined);
    rows.push({ id, name, send: c.send, expect, ...(check ? { then: (env: Env, res: Res) => check(env, res, c.ctx) } : {}) });
  };
  const notBurnt = async (env: Env, _res: Res, ctx: Record<string, string>) => {
    await exchangeSucceeds(env, ctx.code ?? '');
  };

  // BI-37: method.
  add({ id: 'BI-37', name: 'GET /oauth/token', send: (env) => send(env.server.url, { path: '/oauth/token' }), expect: { status: 405, error: 'invalid_request', allow: 'POST' } });
  add({ id: 'BI-37', name: 'PUT /oauth/token', send: (env) => send(env.server.url, { method: 'PUT', path: '/oauth/token', headers: FORM, body: 'grant_type=authorization_code' }), expect: { status: 405, error: 'invalid_request', allow: 'POST' } });
  add({ id: 'BI-37', name: 'GET /oauth/deauthorize', send: (env) => send(env.server.url, { path: '/oauth/deauthorize' }), expect: { status: 405, error: 'invalid_request', allow: 'POST' } });

  // BI-38/39: content types. The code is not consumed by a refused request.
  addWithCode('BI-38', 'application/json with valid fields', (env, code) =>
    send(env.server.url, { method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/json', ...bearer(A.testSecret) }, body: JSON.stringify({ grant_type: 'authorization_code', code }) }),
  { status: 400, error: 'invalid_request' }, notBurnt);
  for (const [name, ct] of [
    ['text/plain', 'text/plain'],
    ['invalid/@@##', 'invalid/@@##'],
    ['</><script>alert(1)</script>', '</><script>alert(1)</script>'],
    ['multipart/form-data with a urlencoded body', 'multipart/form-data; boundary=XyZ'],
    ['multipart/form-data without a boundary', 'multipart/form-data'],
    ['application/x-www-form-urlencoded-evil', 'application/x-www-form-urlencoded-evil'],
  ] as const) {
    addWithCode('BI-39', `Content-Type: ${name}`, (env, code) =>
      send(env.server.url, { method: 'POST', path: '/oauth/token', headers: { 'content-type': ct, ...bearer(A.testSecret) }, body: form({ grant_type: 'authorization_code', code }) }),
    { status: 400, error: 'invalid_request' }, notBurnt);
  }
  addWithCode('BI-39', 'Content-Type missing', (env, code) =>
    send(env.server.url, { method: 'POST', path: '/oauth/token', headers: bearer(A.testSecret), body: form({ grant_type: 'authorization_code', code }) }),
  { status: 400, error: 'invalid_request' }, notBurnt);
  // Plain multipart fields are a form body (Stripe's guide sends them); files and non-text parts are not.
  const part = (name: string, value: string, headers = '') => `--XyZ\r\nContent-Disposition: form-data; name="${name}"${headers}\r\n\r\n${value}\r\n`;
  const multipart = (env: Env, body: string) =>
    send(env.server.url, { method: 'POST', path: '/oauth/token', headers: { 'content-type': 'multipart/form-data; boundary=XyZ', ...bearer(A.testSecret) }, body });
  addWithCode('BI-39', 'multipart body of plain fields is accepted', (env, code) =>
    multipart(env, `${part('grant_type', 'authorization_code')}${part('code', code)}--XyZ--\r\n`),
  { ok: true });
  addWithCode('BI-39', 'multipart body with a file part', (env, code) =>
    multipart(env, `${part('grant_type', 'authorization_code')}${part('code', code)}${part('doc', 'hello', '; filename="a.txt"\r\nContent-Type: text/plain')}--XyZ--\r\n`),
  { status: 400, error: 'invalid_request' }, notBurnt);
  addWithCode('BI-39', 'multipart body with a non-text part', (env, code) =>
    multipart(env, `${part('grant_type', 'authorization_code')}${part('code', code, '\r\nContent-Type: application/json')}--XyZ--\r\n`),
  { status: 400, error: 'invalid_request' }, notBurnt);
  addWithCode('BI-39', 'multipart body cut short', (env, code) =>
    multipart(env, `${part('grant_type', 'authorization_code')}${part('code', code)}`),
  { status: 400, error: 'invalid_request' }, notBurnt);
  addWithCode('BI-40', 'multipart field with raw invalid UTF-8 bytes', (env, code) =>
    send(env.server.url, {
      method: 'POST',
      path: '/oauth/token',
      headers: { 'content-type': 'multipart/form-data; boundary=XyZ', ...bearer(A.testSecret) },
      body: Buffer.concat([Buffer.from(`${part('grant_type', 'authorization_code')}${part('code', code)}--XyZ\r\nContent-Disposition: form-data; name="x"\r\n\r\n`), Buffer.from([0xff, 0xfe]), Buffer.from('\r\n--XyZ--\r\n')]),
    }),
  { status: 400, error: 'invalid_request' }, notBurnt);
  addWithCode('BI-41', 'multipart body with 2 000 fields', (env, code) =>
    multipart(env, `${part('grant_type', 'authorization_code')}${part('code', code)}${part('a', '1').repeat(2000)}--XyZ--\r\n`),
  { status: 400, error: 'invalid_request' }, notBurnt);
  addWithCode('BI-41', 'multipart body of 2 MB', (env, code) =>
    multipart(env, `${part('grant_type', 'authorization_code')}${part('code', code)}${part('a', 'x'.repeat(2 * 1024 * 1024))}--XyZ--\r\n`),
  { status: 413, error: 'invalid_request' }, notBurnt);

  // BI-40: charsets and invalid UTF-8.
  addWithCode('BI-40', 'charset=iso-8859-1 with non-ASCII bytes', (env, code) =>
    send(env.server.url, { method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1', ...bearer(A.testSecret) }, body: Buffer.from(`grant_type=authorization_code&code=${code}&x=\xe9`, 'latin1') }),
  { status: 400, error: 'invalid_request' }, notBurnt);
  addWithCode('BI-40', 'charset=utf-8 is accepted', (env, code) =>
    send(env.server.url, { method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...bearer(A.testSecret) }, body: form({ grant_type: 'authorization_code', code }) }),
  { ok: true });
  addWithCode('BI-40', 'raw invalid UTF-8 bytes in the body', (env, code) =>
    token(env, Buffer.concat([Buffer.from(`grant_type=authorization_code&code=${code}&x=`), Buffer.from([0xff, 0xfe])])),
  { status: 400, error: 'invalid_request' }, notBurnt);
  add({ id: 'BI-40', name: 'percent-encoded invalid UTF-8 (%FF) in code', send: (env) => token(env, 'grant_type=authorization_code&code=ac_%FF'), expect: { status: 400, error: 'invalid_request' } });
  add({ id: 'BI-40', name: 'truncated UTF-8 (%E0%A4%A) in code', send: (env) => token(env, 'grant_type=authorization_code&code=%E0%A4%A'), expect: { status: 400, error: 'invalid_request' } });
  add({ id: 'BI-40', name: 'broken escape %zz', send: (env) => token(env, 'grant_type=authorization_code&code=ac_%zz'), expect: { status: 400, error: 'invalid_request' } });

  // BI-41: size limits; the server stays responsive.
  const responsive = async (env: Env) => {
    const res = await token(env, form({ grant_type: 'authorization_code' }));
    assert.equal(res.status, 400);
    assert.equal(res.json.error_description, 'No code provided');
  };
  add({ id: 'BI-41', name: 'body of 2 MB', send: (env) => token(env, `grant_type=authorization_code&code=${'a'.repeat(2 * 1024 * 1024)}`), expect: { status: 413, error: 'invalid_request' }, then: responsive });
  add({ id: 'BI-41', name: '20 000 pairs', send: (env) => token(env, 'a=1&'.repeat(20_000) + 'grant_type=authorization_code'), expect: { status: 400, error: 'invalid_request' }, then: responsive });
  add({ id: 'BI-41', name: '20 000 pairs on deauthorize', send: (env) => deauth(env, 'a=1&'.repeat(20_000) + `client_id=${A.clientIdTest}`), expect: { status: 400, error: 'invalid_request' }, then: responsive });

  // BI-42…BI-46: grant_type and code parameters.
  add({ id: 'BI-42', name: 'grant_type missing', send: (env) => token(env, form({ code: 'ac_x' })), expect: { status: 400, error: 'invalid_request', description: 'No grant type specified' } });
  add({ id: 'BI-42', name: 'grant_type= (empty)', send: (env) => token(env, form({ grant_type: '', code: 'ac_x' })), expect: { status: 400, error: 'invalid_request', description: 'No grant type specified' } });
  add({ id: 'BI-42', name: 'empty body', send: (env) => token(env, ''), expect: { status: 400, error: 'invalid_request', description: 'No grant type specified' } });
  for (const g of ['password', 'client_credentials', 'foo', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'AUTHORIZATION_CODE']) {
    add({ id: 'BI-43', name: `grant_type=${g}`, send: (env) => token(env, form({ grant_type: g, code: 'ac_x' })), expect: { status: 400, error: 'unsupported_grant_type', description: `Unsupported grant_type: ${g}` } });
  }
  add({ id: 'BI-43', name: 'grant_type with markup is not echoed', send: (env) => token(env, form({ grant_type: '<script>x</script>' })), expect: { status: 400, error: 'unsupported_grant_type', description: /^Unsupported grant_type: (?!.*<script>)/ } });
  add({ id: 'BI-44', name: 'grant_type twice', send: (env) => token(env, 'grant_type=authorization_code&grant_type=authorization_code&code=ac_x'), expect: { status: 400, error: 'invalid_request' } });
  addWithCode('BI-44', 'code twice (same value)', (env, code) => token(env, `grant_type=authorization_code&code=${code}&code=${code}`), { status: 400, error: 'invalid_request' }, notBurnt);
  addWithCode('BI-45', 'code[]=', (env, code) => token(env, `grant_type=authorization_code&code%5B%5D=${code}`), { status: 400, error: 'invalid_request' }, notBurnt);
  addWithCode('BI-45', 'code[a]= (unencoded brackets)', (env, code) => token(env, `grant_type=authorization_code&code[a]=${code}`), { status: 400, error: 'invalid_request' }, notBurnt);
  add({ id: 'BI-45', name: 'grant_type[0]=', send: (env) => token(env, 'grant_type[0]=authorization_code&code=ac_x'), expect: { status: 400, error: 'invalid_request' } });
  add({ id: 'BI-45', name: '__proto__[x]= does not pollute', send: (env) => token(env, '__proto__[grant_type]=authorization_code&code=ac_x'), expect: { status: 400, error: 'invalid_request', description: 'No grant type specified' } });
  add({ id: 'BI-46', name: 'code missing', send: (env) => token(env, form({ grant_type: 'authorization_code' })), expect: { status: 400, error: 'invalid_request', description: 'No code provided' } });
  add({ id: 'BI-46', name: 'code= (empty)', send: (env) => token(env, form({ grant_type: 'authorization_code', code: '' })), expect: { status: 400, error: 'invalid_request', description: 'No code provided' } });

  // BI-47…BI-54: the code itself.
  add({ id: 'BI-47', name: 'code=ac_doesnotexist', send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_doesnotexist' })), expect: { status: 400, error: 'invalid_grant', description: 'Authorization code does not exist: ac_doesnotexist' } });
  for (const [name, code] of [
    ['quotes', 'ac_"quoted"'],
    ['backslash', 'ac_back\\slash'],
    ['Unicode', 'ac_\u00e9\u4e2d'],
    ['Cyrillic homoglyphs', '\u0430\u0441_abc'],
    ['10 kB', `ac_${'A'.repeat(10_000)}`],
    ['a token of another kind', 'rt_abcdef'],
  ] as const) {
    add({ id: 'BI-48', name: `code with ${name} is not echoed`, send: (env) => token(env, form({ grant_type: 'authorization_code', code })), expect: { status: 400, error: 'invalid_grant', description: 'Authorization code does not exist' } });
  }
  addWithCode('BI-49', 'reused code: invalid_grant, and the first tokens are revoked', async (env, code) => {
    const first = await exchangeSucceeds(env, code);
    const res = await token(env, form({ grant_type: 'authorization_code', code }));
    const status = await apiAccount(env, String(first.access_token));
    assert.equal(status, 401, 'the first access token is revoked');
    const refresh = await token(env, form({ grant_type: 'refresh_token', refresh_token: String(first.refresh_token) }));
    assert.equal(refresh.json.error, 'invalid_grant', 'the first refresh token is revoked');
    return res;
  }, { status: 400, error: 'invalid_grant', description: 'This authorization code has already been used. All tokens issued with this code have been revoked.' });
  addWithCode('BI-50', 'expired code', async (env, code) => {
    env.clock.advance(env.server.ctx.config.codeTtl + 1);
    return token(env, form({ grant_type: 'authorization_code', code }));
  }, { status: 400, error: 'invalid_grant', description: 'Authorization code expired' });
  addWithCode('BI-51', "platform A's code with platform B's key (not burnt)", (env, code) => token(env, form({ grant_type: 'authorization_code', code }), bearer(B.testSecret)),
    { status: 400, error: 'invalid_grant', description: 'Authorization code provided does not belong to you' }, notBurnt);
  addWithCode('BI-52', 'test-mode code with a live key (not burnt)', (env, code) => token(env, form({ grant_type: 'authorization_code', code }), bearer(A.liveSecret)),
    { status: 400, error: 'invalid_grant', description: 'Passed in livemode API key but authorization code only supports returning test keys' }, notBurnt);
  for (const [name, uri] of [
    ['another registered URI', A.liveRedirect],
    ['trailing slash', `${A.redirect}/`],
    ['query added', `${A.redirect}?thensome`],
  ] as const) {
    addWithCode('BI-53', `redirect_uri differs: ${name}`, (env, code) => token(env, form({ grant_type: 'authorization_code', code, redirect_uri: uri })),
      { status: 400, error: 'invalid_grant' }, async (env, _res, ctx) => {
        const ok = await token(env, form({ grant_type: 'authorization_code', code: ctx.code ?? '', redirect_uri: A.redirect }));
        assert.equal(ok.status, 200, 'the same redirect_uri is accepted');
      }, { redirect_uri: A.redirect });
  }
  addWithCode('BI-54', 'code_verifier without a stored challenge', (env, code) => token(env, form({ grant_type: 'authorization_code', code, code_verifier: VERIFIER })),
    { status: 400, error: 'invalid_grant' }, notBurnt);
  addWithCode('BI-54', 'wrong code_verifier', (env, code) => token(env, form({ grant_type: 'authorization_code', code, code_verifier: 'w'.repeat(43) })),
    { status: 400, error: 'invalid_grant' }, async (env, _res, ctx) => {
      const ok = await token(env, form({ grant_type: 'authorization_code', code: ctx.code ?? '', code_verifier: VERIFIER }));
      assert.equal(ok.status, 200, `the right verifier works: ${ok.text}`);
    }, { code_challenge: s256(VERIFIER), code_challenge_method: 'S256' });
  addWithCode('BI-54', 'code_verifier of 42 chars', (env, code) => token(env, form({ grant_type: 'authorization_code', code, code_verifier: VERIFIER.slice(0, 42) })),
    { status: 400, error: 'invalid_grant' }, undefined, { code_challenge: s256(VERIFIER.slice(0, 42)), code_challenge_method: 'S256' });
  addWithCode('BI-54', 'code_verifier missing when a challenge was stored', (env, code) => token(env, form({ grant_type: 'authorization_code', code })),
    { status: 400, error: 'invalid_grant' }, undefined, { code_challenge: s256(VERIFIER), code_challenge_method: 'S256' });

  // BI-55…BI-60: client authentication.
  add({ id: 'BI-55', name: 'no client authentication at all', send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x' }), {}), expect: { status: 401, error: 'invalid_client', challenge: null } });
  add({ id: 'BI-55', name: 'client_secret= (empty)', send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x', client_secret: '' }), {}), expect: { status: 401, error: 'invalid_client', challenge: null } });
  add({ id: 'BI-56', name: 'Bearer sk_test_wrong', send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x' }), bearer('sk_test_wrong')), expect: { status: 401, error: 'invalid_client', description: 'No such API key: sk_test_****rong', challenge: 'Bearer' } });
  add({ id: 'BI-56', name: 'Bearer with a malformed key is masked', send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x' }), bearer('sk_test_"<x>')), expect: { status: 401, error: 'invalid_client', description: /^No such API key: (?!.*<x>)/, challenge: 'Bearer' } });
  add({ id: 'BI-56', name: 'Bearer with no value', send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x' }), { authorization: 'Bearer' }), expect: { status: 401, error: 'invalid_client', challenge: 'Bearer' } });
  add({ id: 'BI-56', name: 'Bearer of 8 kB', send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x' }), bearer(`sk_test_${'z'.repeat(8192)}`)), expect: { status: 401, error: 'invalid_client', challenge: 'Bearer' } });
  add({ id: 'BI-56', name: 'revoked-looking live key', send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x' }), bearer('sk_live_NotAKey0000000000')), expect: { status: 401, error: 'invalid_client', description: NO_SUCH_KEY, challenge: 'Bearer' } });
  for (const [name, value] of [
    ['no colon', `Basic ${Buffer.from(A.testSecret).toString('base64')}`],
    ['non-base64 characters', 'Basic !!!$$$***'],
    ['empty value', 'Basic '],
    ['scheme only', 'Basic'],
    ['key as password, empty user', `Basic ${Buffer.from(`:${A.testSecret}`).toString('base64')}`],
    ['client_id:client_secret (generic OAuth2 client)', `Basic ${Buffer.from(`${A.clientIdTest}:${A.testSecret}`).toString('base64')}`],
    ['uppercase scheme, wrong key', `BASIC ${Buffer.from('sk_test_wrong:').toString('base64')}`],
    ['invalid UTF-8 payload', `Basic ${Buffer.from([0xff, 0xfe, 0x3a]).toString('base64')}`],
  ] as const) {
    add({ id: 'BI-57', name: `Basic: ${name}`, send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x' }), { authorization: value }), expect: { status: 401, error: 'invalid_client', challenge: 'Basic' } });
  }
  addWithCode('BI-57', 'Basic: lowercase scheme with the right key works', (env, code) =>
    token(env, form({ grant_type: 'authorization_code', code }), { authorization: `basic ${Buffer.from(`${A.testSecret}:`).toString('base64')}` }), { ok: true });
  addWithCode('BI-57', 'Basic: key as username, empty password works', (env, code) => token(env, form({ grant_type: 'authorization_code', code }), basic(A.testSecret)), { ok: true });

  // BI-58: docs/contract.md Part A "Token endpoint" wins over one method per request (docs/security-model.md TK-03): header and body both present →
  // the header is the key used.
  addWithCode('BI-58', "Basic A + body client_secret B: A's key is used", (env, code) =>
    token(env, form({ grant_type: 'authorization_code', code, client_secret: B.testSecret }), basic(A.testSecret)), { ok: true });
  addWithCode('BI-58', "Basic B + body client_secret A: B's key is used (not yours, not burnt)", (env, code) =>
    token(env, form({ grant_type: 'authorization_code', code, client_secret: A.testSecret }), basic(B.testSecret)),
  { status: 400, error: 'invalid_grant', description: 'Authorization code provided does not belong to you' }, notBurnt);
  addWithCode('BI-58', "Bearer B + body client_secret A: B's key is used", (env, code) =>
    token(env, form({ grant_type: 'authorization_code', code, client_secret: A.testSecret }), bearer(B.testSecret)),
  { status: 400, error: 'invalid_grant', description: 'Authorization code provided does not belong to you' }, notBurnt);
  addWithCode('BI-58', 'Bearer wrong + body client_secret right: the header fails', (env, code) =>
    token(env, form({ grant_type: 'authorization_code', code, client_secret: A.testSecret }), bearer('sk_test_wrong')),
  { status: 401, error: 'invalid_client', challenge: 'Bearer' }, notBurnt);
  addWithCode('BI-58', 'Bearer and body client_secret equal (go and php SDKs)', (env, code) =>
    token(env, form({ grant_type: 'authorization_code', code, client_secret: A.testSecret }), bearer(A.testSecret)), { ok: true });
  addWithCode('BI-58', 'body client_secret alone', (env, code) => token(env, form({ grant_type: 'authorization_code', code, client_secret: A.testSecret }), {}), { ok: true });

  addWithCode('BI-59', '?client_secret= in the query string (and not logged)', (env, code) =>
    token(env, form({ grant_type: 'authorization_code', code }), {}, `/oauth/token?client_secret=${A.testSecret}`),
  { status: 400, error: 'invalid_request' }, async (env, _res, ctx) => {
    assert.ok(!env.server.logs.some((l) => l.includes(A.testSecret)), 'the secret in the URL is not logged');
    await notBurnt(env, _res, ctx);
  });
  add({ id: 'BI-59', name: '?client_secret= with a Bearer header too', send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x' }), bearer(A.testSecret), `/oauth/token?client_secret=${A.testSecret}`), expect: { status: 400, error: 'invalid_request' } });
  add({ id: 'BI-59', name: '?client_secret= on deauthorize', send: (env) => send(env.server.url, { method: 'POST', path: `/oauth/deauthorize?client_secret=${A.testSecret}`, headers: FORM, body: form({ client_id: A.clientIdTest, stripe_user_id: M.id }) }), expect: { status: 400, error: 'invalid_request' } });

  for (const [name, key] of [
    ['pk_live_ (body)', A.livePublishable],
    ['pk_test_ (body)', A.testPublishable],
  ] as const) {
    add({ id: 'BI-60', name: `client_secret=${name}`, send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x', client_secret: key }), {}), expect: { status: 401, error: 'invalid_client', challenge: null } });
  }
  add({ id: 'BI-60', name: 'publishable key as Bearer', send: (env) => token(env, form({ grant_type: 'authorization_code', code: 'ac_x' }), bearer(A.testPublishable)), expect: { status: 401, error: 'invalid_client', challenge: 'Bearer' } });
  {
    const ctx: Record<string, string> = {};
    const viaAccessToken = (placement: 'bearer' | 'body') => async (env: Env) => {
      const conn = await env.connection();
      const { code } = await env.code();
      ctx.code = code;
      const body = form({ grant_type: 'authorization_code', code, ...(placement === 'body' ? { client_secret: conn.accessToken } : {}) });
      return token(env, body, placement === 'bearer' ? bearer(conn.accessToken) : {});
    };
    add({ id: 'BI-60', name: "a connected account's access token as Bearer", send: viaAccessToken('bearer'), expect: { status: 401, error: 'invalid_client', description: NO_SUCH_KEY, challenge: 'Bearer' }, then: (env, res) => notBurnt(env, res, ctx) });
    add({ id: 'BI-60', name: "a connected account's access token as client_secret", send: viaAccessToken('body'), expect: { status: 401, error: 'invalid_client', description: NO_SUCH_KEY, challenge: null }, then: (env, res) => notBurnt(env, res, ctx) });
  }

  // BI-61/62: refresh tokens.
  add({ id: 'BI-61', name: 'refresh_token=rt_unknown', send: (env) => token(env, form({ grant_type: 'refresh_token', refresh_token: 'rt_unknown' })), expect: { status: 400, error: 'invalid_grant', description: 'Refresh token does not exist: rt_unknown' } });
  add({ id: 'BI-61', name: 'refresh_token with quotes is not echoed', send: (env) => token(env, form({ grant_type: 'refresh_token', refresh_token: 'rt_"x\\' })), expect: { status: 400, error: 'invalid_grant', description: 'Refresh token does not exist' } });
  add({ id: 'BI-61', name: 'refresh_token missing', send: (env) => token(env, form({ grant_type: 'refresh_token' })), expect: { status: 400, error: 'invalid_request', description: 'No refresh_token provided' } });
  add({ id: 'BI-61', name: 'refresh_token twice', send: (env) => token(env, 'grant_type=refresh_token&refresh_token=rt_a&refresh_token=rt_b'), expect: { status: 400, error: 'invalid_request' } });
  add({ id: 'BI-61', name: "platform B refreshing A's token", send: async (env) => {
    const conn = await env.connection();
    return token(env, form({ grant_type: 'refresh_token', refresh_token: conn.refreshToken }), bearer(B.testSecret));
  }, expect: { status: 400, error: 'invalid_grant', description: 'Refresh token provided does not belong to you' } });
  add({ id: 'BI-62', name: 'scope=read_write on a read_only grant', send: async (env) => {
    const conn = await env.connection('read_only');
    return token(env, form({ grant_type: 'refresh_token', refresh_token: conn.refreshToken, scope: 'read_write' }));
  }, expect: { status: 400, error: 'invalid_scope', description: 'Invalid scope parameter provided.' } });
  add({ id: 'BI-62', name: 'scope=read_write read_only', send: async (env) => {
    const conn = await env.connection('read_write');
    return token(env, form({ grant_type: 'refresh_token', refresh_token: conn.refreshToken, scope: 'read_write read_only' }));
  }, expect: { status: 400, error: 'invalid_scope', description: 'Invalid scope parameter provided.' } });
  add({ id: 'BI-62', name: 'scope=admin', send: async (env) => {
    const conn = await env.connection('read_write');
    return token(env, form({ grant_type: 'refresh_token', refresh_token: conn.refreshToken, scope: 'admin' }));
  }, expect: { status: 400, error: 'invalid_scope', description: 'Invalid scope parameter provided.' } });
  add({ id: 'BI-62', name: 'scope=read_only on a read_write grant narrows', send: async (env) => {
    const conn = await env.connection('read_write');
    const res = await token(env, form({ grant_type: 'refresh_token', refresh_token: conn.refreshToken, scope: 'read_only' }));
    assert.equal(res.json.scope, 'read_only');
    return res;
  }, expect: { ok: true } });

  // BI-63: request smuggling guard.
  add({ id: 'BI-63', name: 'Content-Length and Transfer-Encoding: chunked together', send: (env) => {
    const body = 'grant_type=authorization_code&code=ac_x';
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const host = new URL(env.server.url).host;
    return sendRaw(env.server.url, `POST /oauth/token HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${A.testSecret}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`);
  }, expect: { status: 400, error: 'invalid_request' } });
  add({ id: 'BI-63', name: 'headers over 16 kB (refused by the HTTP parser, still an OAuth body)', send: (env) =>
    token(env, form({ grant_type: 'authorization_code', code: 'ac_x' }), { ...bearer(A.testSecret), 'x-padding': 'p'.repeat(20_000) }),
  expect: { status: 431, error: 'invalid_request' } });

  // BI-64…BI-66: deauthorize.
  add({ id: 'BI-64', name: 'stripe_user_id missing', send: (env) => deauth(env, form({ client_id: A.clientIdTest })), expect: { status: 400, error: 'invalid_request', description: 'No stripe_user_id provided' } });
  add({ id: 'BI-64', name: 'stripe_user_id= (empty)', send: (env) => deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: '' })), expect: { status: 400, error: 'invalid_request', description: 'No stripe_user_id provided' } });
  add({ id: 'BI-64', name: 'client_id missing', send: (env) => deauth(env, form({ stripe_user_id: M.id })), expect: { status: 400, error: 'invalid_request', description: 'No client_id provided' } });
  add({ id: 'BI-64', name: 'stripe_user_id twice', send: (env) => deauth(env, `client_id=${A.clientIdTest}&stripe_user_id=${M.id}&stripe_user_id=${M.id}`), expect: { status: 400, error: 'invalid_request' } });
  add({ id: 'BI-64', name: 'stripe_user_id[]= (nested)', send: (env) => deauth(env, `client_id=${A.clientIdTest}&stripe_user_id%5B%5D=${M.id}`), expect: { status: 400, error: 'invalid_request' } });
  add({ id: 'BI-64', name: 'application/json body', send: (env) => send(env.server.url, { method: 'POST', path: '/oauth/deauthorize', headers: { 'content-type': 'application/json', ...bearer(A.testSecret) }, body: JSON.stringify({ client_id: A.clientIdTest, stripe_user_id: M.id }) }), expect: { status: 400, error: 'invalid_request' } });
  add({ id: 'BI-64', name: 'no client authentication', send: (env) => deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: M.id }), {}), expect: { status: 401, error: 'invalid_client', challenge: null } });
  add({ id: 'BI-64', name: 'Bearer wrong', send: (env) => deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: M.id }), bearer('sk_test_wrong')), expect: { status: 401, error: 'invalid_client', description: 'No such API key: sk_test_****rong', challenge: 'Bearer' } });
  add({ id: 'BI-64', name: 'Basic oddity', send: (env) => deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: M.id }), { authorization: 'Basic !!!' }), expect: { status: 401, error: 'invalid_client', challenge: 'Basic' } });
  {
    const ctx: Record<string, string> = {};
    const still = async (env: Env) => {
      // The refused call changed nothing: A's own deauthorize of the account still succeeds.
      const res = await deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: ctx.acct ?? '' }));
      assert.deepEqual(res.json, { stripe_user_id: ctx.acct });
    };
    const connected = async (env: Env) => {
      const conn = await env.connection();
      ctx.acct = conn.accountId;
      return ctx.acct;
    };
    add({ id: 'BI-65', name: "client_id of another platform (B's client_id, A's key)", send: async (env) => {
      const acct = await connected(env);
      return deauth(env, form({ client_id: B.clientIdTest, stripe_user_id: acct }));
    }, expect: { status: 401, error: 'invalid_client', description: /^This application is not connected to stripe account acct_[A-Za-z0-9]+, or that account does not exist\.$/ }, then: still });
    add({ id: 'BI-65', name: "B's key and B's client_id for A's connection", send: async (env) => {
      const acct = await connected(env);
      return deauth(env, form({ client_id: B.clientIdTest, stripe_user_id: acct }), bearer(B.testSecret));
    }, expect: { status: 401, error: 'invalid_client', description: /^This application is not connected to stripe account acct_[A-Za-z0-9]+, or that account does not exist\.$/ }, then: still });
    add({ id: 'BI-65', name: "A's live client_id with A's test key (mode mismatch)", send: async (env) => {
      const acct = await connected(env);
      return deauth(env, form({ client_id: A.clientIdLive, stripe_user_id: acct }));
    }, expect: { status: 401, error: 'invalid_client' }, then: still });
    add({ id: 'BI-65', name: "A's live key for a test-mode connection", send: async (env) => {
      const acct = await connected(env);
      return deauth(env, form({ client_id: A.clientIdLive, stripe_user_id: acct }), bearer(A.liveSecret));
    }, expect: { status: 401, error: 'invalid_client' }, then: still });
  }
  add({ id: 'BI-66', name: 'stripe_user_id=acct_notconnected', send: (env) => deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: 'acct_notconnected' })), expect: { status: 401, error: 'invalid_client', description: NOT_CONNECTED('acct_notconnected') } });
  add({ id: 'BI-66', name: 'an existing account that is not connected', send: (env) => deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: M.id })), expect: { status: 401, error: 'invalid_client', description: NOT_CONNECTED(M.id) } });
  add({ id: 'BI-66', name: 'the platform itself', send: (env) => deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: A.id })), expect: { status: 401, error: 'invalid_client', description: NOT_CONNECTED(A.id) } });
  add({ id: 'BI-66', name: 'a malformed account id is not echoed', send: (env) => deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: 'acct_not_connected"<x>' })), expect: { status: 401, error: 'invalid_client', description: /^This application is not connected to stripe account (?!.*<x>).*, or that account does not exist\.$/ } });
  add({ id: 'BI-66', name: 'deauthorized twice: the second is the same error', send: async (env) => {
    const conn = await env.connection();
    const first = await deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: conn.accountId }));
    assert.deepEqual(first.json, { stripe_user_id: conn.accountId });
    commonChecks(first, 'first deauthorize');
    return deauth(env, form({ client_id: A.clientIdTest, stripe_user_id: conn.accountId }));
  }, expect: { status: 401, error: 'invalid_client', description: /^This application is not connected to stripe account acct_[A-Za-z0-9]+, or that account does not exist\.$/ } });
  return rows;
}

function checkOAuth(res: Res, row: OAuthRow): void {
  const what = `${row.id} ${row.name}`;
  commonChecks(res, what);
  assert.equal(res.headers.get('pragma'), 'no-cache', `${what}: Pragma`);
  if ('ok' in row.expect) {
    assert.equal(res.status, 200, `${what}: ${res.text.slice(0, 300)}`);
    // A token response (docs/contract.md Part A "Token endpoint"), not just any 200.
    assert.deepEqual(Object.keys(res.json), ['access_token', 'livemode', 'refresh_token', 'token_type', 'stripe_publishable_key', 'stripe_user_id', 'scope'], what);
    assert.equal(res.json.token_type, 'bearer', what);
    assert.equal(res.json.livemode, false, what);
    assert.match(String(res.json.access_token), /^sk_test_/, what);
    assert.match(String(res.json.stripe_user_id), /^acct_/, what);
    return;
  }
  const { status, error, description, challenge, allow } = row.expect;
  assert.equal(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
  oauthErrorChecks(res, what);
  assert.equal(res.json.error, error, `${what}: ${res.text.slice(0, 300)}`);
  if (typeof description === 'string') assert.equal(res.json.error_description, description, what);
  else if (description) assert.match(String(res.json.error_description), description, what);
  const www = res.headers.get('www-authenticate');
  if (challenge) assert.match(www ?? '', new RegExp(`^${challenge} `), `${what}: WWW-Authenticate`);
  else if (challenge === null) assert.equal(www, null, `${what}: no challenge for a body secret`);
  if (allow) assert.equal(res.headers.get('allow'), allow, `${what}: Allow`);
}

// ---- The suites -------------------------------------------------------------------------------------

for (const db of DB_KINDS) {
  describe(db, () => {
    let server: TestServer;
    const clock = new ManualClock(Math.floor(Date.now() / 1000));
    const env = {} as Env;
    before(async () => {
      // The catalogue sends dozens of wrong keys and codes from one address on purpose; the
      // failed-authentication throttle has its own test (test/security/probe-findings.test.ts).
      server = await startTestServer({ db, clock, args: ['--auth-failure-limit', '100000'] });
      Object.assign(env, {
        server,
        clock,
        code: (extra: Record<string, string> = {}) => helperCode(server.url, A.testSecret, { client_id: A.clientIdTest, scope: 'read_write', ...extra }),
        connection: (scope: 'read_write' | 'read_only' = 'read_write') => connectNew(server.url, A, scope),
      } satisfies Env);
    });
    after(() => server.close());

    describe('GET /oauth/authorize (BI-01…BI-31)', () => {
      for (const row of AUTHORIZE_ROWS) {
        it(`${row.id} ${row.name}`, async () => {
          checkAuthorize(await send(server.url, { path: row.path }), row);
        });
      }

      it('BI-32 POST /oauth/authorize → 405 Allow: GET', async () => {
        const res = await send(server.url, { method: 'POST', path: '/oauth/authorize', headers: FORM, body: authz().split('?')[1] });
        commonChecks(res, 'BI-32');
        assert.equal(res.status, 405);
        assert.equal(res.headers.get('allow'), 'GET');
        assert.equal(res.headers.get('location'), null);
        assert.equal(res.json.error, 'invalid_request');
      });

      it('BI-19/BI-23/BI-25 absent redirect_uri and empty scope end at the first registered URI, read_only, state byte-exact', async () => {
        const state = 'a&b=c#d+e%f g \u{1F600}\u200F';
        const client = new FormClient(server.url);
        await client.login(M.email, M.password);
        const location = await client.connect({ client_id: A.clientIdTest, response_type: 'code', redirect_uri: '', scope: '', state });
        const back = new URL(location);
        assert.equal(`${back.origin}${back.pathname}`, A.redirect, 'the first registered URI');
        assert.equal(back.searchParams.get('scope'), 'read_only', 'empty scope is the default read_only');
        assert.equal(back.searchParams.get('state'), state, 'state round-trips byte-exact');
        assert.match(back.searchParams.get('code') ?? '', /^ac_[A-Za-z0-9]{32}$/);
      });

      it('BI-27 markup in state and stripe_user[...] is escaped on the consent page; invalid prefill is dropped', async () => {
        const client = new FormClient(server.url);
        const start = await client.authorize({
          client_id: A.clientIdTest,
          response_type: 'code',
          state: '<script>alert(1)</script>',
          'stripe_user[email]': '"><svg onload=alert(1)>',
          'stripe_user[business_name]': '<img src=x onerror=alert(1)>',
        });
        assert.equal(start.status, 303);
        const consent = await client.get(start.location ?? '');
        assert.equal(consent.status, 200);
        assert.match(consent.headers.get('content-security-policy') ?? '', /script-src 'self'/);
        assert.doesNotMatch(consent.text, /<script>alert|<svg onload|<img src=x/);
      });
    });

    describe('POST /oauth/token and /oauth/deauthorize (BI-37…BI-66)', () => {
      for (const row of oauthRows()) {
        it(`${row.id} ${row.name}`, async () => {
          const res = await row.send(env);
          checkOAuth(res, row);
          if (row.then) await row.then(env, res, {});
        });
      }
    });
  });
}
