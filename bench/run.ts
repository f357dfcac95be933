// `npm run bench [-- --quick]`: throughput and latency of connectd's hot paths as ratios to a Fastify
// hello-world measured in the same run, on the same machine (issue 8, docs/architecture.md "Speed").
// Loopback only, bounded durations, every child stopped with a deadline. Writes
// bench/results/latest.json and prints a table. Environment: BENCH_SECONDS, BENCH_CONNECTIONS,
// BENCH_CODES, BENCH_LOG_LEVEL, BENCH_DATABASE_URL (PostgreSQL; TEST_DATABASE_URL also works),
// BENCH_SCALE (comma-separated account counts), BENCH_WEBHOOK_BACKLOG (events the webhook drain
// starts from), BENCH_DEADLINE_SECONDS (the whole run).
import { createHmac, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Client, closedLoop, load, mintCodes, percentile, progress, type Figure } from './lib/load.ts';
import { AUTH, CLIENT_ID, FORM, PLATFORM, REDIRECT, writeSeed } from './lib/platform.ts';
import { countAccounts, populate, someConnectedAccount } from './lib/populate.ts';
import { cleanups, hangs, interruptCleanups, removeDir, rssMb, serverEntry, startChild, stopAll, stopChild, type Child } from './lib/proc.ts';

const QUICK = process.argv.includes('--quick');
const DURATION = Number(process.env.BENCH_SECONDS ?? (QUICK ? 1 : 8));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CODES = Number(process.env.BENCH_CODES ?? (QUICK ? 400 : 4000));
/** Codes for the exchanges of the scale and PostgreSQL runs. */
const SIDE_CODES = Math.min(CODES, QUICK ? 200 : 3000);
const WEBHOOK_EVENTS = QUICK ? 300 : 2000;
/** How long to wait for the last deliveries after the last exchange. */
const WEBHOOK_WAIT_MS = QUICK ? 5_000 : 60_000;
const WEBHOOK_CLIENTS = 20;
/** Events committed with the worker off, then drained by a worker process (BENCH_WEBHOOK_BACKLOG). */
const WEBHOOK_BACKLOG = Number(process.env.BENCH_WEBHOOK_BACKLOG ?? (QUICK ? 3000 : 20000));
const FLOW_CONCURRENCY = Math.min(CONNECTIONS, 20);
const SCALE = (process.env.BENCH_SCALE ?? (QUICK ? '1000,50000' : '1000,1000000')).split(',').map(Number);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const HELLO = fileURLToPath(new URL('./hello.ts', import.meta.url));


// ---- results ---------------------------------------------------------------------------------

const figures: Figure[] = [];
const problems: string[] = [];
const entry = serverEntry();
const startedAt = new Date();
const report: Record<string, unknown> = {};

function problem(msg: string): void {
  problems.push(msg);
  progress(`!!! ${msg}`);
}

function add(f: Figure, target?: { ratio?: number; note?: string }): Figure {
  if (target?.ratio !== undefined) f.target = `ratio ≥ ${target.ratio}`;
  if (target?.note) f.note = target.note;
  figures.push(f);
  if (f.errors || f.non2xx) problem(`${f.name}: ${f.errors} errors, ${f.non2xx} non-2xx of ${f.total}`);
  return f;
}

/** Runs one scenario; a failure is recorded and the run goes on with the next one. */
const phases: Array<{ name: string; seconds: number }> = [];
let currentScenario = '';
async function scenario(name: string, fn: () => Promise<void>): Promise<void> {
  const t = performance.now();
  currentScenario = name;
  try {
    await fn();
  } catch (err) {
    problem(`${name} failed: ${err instanceof Error ? err.message.split('\n').slice(0, 3).join(' | ') : String(err)}`);
  } finally {
    // Where the run's time goes (--quick must stay under a minute).
    phases.push({ name, seconds: Math.round((performance.now() - t) / 100) / 10 });
  }
}

// ---- helpers ---------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'connectd-bench-'));
cleanups.push(() => removeDir(dir));
const MERCHANT = { email: 'bench-merchant@example.com', password: 'bench-merchant-password' };
const platformSeed = writeSeed(dir, 'platform');
const mainSeed = writeSeed(dir, 'main', [{ ...MERCHANT, business_name: 'Bench Merchant' }]);
// One key file for every server after the start-up run: a copied database only opens with the
// secret it was created with, and processes sharing PostgreSQL must agree on it
// (docs/configuration.md "Server secret").
let secretFile = '';

