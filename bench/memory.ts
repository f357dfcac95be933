// `node --import tsx bench/memory.ts [scenario] [-- server flags…]`: the server's resident memory
// (docs/performance.md "Memory"). Starts a server on a fresh database (migrations, seed, one scrypt
// hash, as the bench's first start), samples VmRSS 0.5 s and 3 s after "listening", then runs one
// load scenario (account, healthz, customer-post, exchange of BENCH_CODES codes; BENCH_SECONDS, default 5, BENCH_CONNECTIONS,
// default 50), sampling VmRSS every 200 ms, and prints the peak with the rate of the same run.
// BENCH_ACCOUNTS=n first adds n connected accounts to the idle server's database (the bench's
// scale run). BENCH_SIGNINS=n signs in n times at once 1 s into the load (n scrypt checks).
// Node flags for the server: BENCH_NODE_FLAGS="--max-semi-space-size=2"; environment as usual.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, load, mintCodes } from './lib/load.ts';
import { AUTH, CLIENT_ID, FORM, writeSeed } from './lib/platform.ts';
import { populate } from './lib/populate.ts';
import { removeDir, rssMb, serverEntry, startChild, stopChild } from './lib/proc.ts';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const scenario = (dash === 0 ? undefined : args[0]) ?? 'account';
const serverFlags = dash >= 0 ? args.slice(dash + 1) : [];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 0);
const SIGNINS = Number(process.env.BENCH_SIGNINS ?? 0);
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

const dir = mkdtempSync(join(tmpdir(), 'connectd-memory-'));
const seed = writeSeed(dir, 'platform');

/** User + system CPU time of a process in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** VmRSS and its anonymous / file-backed / shared-memory parts, in MB. */
function status(pid: number): string {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) / 1024;
    return `VmRSS ${kb('VmRSS').toFixed(1)} MB (anon ${kb('RssAnon').toFixed(1)}, file ${kb('RssFile').toFixed(1)}, shmem ${kb('RssShmem').toFixed(1)}), threads ${/Threads:\s+(\d+)/.exec(s)?.[1] ?? '?'}`;
  } catch {
    return 'gone';
  }
}

/** The platform's sign-in form, in a fresh browser session: one scrypt check on the server. */
async function signIn(url: string): Promise<void> {
  const c = new Client(url);
  try {
    const page = await c.send('GET', '/login');
    const cookie = [page.headers['set-cookie'] ?? []].flat().map((l) => l.split(';')[0]).join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const body = new URLSearchParams({ _csrf: csrf, email: 'bench-platform@example.com', password: 'bench-platform-password' }).toString();
    const res = await c.send('POST', '/login', { cookie, origin: url, 'content-type': 'application/x-www-form-urlencoded' }, body);
    if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  } finally {
    c.close();
  }
}

const entry = serverEntry();
const s = await startChild({
  name: 'connectd',
  // The entry's own flags first: a flag given here comes later and wins.
  argv: [...entry.argv.slice(0, -1), ...NODE_FLAGS, ...entry.argv.slice(-1), 'serve', '--port', '0', '--db', join(dir, 'db.sqlite'), '--seed', seed, '--log-level', 'warn', ...serverFlags],
});
const c = new Client(s.url);
try {
  await new Promise((r) => setTimeout(r, 500));
  const idle = rssMb(s.pid) ?? 0;
  process.stdout.write(`idle 0.5 s: ${status(s.pid)}\n`);
  await new Promise((r) => setTimeout(r, 2500));
  process.stdout.write(`idle 3 s:   ${status(s.pid)}\n`);
  if (ACCOUNTS > 0) {
    populate(join(dir, 'db.sqlite'), 'acct_BenchPlatform0000', ACCOUNTS);
    process.stdout.write(`${ACCOUNTS} accounts added: ${status(s.pid)}\n`);
  }
  const minted = await c.form('/v1/test_helpers/oauth/authorize', { client_id: CLIENT_ID, scope: 'read_write' }, AUTH);
  const token = await c.form('/oauth/token', { grant_type: 'authorization_code', code: String(minted.code) }, AUTH);
  const onBehalf = { ...AUTH, 'stripe-account': String(token.stripe_user_id) };
  let peak = 0;
  const onSample = () => (peak = Math.max(peak, rssMb(s.pid) ?? 0));
  const base = { id: scenario, name: scenario, connections: CONNECTIONS, durationS: SECONDS, onSample };
  let i = 0;
  const t = Date.now();
  const codes = scenario === 'exchange' ? await mintCodes(c, Number(process.env.BENCH_CODES ?? 3000), AUTH, CLIENT_ID) : [];
  const cpu0 = cpuMs(s.pid);
  const signins = new Promise<void>((resolve, reject) => setTimeout(() => Promise.all(Array.from({ length: SIGNINS }, () => signIn(s.url))).then(() => resolve(), reject), 1000));
  const figure =
    scenario === 'exchange'
      ? await load({ ...base, amount: codes.length, opts: { url: `${s.url}/oauth/token`, requests: [{ method: 'POST', headers: FORM, setupRequest: (r) => ({ ...r, body: `grant_type=authorization_code&code=${codes[i++ % codes.length] ?? ''}` }) }] } })
      : scenario === 'healthz'
      ? await load({ ...base, opts: { url: `${s.url}/healthz` } })
      : scenario === 'customer-post'
        ? await load({ ...base, opts: { url: `${s.url}/v1/customers`, requests: [{ method: 'POST', setupRequest: (r) => ({ ...r, headers: { ...FORM, 'stripe-account': onBehalf['stripe-account'], 'idempotency-key': `m-${t}-${i++}` }, body: 'email=buyer%40example.com&metadata[order]=42' }) }] } })
        : await load({ ...base, opts: { url: `${s.url}/v1/account`, headers: onBehalf } });
  await signins;
  // Server CPU per request: steadier than req/s on a machine shared with other work.
  const cpuPerReq = ((cpuMs(s.pid) - cpu0) * 1000) / Math.max(1, figure.total);
  process.stdout.write(`after load: ${status(s.pid)}\n`);
  process.stdout.write(
    `${scenario}: ${figure.rate.toFixed(0)} req/s, p99 ${figure.p99} ms, ${figure.errors} errors, ${figure.non2xx} non-2xx, server CPU ${cpuPerReq.toFixed(0)} µs/request; RSS idle ${idle.toFixed(1)} MB, peak under load ${peak.toFixed(1)} MB\n`,
  );
} finally {
  c.close();
  await stopChild(s);
  removeDir(dir);
}
