// `npm run bench:profile -- <scenario>`: one scenario against a server run with --cpu-prof, then the
// profile's self-time shares by function and by package (issue 8: "profile again after each step").
// Scenarios: exchange, refresh, account, customer-get, customer-post, healthz. Environment:
// BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 50), BENCH_CODES (exchange, default 3000).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, load, mintCodes } from './lib/load.ts';
import { AUTH, CLIENT_ID, FORM, writeSeed } from './lib/platform.ts';
import { removeDir, serverEntry, startChild, stopChild } from './lib/proc.ts';

const scenario = process.argv[2] ?? 'exchange';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const CODES = Number(process.env.BENCH_CODES ?? 3000);

const dir = mkdtempSync(join(tmpdir(), 'connectd-profile-'));
const seed = writeSeed(dir, 'platform');
const profDir = join(dir, 'prof');
// BENCH_SOURCE=1 profiles the TypeScript sources through tsx: slower, but every frame names its
// own file (the bundle puts all of connectd in one).
const entry = process.env.BENCH_SOURCE ? { argv: ['--import', 'tsx', fileURLToPath(new URL('../packages/server/src/main.ts', import.meta.url))] } : serverEntry();
const serve = (profile: boolean) =>
  startChild({
    name: 'connectd',
    argv: [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), ...entry.argv, 'serve', '--port', '0', '--db', join(dir, 'db.sqlite'), '--secret-file', join(dir, 'db.key'), '--seed', seed, '--log-level', process.env.BENCH_LOG_LEVEL ?? 'warn', ...process.argv.slice(3)],
  });

// Setup (a connected account, a customer, the codes) on an unprofiled server; the profiled server
// then starts on the same database and only serves the measured load.
let s = await serve(false);
let c = new Client(s.url);
let account: string;
let refreshToken: string;
let customerId: string;
let codes: string[] = [];
try {
  const minted = await c.form('/v1/test_helpers/oauth/authorize', { client_id: CLIENT_ID, scope: 'read_write' }, AUTH);
  const token = await c.form('/oauth/token', { grant_type: 'authorization_code', code: String(minted.code) }, AUTH);
  account = String(token.stripe_user_id);
  refreshToken = String(token.refresh_token);
  const customer = await c.form('/v1/customers', { email: 'reader@example.com' }, { ...AUTH, 'stripe-account': account });
  customerId = String(customer.id);
  if (scenario === 'exchange') codes = await mintCodes(c, CODES, AUTH, CLIENT_ID);
} finally {
  c.close();
  await stopChild(s);
}
s = await serve(true);
c = new Client(s.url);
let figure;
// CPU time of the server process (user + system, from /proc): unlike the profile's wall-clock
// samples it does not grow when other processes compete for the cores.
const cpuMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
};
const cpuBefore = cpuMs(s.pid);
let cpuUsed: number;
try {
  const onBehalf = { ...AUTH, 'stripe-account': account };
  const base = { id: scenario, name: scenario, connections: CONNECTIONS, durationS: SECONDS };
  let i = 0;
  if (scenario === 'exchange') {
    figure = await load({ ...base, amount: codes.length, opts: { url: `${s.url}/oauth/token`, requests: [{ method: 'POST', headers: FORM, setupRequest: (r) => ({ ...r, body: `grant_type=authorization_code&code=${codes[i++ % codes.length] ?? ''}` }) }] } });
  } else if (scenario === 'refresh') {
    figure = await load({ ...base, opts: { url: `${s.url}/oauth/token`, method: 'POST', headers: FORM, body: `grant_type=refresh_token&refresh_token=${refreshToken}` } });
  } else if (scenario === 'account') {
    figure = await load({ ...base, opts: { url: `${s.url}/v1/account`, headers: onBehalf } });
  } else if (scenario === 'customer-get') {
    figure = await load({ ...base, opts: { url: `${s.url}/v1/customers/${customerId}`, headers: onBehalf } });
  } else if (scenario === 'customer-post') {
    const t = Date.now();
    figure = await load({ ...base, opts: { url: `${s.url}/v1/customers`, requests: [{ method: 'POST', setupRequest: (r) => ({ ...r, headers: { ...FORM, 'stripe-account': account, 'idempotency-key': `p-${t}-${i++}` }, body: 'email=buyer%40example.com&metadata[order]=42' }) }] } });
  } else {
    figure = await load({ ...base, opts: { url: `${s.url}/healthz` } });
  }
  cpuUsed = cpuMs(s.pid) - cpuBefore;
} finally {
  c.close();
  await stopChild(s);
}
process.stdout.write(`${JSON.stringify(figure)}\n`);

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const self = new Map<number, number>();
prof.samples.forEach((id, k) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[k] ?? 0)));
const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
const byFile = new Map<string, number>();
let busy = 0;
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0;
  if (n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)') continue;
  busy += t;
  const url = n.callFrame.url;
  const file = /\/packages\/server\/src\/(.*)$/.exec(url)?.[1];
  if (file) byFile.set(file, (byFile.get(file) ?? 0) + t);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith('node:') ? 'node-core' : url === '' ? n.callFrame.functionName : url.includes('connectd') ? 'connectd' : url);
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t);
  const key = `${n.callFrame.functionName || '(anon)'} ${url.split('/').slice(-1)[0]}:${n.callFrame.lineNumber}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
}
const total = figure && typeof figure === 'object' && 'total' in figure ? Number((figure as { total: number }).total) : 0;
const top = (m: Map<string, number>, k: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, t]) => `${((100 * t) / busy).toFixed(1).padStart(5)}%  ${(t / Math.max(1, total)).toFixed(0).padStart(5)} µs/req  ${name}`)
    .join('\n');
// Inclusive time per function (a function's own samples plus its callees'), counted once per stack.
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const ch of n.children ?? []) parent.set(ch, n.id);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const inclusive = new Map<string, number>();
for (const [id, t] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (!n) break;
    const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-1)[0]}:${n.callFrame.lineNumber}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + t);
  }
}
process.stdout.write(`server CPU ${(cpuUsed / 1000).toFixed(2)} s: ${((cpuUsed * 1000) / Math.max(1, total)).toFixed(0)} µs/request\n`);
process.stdout.write(`busy ${(busy / 1e6).toFixed(2)} s over ${total} requests: ${(busy / Math.max(1, total)).toFixed(0)} µs/request\n\nby package\n${top(byPkg, 15)}\n\nby connectd source file (self; BENCH_SOURCE=1)\n${top(byFile, 20)}\n\nby function (self)\n${top(byFn, 40)}\n\nby function (inclusive)\n${top(inclusive, Number(process.env.BENCH_INCLUSIVE ?? 60))}\n`);
removeDir(dir);