let childSeq = 0;
function serve(db: string, seed: string, extra: string[] = []): Promise<Child> {
  return startChild({
    name: `connectd#${++childSeq}`,
    argv: [...entry.argv, 'serve', '--port', '0', '--db', db, '--seed', seed, '--log-level', LOG_LEVEL, ...(secretFile && !extra.includes('--secret-file') ? ['--secret-file', secretFile] : []), ...extra],
    reportDir: join(dir, 'reports'),
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

let rssPeak = 0;
/** The peak of each scenario too: which one sets the maximum is what a reader of the run needs. */
const rssPeakByScenario: Record<string, number> = {};
const sampleRss = (pid: number) => () => {
  const mb = rssMb(pid);
  if (mb === null) return;
  if (mb > rssPeak) rssPeak = mb;
  if (mb > (rssPeakByScenario[currentScenario] ?? 0)) rssPeakByScenario[currentScenario] = Math.round(mb);
};

const post = (id: string, name: string, url: string, headers: Record<string, string>, body: (i: number) => string, extra: { amount?: number; connections?: number; onSample?: () => void } = {}) => {
  let i = 0;
  return load({
    id,
    name,
    connections: extra.connections ?? CONNECTIONS,
    durationS: DURATION,
    ...(extra.amount ? { amount: extra.amount } : {}),
    ...(extra.onSample ? { onSample: extra.onSample } : {}),
    opts: { url, requests: [{ method: 'POST', headers, setupRequest: (req) => ({ ...req, body: body(i++) }) }] },
  });
};

/** A connected account with one customer, through the public API. */
async function connectOne(c: Client): Promise<{ account: string; refreshToken: string; customer: string }> {
  const minted = await c.form('/v1/test_helpers/oauth/authorize', { client_id: CLIENT_ID, scope: 'read_write' }, AUTH);
  const token = await c.form('/oauth/token', { grant_type: 'authorization_code', code: String(minted.code) }, AUTH);
  const account = String(token.stripe_user_id);
  const customer = await c.form('/v1/customers', { email: 'reader@example.com' }, { ...AUTH, 'stripe-account': account });
  return { account, refreshToken: String(token.refresh_token), customer: String(customer.id) };
}

const exchangeBody = (codes: string[]) => (i: number) => `grant_type=authorization_code&code=${codes[i % codes.length] ?? ''}`;
const customerBody = () => 'email=buyer%40example.com&metadata[order]=42';
const idemHeaders = (account: string) => (i: number) => ({ ...FORM, 'stripe-account': account, 'idempotency-key': `bench-${process.pid}-${startedAt.getTime()}-${i}` });

// ---- scenarios -------------------------------------------------------------------------------

let hello: Figure | undefined;

async function baseline(): Promise<void> {
  const h = await startChild({ name: 'fastify-hello', argv: ['--import', 'tsx', HELLO] });
  try {
    hello = add(await load({ id: 'hello', name: 'Fastify hello-world (baseline)', connections: CONNECTIONS, durationS: DURATION, opts: { url: `${h.url}/` } }));
  } finally {
    await stopChild(h);
  }
}

let templateDb = '';
async function startup(): Promise<void> {
  const first: number[] = [];
  const restart: number[] = [];
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    const db = join(dir, `startup-${i}.sqlite`);
    // A key file per database, as a fresh install creates it.
    const args = ['--secret-file', join(dir, `startup-${i}.key`)];
    for (const bucket of [first, restart]) {
      const s = await serve(db, platformSeed, args);
      bucket.push(s.startMs);
      await stopChild(s);
    }
    if (i === 0) [templateDb, secretFile] = [db, join(dir, 'startup-0.key')];
  }
  report.startup = {
    firstRunMs: first.map(Math.round),
    restartMs: restart.map(Math.round),
    firstRunMedianMs: Math.round(median(first)),
    restartMedianMs: Math.round(median(restart)),
    target: '< 500 ms',
    met: median(first) < 500 && median(restart) < 500,
    note: 'spawn to the "listening on" line; first run creates, migrates and seeds (one scrypt password hash)',
  };
}

/** A copy of the migrated, seeded database from the start-up run: servers then start as restarts. */
function freshDb(name: string): string {
  const file = join(dir, `${name}.sqlite`);
  copyFileSync(templateDb, file);
  // Committed pages still in the WAL (a server that was killed did not checkpoint) travel along.
  if (existsSync(`${templateDb}-wal`)) copyFileSync(`${templateDb}-wal`, `${file}-wal`);
  return file;
}

/**
 * One server for the single-process SQLite scenarios; the webhook endpoint is created only after
 * the scenarios whose exchanges must not feed a delivery worker, and disabled afterwards.
 */
async function mainServer(): Promise<void> {
  const s = await serve(freshDb('main'), mainSeed, ['--webhook-retry', 'fast']);
  const c = new Client(s.url);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idle = rssMb(s.pid);
    const sample = sampleRss(s.pid);
    const one = await connectOne(c);
    const onBehalf = { ...AUTH, 'stripe-account': one.account };

    await scenario('GET /healthz', async () => {
      add(await load({ id: 'healthz', name: 'GET /healthz', connections: CONNECTIONS, durationS: DURATION, onSample: sample, opts: { url: `${s.url}/healthz` } }), { ratio: 0.7 });
    });
    await scenario('GET /v1/account', async () => {
      add(await load({ id: 'account', name: 'GET /v1/account + Stripe-Account', connections: CONNECTIONS, durationS: DURATION, onSample: sample, opts: { url: `${s.url}/v1/account`, headers: onBehalf } }), { ratio: 0.4 });
    });
    await scenario('GET /v1/customers/:id', async () => {
      add(await load({ id: 'customer-get', name: 'GET /v1/customers/:id + Stripe-Account', connections: CONNECTIONS, durationS: DURATION, onSample: sample, opts: { url: `${s.url}/v1/customers/${one.customer}`, headers: onBehalf } }));
    });
    await scenario('POST /v1/customers', async () => {
      let i = 0;
      const headers = idemHeaders(one.account);
      add(
        await load({
          id: 'customer-post',
          name: 'POST /v1/customers + Idempotency-Key',
          connections: CONNECTIONS,
          durationS: DURATION,
          onSample: sample,
          opts: { url: `${s.url}/v1/customers`, requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, headers: headers(i++), body: customerBody() }) }] },
        }),
        { ratio: 0.15 },
      );
    });
    await scenario('POST /oauth/token code exchange', async () => {
      progress(`minting ${CODES} codes`);
      const codes = await mintCodes(c, CODES, AUTH, CLIENT_ID);
      add(await post('exchange', 'POST /oauth/token code exchange', `${s.url}/oauth/token`, FORM, exchangeBody(codes), { amount: codes.length, onSample: sample }), { ratio: 0.12 });
    });
    await scenario('POST /oauth/token refresh', async () => {
      const body = `grant_type=refresh_token&refresh_token=${one.refreshToken}`;
      add(await post('refresh', 'POST /oauth/token refresh grant', `${s.url}/oauth/token`, FORM, () => body, { onSample: sample }));
    });
    await scenario('connect flow', async () => connectFlow(s, sample));
    await scenario('webhooks', async () => webhooks(s, c));
    report.rss = {
      idleMb: idle === null ? null : Math.round(idle),
      underLoadMaxMb: Math.round(rssPeak),
      underLoadMaxMbByScenario: rssPeakByScenario,
      target: '< 150 MB',
      met: rssPeak > 0 && rssPeak < 150 && (idle ?? 0) < 150,
      note: 'VmRSS of the connectd process: idle 0.5 s after start; peak sampled every 200 ms during the single-server SQLite scenarios; the scale run\'s server separately',
    };
  } finally {
    c.close();
    await stopChild(s);
  }
}

