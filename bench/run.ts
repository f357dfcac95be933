// `npm run bench`: throughput and latency of connectd's hot paths as ratios to a Fastify
// hello-world measured in the same run, on the same machine. Loopback only, bounded durations.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Options, type Result } from 'autocannon';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const MAIN = fileURLToPath(new URL('../packages/server/src/main.ts', import.meta.url));
const HELLO = fileURLToPath(new URL('./hello.ts', import.meta.url));

const SK = 'sk_test_BenchPlatform000000000000000000000000';
const CLIENT_ID = 'ca_BenchPlatformTest0000000000000000';
const seed = {
  accounts: [
    {
      id: 'acct_BenchPlatform0000',
      email: 'bench-platform@example.com',
      password: 'bench-platform-password',
      keys: { test_secret: SK },
      platform: { name: 'Bench', client_id_test: CLIENT_ID, redirect_uris: ['http://127.0.0.1:4000/callback'] },
    },
  ],
};

function start(args: string[]): Promise<{ url: string; child: ChildProcess; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m?.[1]) resolve({ url: m[1], child, ms: performance.now() - t0 });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

function load(opts: Options): Promise<Result> {
  progress(`loading ${opts.url}`);
  return new Promise((resolve, reject) => {
    const run = opts.amount ? { connections: CONNECTIONS, ...opts } : { connections: CONNECTIONS, duration: DURATION, ...opts };
    autocannon(run, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function post(url: string, body: Record<string, string>): Promise<Record<string, string>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${SK}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, string>;
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

const rows: Row[] = [];
const record = (name: string, r: Result) =>
  rows.push({ name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors });

const dir = mkdtempSync(join(tmpdir(), 'connectd-bench-'));
const seedFile = join(dir, 'seed.json');
writeFileSync(seedFile, JSON.stringify(seed));
const children: ChildProcess[] = [];
try {
  const hello = await start([HELLO]);
  children.push(hello.child);
  record('fastify hello-world (baseline)', await load({ url: `${hello.url}/` }));
  await stop(hello.child);

  // Start-up: first run (create, migrate, seed with a scrypt password hash), then restarts.
  const firstRuns: number[] = [];
  const restarts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const db = join(dir, `startup-${i}.sqlite`);
    for (const bucket of [firstRuns, restarts]) {
      const s = await start([MAIN, 'serve', '--port', '0', '--db', db, '--seed', seedFile, '--log-level', 'warn']);
      bucket.push(s.ms);
      await stop(s.child);
    }
  }

  const server = await start([MAIN, 'serve', '--port', '0', '--db', join(dir, 'bench.sqlite'), '--seed', seedFile, '--log-level', 'warn']);
  children.push(server.child);
  const base = server.url;

  record('GET /healthz', await load({ url: `${base}/healthz` }));

  // One connected account; then GET /v1/account as it, with the platform key + Stripe-Account.
  const first = await post(`${base}/v1/test_helpers/oauth/authorize`, { client_id: CLIENT_ID, scope: 'read_write' });
  await post(`${base}/oauth/token`, { grant_type: 'authorization_code', code: first.code ?? '' });
  record(
    'GET /v1/account (Stripe-Account)',
    await load({ url: `${base}/v1/account`, headers: { authorization: `Bearer ${SK}`, 'stripe-account': first.stripe_user_id ?? '' } }),
  );

  // POST /v1/customers for the connected account, each with a fresh Idempotency-Key.
  let idem = 0;
  record(
    'POST /v1/customers (Idempotency-Key)',
    await load({
      url: `${base}/v1/customers`,
      requests: [
        {
          method: 'POST',
          headers: { authorization: `Bearer ${SK}`, 'stripe-account': first.stripe_user_id ?? '', 'content-type': 'application/x-www-form-urlencoded' },
          setupRequest: (req) => ({
            ...req,
            headers: { ...req.headers, 'idempotency-key': `bench-${process.pid}-${idem++}` },
            body: 'email=buyer%40example.com&metadata[order]=42',
          }),
        },
      ],
    }),
  );

  // Code exchange: pre-mint codes, then each request exchanges a fresh one (durable SQLite,
  // hashed secrets, one transaction per exchange).
  const codes: string[] = [];
  for (let i = 0; i < Number(process.env.BENCH_CODES ?? 3000); i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, () => post(`${base}/v1/test_helpers/oauth/authorize`, { client_id: CLIENT_ID })));
    codes.push(...batch.map((b) => b.code ?? ''));
    if (codes.length % 1000 === 0) progress(`${codes.length} codes minted`);
  }
  let next = 0;
  record(
    'POST /oauth/token (code exchange)',
    await load({
      url: `${base}/oauth/token`,
      amount: codes.length,
      requests: [
        {
          method: 'POST',
          headers: { authorization: `Bearer ${SK}`, 'content-type': 'application/x-www-form-urlencoded' },
          setupRequest: (req) => ({ ...req, body: `grant_type=authorization_code&code=${codes[next++ % codes.length]}` }),
        },
      ],
    }),
  );

  const baseline = rows[0];
  const table = rows.map((r) => ({
    scenario: r.name,
    'req/s': Math.round(r.rps),
    'ratio to baseline': baseline ? (r.rps / baseline.rps).toFixed(2) : '-',
    'p50 ms': r.p50,
    'p99 ms': r.p99,
    'p99 ratio': baseline && baseline.p99 > 0 ? (r.p99 / baseline.p99).toFixed(1) : '-',
    'non-2xx': r.non2xx,
  }));
  console.log(`\nconnectd bench: ${CONNECTIONS} connections, ${DURATION} s per scenario, loopback, ${new Date().toISOString()}`);
  console.table(table);
  const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0);
  console.log(`start-up to listening, CLI through tsx: first run (create, migrate, seed) median ${median(firstRuns)} ms; restart median ${median(restarts)} ms`);
} finally {
  for (const c of children) await stop(c);
  rmSync(dir, { recursive: true, force: true });
}