/** A signed-in merchant connecting: GET /oauth/authorize → consent page → allow → token exchange. */
async function connectFlow(s: Child, sample: () => void): Promise<void> {
  const c = new Client(s.url);
  try {
    let cookie = '';
    const remember = (h: Record<string, string | string[] | undefined>) => {
      const set = h['set-cookie'];
      for (const line of Array.isArray(set) ? set : set ? [set] : []) {
        const pair = line.split(';')[0] ?? '';
        if (pair.startsWith('connectd_session=')) cookie = pair;
      }
    };
    const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    // Sign in once (a scrypt check); every flow then runs in this browser session.
    const loginPage = await c.send('GET', '/login');
    remember(loginPage.headers);
    const login = await c.send(
      'POST',
      '/login',
      { cookie, origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ _csrf: csrfOf(loginPage.body), email: MERCHANT.email, password: MERCHANT.password }).toString(),
    );
    remember(login.headers);
    if (login.status !== 303) throw new Error(`merchant sign-in answered ${login.status}`);
    const query = (i: number) =>
      new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, scope: 'read_write', redirect_uri: REDIRECT, state: `s${i}`, always_prompt: 'true' }).toString();
    const expect = (step: string, status: number, want: number) => {
      if (status !== want) throw new Error(`${step} answered ${status}, expected ${want}`);
    };
    const sampler = setInterval(sample, 200);
    progress(`connect flow: ${DURATION} s, ${FLOW_CONCURRENCY} concurrent flows`);
    let r;
    try {
      r = await closedLoop(FLOW_CONCURRENCY, { durationS: DURATION }, async (i) => {
        const start = await c.send('GET', `/oauth/authorize?${query(i)}`, { cookie });
        expect('GET /oauth/authorize', start.status, 303);
        const consent = String(start.headers.location ?? '');
        const page = await c.send('GET', consent, { cookie });
        expect('GET consent page', page.status, 200);
        const decided = await c.send(
          'POST',
          `${consent}/decision`,
          { cookie, origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
          new URLSearchParams({ _csrf: csrfOf(page.body), decision: 'allow' }).toString(),
        );
        expect('POST consent decision', decided.status, 303);
        const code = new URL(String(decided.headers.location ?? ''), s.url).searchParams.get('code') ?? '';
        const token = await c.send('POST', '/oauth/token', FORM, `grant_type=authorization_code&code=${code}`);
        expect('POST /oauth/token', token.status, 200);
      });
    } finally {
      clearInterval(sampler);
    }
    const f = add({
      id: 'connect-flow',
      name: 'connect flow, signed-in merchant (4 requests)',
      unit: 'flows/s',
      rate: r.completions.length / r.durationS,
      p50: Math.round(percentile(r.latencies, 50) * 10) / 10,
      p99: Math.round(percentile(r.latencies, 99) * 10) / 10,
      errors: r.errors,
      non2xx: 0,
      total: r.completions.length + r.errors,
      durationS: r.durationS,
      note: `authorize → consent page → allow → token; ${FLOW_CONCURRENCY} concurrent flows in one session${r.firstError ? `; first error: ${r.firstError}` : ''}`,
    });
    if (f.total === 0) throw new Error('no flow completed');
  } finally {
    c.close();
  }
}

/** A webhook receiver in this process: checks each signature, records each event's arrival. */
interface HookReceiver {
  port: number;
  /** Secret of the endpoint, once created. */
  secret: string;
  /** Event id → first arrival (performance.now()). */
  received: Map<string, number>;
  accountOf: Map<string, string>;
  doubled: number;
  badSignature: number;
  close(): Promise<void>;
}

async function hookReceiver(): Promise<HookReceiver> {
  const rx: Omit<HookReceiver, 'port' | 'close'> = { secret: '', received: new Map(), accountOf: new Map(), doubled: 0, badSignature: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const at = performance.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const sig = String(req.headers['stripe-signature'] ?? '');
      const t = /t=(\d+)/.exec(sig)?.[1] ?? '';
      const v1 = createHmac('sha256', rx.secret).update(`${t}.${body}`).digest('hex');
      if (!sig.includes(`v1=${v1}`)) rx.badSignature++;
      try {
        const evt = JSON.parse(body) as { id: string; account: string };
        if (rx.received.has(evt.id)) rx.doubled++;
        else rx.received.set(evt.id, at);
        rx.accountOf.set(evt.id, evt.account);
      } catch {
        rx.badSignature++;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(rx, {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  });
}

/** Connect webhook delivery: N exchanges as fast as possible, a receiver in this process. */
async function webhooks(s: Child, client: Client): Promise<void> {
  const rx = await hookReceiver();
  const { received, accountOf } = rx;
  let endpoint = '';
  try {
    const created = await client.form('/v1/webhook_endpoints', { url: `http://127.0.0.1:${rx.port}/hook`, 'enabled_events[]': '*', connect: 'true' }, AUTH);
    endpoint = String(created.id);
    rx.secret = String(created.secret);
    progress(`webhooks: minting ${WEBHOOK_EVENTS} codes`);
    const codes = await mintCodes(client, WEBHOOK_EVENTS, AUTH, CLIENT_ID);
    const committed = new Map<string, number>();
    progress(`webhooks: ${WEBHOOK_EVENTS} exchanges by ${WEBHOOK_CLIENTS} clients`);
    const t0 = performance.now();
    const r = await closedLoop(WEBHOOK_CLIENTS, { count: codes.length }, async (i) => {
      const res = await client.send('POST', '/oauth/token', FORM, `grant_type=authorization_code&code=${codes[i] ?? ''}`);
      if (res.status !== 200) throw new Error(`exchange answered ${res.status}`);
      // The exchange's transaction (with the event and its delivery row) committed before this response.
      committed.set(String((JSON.parse(res.body) as { stripe_user_id: string }).stripe_user_id), performance.now());
    });
    const exchangedAt = performance.now();
    while (received.size < committed.size && performance.now() - exchangedAt < WEBHOOK_WAIT_MS) await new Promise((res) => setTimeout(res, 50));
    const lastAt = Math.max(0, ...received.values());
    // Late duplicates: a short grace after the last arrival.
    await new Promise((res) => setTimeout(res, QUICK ? 300 : 2000));
    const delays: number[] = [];
    for (const [id, at] of received) {
      const sent = committed.get(accountOf.get(id) ?? '');
      if (sent !== undefined) delays.push(at - sent);
    }
    delays.sort((a, b) => a - b);
    const lost = committed.size - received.size;
    const { doubled, badSignature } = rx;
    // The backlog left when the exchanges ended, and how fast it drained (the drain scenario
    // measures delivery capacity on its own).
    const backlog = [...received.values()].filter((at) => at > exchangedAt).length;
    const drainPerS = backlog >= 20 && lastAt > exchangedAt ? Math.round(backlog / ((lastAt - exchangedAt) / 1000)) : null;
    const deliverySpan = (lastAt - t0) / 1000;
    const f = add({
      id: 'webhooks',
      name: 'webhook delivery during exchanges (Connect endpoint, loopback)',
      unit: 'events/s',
      rate: deliverySpan > 0 ? received.size / deliverySpan : 0,
      p50: Math.round(percentile(delays, 50) * 10) / 10,
      p99: Math.round(percentile(delays, 99) * 10) / 10,
      errors: r.errors + lost + doubled + badSignature,
      non2xx: 0,
      total: received.size,
      durationS: deliverySpan,
      note: `events/s here follows the exchanges (${WEBHOOK_CLIENTS} clients); p50/p99 = commit (exchange response) to arrival; target p50 < 50 ms, nothing lost or doubled (capacity: the drain scenario)`,
    });
    f.met = f.p50 < 50 && lost === 0 && doubled === 0;
    report.webhooks = {
      events: committed.size,
      exchangesPerS: Math.round(committed.size / ((exchangedAt - t0) / 1000)),
      delivered: received.size,
      deliveredPerS: Math.round(f.rate),
      commitToReceivedP50Ms: f.p50,
      commitToReceivedP99Ms: f.p99,
      backlogAtLastExchange: backlog,
      backlogDrainPerS: drainPerS,
      lost,
      doubled,
      badSignature,
      exchangeErrors: r.errors,
      waitedAfterLastExchangeMs: Math.round(performance.now() - exchangedAt),
    };
    if (lost) problem(`webhooks: ${lost} of ${committed.size} events not received ${WEBHOOK_WAIT_MS / 1000} s after the last exchange`);
    if (doubled) problem(`webhooks: ${doubled} events received twice`);
    if (badSignature) problem(`webhooks: ${badSignature} deliveries with a bad signature`);
  } finally {
    // Later exchanges (the scale run) must not feed the worker.
    if (endpoint) await client.form(`/v1/webhook_endpoints/${endpoint}`, { disabled: 'true' }, AUTH).catch((err: unknown) => problem(`disabling the webhook endpoint: ${String(err)}`));
    await rx.close();
  }
}

/**
 * Delivery capacity (issue 8: ≥ 5,000 events/s to a local receiver): a backlog committed by a
 * process running `--webhook-worker off` (as a web-only process would), then a worker process
 * started on the same SQLite database while that one keeps running; events/s from the first
 * arrival to the last, one Connect endpoint (at most 4 requests in flight to it).
 */
async function webhookDrain(): Promise<void> {
  const file = freshDb('drain');
  const rx = await hookReceiver();
  const web = await serve(file, platformSeed, ['--webhook-retry', 'fast', '--webhook-worker', 'off']);
  const c = new Client(web.url);
  let worker: Child | undefined;
  try {
    const created = await c.form('/v1/webhook_endpoints', { url: `http://127.0.0.1:${rx.port}/hook`, 'enabled_events[]': '*', connect: 'true' }, AUTH);
    rx.secret = String(created.secret);
    progress(`webhook drain: minting ${WEBHOOK_BACKLOG} codes`);
    const codes = await mintCodes(c, WEBHOOK_BACKLOG, AUTH, CLIENT_ID);
    progress(`webhook drain: ${WEBHOOK_BACKLOG} exchanges into the backlog (--webhook-worker off)`);
    const r = await closedLoop(WEBHOOK_CLIENTS, { count: codes.length }, async (i) => {
      const res = await c.send('POST', '/oauth/token', FORM, `grant_type=authorization_code&code=${codes[i] ?? ''}`);
      if (res.status !== 200) throw new Error(`exchange answered ${res.status}`);
    });
    const backlog = codes.length - r.errors;
    if (r.errors) problem(`webhook drain: ${r.errors} exchanges failed: ${r.firstError ?? ''}`);
    if (rx.received.size) problem(`webhook drain: the process with --webhook-worker off sent ${rx.received.size} webhooks`);
    progress(`webhook drain: a worker process on the backlog of ${backlog}`);
    worker = await serve(file, platformSeed, ['--webhook-retry', 'fast']);
    const listening = performance.now();
    while (rx.received.size < backlog && performance.now() - listening < WEBHOOK_WAIT_MS) await new Promise((res) => setTimeout(res, 20));
    const arrivals = [...rx.received.values()].sort((a, b) => a - b);
    const first = arrivals[0] ?? listening;
    const last = arrivals[arrivals.length - 1] ?? listening;
    // Late duplicates: a short grace after the last arrival.
    await new Promise((res) => setTimeout(res, QUICK ? 300 : 2000));
    const lost = backlog - rx.received.size;
    const { doubled, badSignature } = rx;
    const sinceStart = arrivals.map((at) => at - listening);
    const f = add({
      id: 'webhook-drain',
      name: 'webhook backlog drained by a worker process (one endpoint)',
      unit: 'events/s',
      rate: arrivals.length > 1 && last > first ? (arrivals.length - 1) / ((last - first) / 1000) : 0,
      p50: Math.round(percentile(sinceStart, 50) * 10) / 10,
      p99: Math.round(percentile(sinceStart, 99) * 10) / 10,
      errors: lost + doubled + badSignature,
      non2xx: 0,
      total: rx.received.size,
      durationS: (last - first) / 1000,
      note: `${backlog} events committed with --webhook-worker off, then a worker process on the same SQLite file; rate from the first arrival to the last; p50/p99 = arrival after the worker was listening; target ≥ 5,000 events/s, nothing lost or doubled`,
    });
    f.met = f.rate >= 5000 && lost === 0 && doubled === 0 && badSignature === 0;
    report.webhookDrain = {
      backlog,
      delivered: rx.received.size,
      drainPerS: Math.round(f.rate),
      firstArrivalAfterListeningMs: Math.round(first - listening),
      allReceivedAfterListeningMs: Math.round(last - listening),
      lost,
      doubled,
      badSignature,
      target: '≥ 5,000 events/s',
      met: f.met,
    };
    if (lost) problem(`webhook drain: ${lost} of ${backlog} events not received ${WEBHOOK_WAIT_MS / 1000} s after the worker started`);
    if (doubled) problem(`webhook drain: ${doubled} events received twice`);
    if (badSignature) problem(`webhook drain: ${badSignature} deliveries with a bad signature`);
  } finally {
    c.close();
    if (worker) await stopChild(worker);
    await stopChild(web);
    await rx.close();
  }
}

/**
 * `GET /v1/account` + Stripe-Account and the code exchange as the database grows to n connected
 * accounts. The first size is written before the server starts; later sizes are added straight
 * into the running (idle) server's SQLite file, so every size is measured by the same warm process.
 */
async function scale(): Promise<void> {
  const rows: Array<Record<string, unknown>> = [];
  const file = freshDb('scale');
  let s: Child | undefined;
  let c: Client | undefined;
  let peak = 0;
  try {
    for (const n of SCALE) {
      await scenario(`scale ${n}`, async () => {
        const more = Math.max(0, n - countAccounts(file));
        progress(`scale: inserting ${more.toLocaleString('en')} connected accounts (to ${n.toLocaleString('en')})`);
        const ms = populate(file, PLATFORM, more);
        const account = someConnectedAccount(file, PLATFORM);
        s ??= await serve(file, platformSeed);
        const server = s;
        c ??= new Client(server.url);
        const sample = () => (peak = Math.max(peak, rssMb(server.pid) ?? 0));
        const label = `scale ${n.toLocaleString('en')} accounts`;
        const read = add(
          await load({ id: `scale-${n}-account`, name: `${label}: GET /v1/account + Stripe-Account`, connections: CONNECTIONS, durationS: DURATION, onSample: sample, opts: { url: `${server.url}/v1/account`, headers: { ...AUTH, 'stripe-account': account } } }),
        );
        // Each minted code adds a (not yet connected) test account: counted in the row.
        const codes = await mintCodes(c, SIDE_CODES, AUTH, CLIENT_ID);
        const exchange = add(await post(`scale-${n}-exchange`, `${label}: POST /oauth/token code exchange`, `${server.url}/oauth/token`, FORM, exchangeBody(codes), { amount: codes.length, onSample: sample }));
        rows.push({ accounts: n, accountsAtExchange: countAccounts(file), inserted: more, insertMs: Math.round(ms), accountRps: Math.round(read.rate), exchangeRps: Math.round(exchange.rate), accountP99: read.p99, exchangeP99: exchange.p99 });
      });
    }
  } finally {
    c?.close();
    if (s) await stopChild(s);
  }
  report.scaleRssMaxMb = Math.round(peak);
  const small = rows[0];
  for (const row of rows.slice(1)) {
    if (!small) break;
    row.accountSlowdown = round2(Number(small.accountRps) / Number(row.accountRps));
    row.exchangeSlowdown = round2(Number(small.exchangeRps) / Number(row.exchangeRps));
    row.met = Number(row.accountSlowdown) <= 1.2 && Number(row.exchangeSlowdown) <= 1.2;
  }
  report.scale = { rows, target: 'slowdown (req/s of the smallest ÷ req/s of this size) ≤ 1.2' };
}

/** Code exchange, read and write on PostgreSQL: one process, then two sharing the schema. */
async function postgres(): Promise<void> {
  const schema = `bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    problem(`PostgreSQL at ${PG_URL} unreachable (${err instanceof Error ? err.message : String(err)}); PostgreSQL scenarios skipped`);
    return;
  }
  const servers: Child[] = [];
  const drop = () => admin.query(`drop schema if exists "${schema}" cascade`);
  try {
    await admin.query(`create schema "${schema}"`);
    interruptCleanups.add(drop);
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const database = url.toString();
    for (const procs of [1, 2]) {
      while (servers.length < procs) servers.push(await serve(database, mainSeed));
      const urls = servers.map((s) => s.url);
      const c = new Client(urls[0] ?? '');
      try {
        const label = `PostgreSQL, ${procs} process${procs > 1 ? 'es' : ''}`;
        const one = await connectOne(c);
        const codes = await mintCodes(c, SIDE_CODES, AUTH, CLIENT_ID);
        let i = 0;
        // autocannon spreads its connections over the URLs: the load is split across the processes.
        add(
          await load({
            id: `pg${procs}-exchange`,
            name: `${label}: POST /oauth/token code exchange`,
            connections: CONNECTIONS,
            durationS: DURATION,
            amount: codes.length,
            urls: urls.map((u) => `${u}/oauth/token`),
            opts: { requests: [{ method: 'POST', headers: FORM, setupRequest: (req) => ({ ...req, body: exchangeBody(codes)(i++) }) }] },
          }),
        );
        add(
          await load({
            id: `pg${procs}-account`,
            name: `${label}: GET /v1/account + Stripe-Account`,
            connections: CONNECTIONS,
            durationS: DURATION,
            urls: urls.map((u) => `${u}/v1/account`),
            opts: { headers: { ...AUTH, 'stripe-account': one.account } },
          }),
        );
        let j = 0;
        const headers = idemHeaders(one.account);
        add(
          await load({
            id: `pg${procs}-customer-post`,
            name: `${label}: POST /v1/customers + Idempotency-Key`,
            connections: CONNECTIONS,
            durationS: DURATION,
            urls: urls.map((u) => `${u}/v1/customers`),
            opts: { requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, headers: headers(1_000_000 * procs + j++), body: customerBody() }) }] },
          }),
        );
      } finally {
        c.close();
      }
    }
  } finally {
    for (const s of servers) await stopChild(s);
    interruptCleanups.delete(drop);
    await drop().catch((err: unknown) => problem(`could not drop PostgreSQL schema ${schema}: ${String(err)}`));
    await admin.end();
  }
}

// ---- output ----------------------------------------------------------------------------------

const round2 = (x: number) => Math.round(x * 100) / 100;

function ratios(): void {
  const h = hello;
  for (const f of figures) {
    if (!h || f === h) {
      if (f === h) Object.assign(f, { ratio: 1, p50Ratio: 1, p99Ratio: 1 });
      continue;
    }
    f.ratio = h.rate > 0 ? round2(f.rate / h.rate) : null;
    f.p50Ratio = h.p50 > 0 ? round2(f.p50 / h.p50) : null;
    f.p99Ratio = h.p99 > 0 ? round2(f.p99 / h.p99) : null;
    const want = f.target ? Number(/[\d.]+/.exec(f.target)?.[0]) : NaN;
    if (!Number.isNaN(want) && f.met === undefined) f.met = f.ratio !== null && f.ratio >= want;
  }
}

function print(): void {
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(2));
  console.log(`\nconnectd bench${QUICK ? ' --quick' : ''}: ${CONNECTIONS} connections, ${DURATION} s per scenario, loopback, ${startedAt.toISOString()}`);
  console.log(`machine: ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; server: ${entry.label}; log level ${LOG_LEVEL}`);
  console.table(
    figures.map((f) => ({
      scenario: f.name,
      rate: `${Math.round(f.rate).toLocaleString('en')} ${f.unit}`,
      ratio: fmt(f.ratio),
      'p50 ms': f.p50,
      'p50 ×': fmt(f.p50Ratio),
      'p99 ms': f.p99,
      'p99 ×': fmt(f.p99Ratio),
      'err/non-2xx': `${f.errors}/${f.non2xx}`,
      target: f.target ? `${f.target} ${f.met ? 'met' : 'MISSED'}` : f.id === 'webhooks' || f.id === 'webhook-drain' ? `${f.met ? 'met' : 'MISSED'}` : '',
    })),
  );
  const st = report.startup as { firstRunMedianMs: number; restartMedianMs: number; met: boolean } | undefined;
  if (st) console.log(`start-up to listening: first run median ${st.firstRunMedianMs} ms, restart median ${st.restartMedianMs} ms (target < 500 ms: ${st.met ? 'met' : 'MISSED'})`);
  const rss = report.rss as { idleMb: number | null; underLoadMaxMb: number; underLoadMaxMbByScenario: Record<string, number>; met: boolean } | undefined;
  if (rss) {
    const big = report.scaleRssMaxMb === undefined ? '' : `; the scale run's server (largest database) max ${String(report.scaleRssMaxMb)} MB`;
    const each = Object.entries(rss.underLoadMaxMbByScenario).map(([name, mb]) => `${name} ${mb}`).join(', ');
    console.log(`RSS of connectd: idle ${rss.idleMb ?? '?'} MB, under load max ${rss.underLoadMaxMb} MB (target < 150 MB: ${rss.met ? 'met' : 'MISSED'})${big}; peak per scenario (MB): ${each}`);
  }
  const wh = report.webhooks as Record<string, number> | undefined;
  if (wh) {
    console.log(
      `webhooks: ${wh.events} events from ${wh.exchangesPerS}/s exchanges; delivered ${wh.delivered} at ${wh.deliveredPerS}/s, commit-to-received p50 ${wh.commitToReceivedP50Ms} ms p99 ${wh.commitToReceivedP99Ms} ms (target p50 < 50 ms); backlog at the last exchange ${wh.backlogAtLastExchange}${wh.backlogDrainPerS ? ` drained at ${wh.backlogDrainPerS}/s` : ''}; lost ${wh.lost}, doubled ${wh.doubled}, bad signatures ${wh.badSignature}`,
    );
  }
  const wd = report.webhookDrain as Record<string, number | boolean> | undefined;
  if (wd) {
    console.log(
      `webhook drain: a backlog of ${String(wd.backlog)} events delivered by a worker process at ${String(wd.drainPerS)} events/s (target ≥ 5,000: ${wd.met ? 'met' : 'MISSED'}); all received ${String(wd.allReceivedAfterListeningMs)} ms after it was listening; lost ${String(wd.lost)}, doubled ${String(wd.doubled)}, bad signatures ${String(wd.badSignature)}`,
    );
  }
  const sc = report.scale as { rows: Array<Record<string, unknown>> } | undefined;
  for (const row of sc?.rows ?? []) {
    console.log(
      `scale ${Number(row.accounts).toLocaleString('en')} accounts (${Number(row.inserted).toLocaleString('en')} inserted in ${String(row.insertMs)} ms; ${Number(row.accountsAtExchange).toLocaleString('en')} at the exchange): GET /v1/account ${String(row.accountRps)} req/s, exchange ${String(row.exchangeRps)} req/s` +
        (row.accountSlowdown !== undefined ? `; slowdown vs ${Number(sc?.rows[0]?.accounts).toLocaleString('en')}: ${String(row.accountSlowdown)}× / ${String(row.exchangeSlowdown)}× (target ≤ 1.2: ${row.met ? 'met' : 'MISSED'})` : ''),
    );
  }
  const again = report.baselineAtEnd as Figure | undefined;
  if (again && hello) console.log(`Fastify hello-world again at the end: ${Math.round(again.rate)} req/s (${round2(again.rate / hello.rate)}× the baseline: the machine's drift during the run)`);
  console.log(`time per phase (s): ${phases.map((p) => `${p.name} ${p.seconds}`).join(', ')}`);
  for (const h of hangs) console.log(`!!! ${h.name} ignored SIGTERM for 5 s and was killed: ${h.diagnosis ?? ''}`);
  if (problems.length) {
    console.log(`\n!!!!!!!! THIS RUN HAD ${problems.length} PROBLEM(S): its figures are not clean !!!!!!!!`);
    for (const p of problems) console.log(`  !!! ${p}`);
  }
}

function write(totalS: number): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, 'latest.json');
  const json = {
    date: startedAt.toISOString(),
    mode: QUICK ? 'quick' : 'full',
    clean: problems.length === 0 && hangs.length === 0,
    problems,
    hangs,
    totalSeconds: round2(totalS),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version, platform: `${process.platform} ${process.arch}`, loadAverageAtEnd: loadavg().map(round2) },
    settings: { connections: CONNECTIONS, secondsPerScenario: DURATION, codes: CODES, webhookEvents: WEBHOOK_EVENTS, webhookBacklog: WEBHOOK_BACKLOG, scale: SCALE, logLevel: LOG_LEVEL, server: entry.label, postgres: PG_URL.replace(/\/\/[^@/]*@/, '//') },
    baseline: hello ?? null,
    figures: figures.map((f) => ({ ...f, rate: round2(f.rate), durationS: round2(f.durationS) })),
    phases,
    ...report,
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  return file;
}

// ---- main ------------------------------------------------------------------------------------

const t0 = performance.now();
let finished = false;
/** Results out, children gone, exit: at the end, or at the run's deadline whatever is still running. */
async function finish(): Promise<void> {
  if (finished) return;
  finished = true;
  await stopAll();
  ratios();
  print();
  const totalS = (performance.now() - t0) / 1000;
  const file = write(totalS);
  console.log(`\nwrote ${file} (${totalS.toFixed(1)} s)${problems.length || hangs.length ? ' — MARKED NOT CLEAN' : ''}`);
  removeDir(dir);
  // Nothing may keep the bench alive once its results are written (pipes are synchronous on Linux).
  process.exit(problems.length || hangs.length ? 1 : 0);
}
// Every phase is bounded on its own; this bounds their sum, whatever was missed.
const deadlineS = Number(process.env.BENCH_DEADLINE_SECONDS ?? (QUICK ? 600 : 3600));
setTimeout(() => {
  problem(`the run passed its ${deadlineS} s deadline (BENCH_DEADLINE_SECONDS) and was cut short`);
  void finish();
}, deadlineS * 1000).unref();
// A phase awaiting something that can no longer happen (the old bench waited for the 'exit' of a
// child already gone): Node would end silently with the results unwritten.
process.on('beforeExit', () => {
  if (finished) return;
  problem('the run stalled: a phase was waiting for something that can no longer happen');
  void finish();
});

progress(`server entry: ${entry.label}${QUICK ? '; quick run' : ''}`);
if (entry.stale) problem(entry.stale);
try {
  await scenario('baseline', baseline);
  await scenario('start-up', startup);
  if (!templateDb) throw new Error('the start-up run produced no database; nothing else can run');
  await scenario('main server', mainServer);
  await scenario('webhook drain', webhookDrain);
  await scenario('scale', scale);
  await scenario('postgres', postgres);
  if (!QUICK) {
    // The baseline again: how much the machine drifted during the run.
    await scenario('baseline again', async () => {
      const h = await startChild({ name: 'fastify-hello', argv: ['--import', 'tsx', HELLO] });
      try {
        report.baselineAtEnd = await load({ id: 'hello-end', name: 'Fastify hello-world (again, at the end)', connections: CONNECTIONS, durationS: DURATION, opts: { url: `${h.url}/` } });
      } finally {
        await stopChild(h);
      }
    });
  }
} catch (err) {
  problem(err instanceof Error ? err.message : String(err));
} finally {
  await finish();
}
