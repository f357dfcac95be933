// `npm run demo`: connectd and the Roadrunner Rides demo platform (packages/demo-platform), wired to
// each other through packages/demo-platform/connectd-seed.json: a fixed client_id, secret key,
// redirect URI and webhook endpoint (README.md "Demo platform"). Both keep their data under
// ./data/demo; logs go to ./data/demo/*.log. Ctrl-C stops both.
//   npm run demo [-- --port 4242] [--connectd-port 12111] [--data ./data/demo]
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEED = join(ROOT, 'packages/demo-platform/connectd-seed.json');
const SEED_DEMO = '127.0.0.1:4242';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4242' },
    'connectd-port': { type: 'string', default: '12111' },
    data: { type: 'string', default: './data/demo' },
  },
});

function fail(message) {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}

const port = Number(values.port);
const connectdPort = Number(values['connectd-port']);
for (const [flag, p] of [['--port', port], ['--connectd-port', connectdPort]]) {
  if (!Number.isInteger(p) || p < 1 || p > 65535) fail(`${flag} ${p} is not a port`);
}
if (port === connectdPort) fail('--port and --connectd-port must differ');

function portFree(p) {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(p, '127.0.0.1', () => probe.close(() => done(true)));
  });
}
if (!(await portFree(connectdPort))) fail(`port ${connectdPort} is in use (is \`npm start\` running?); stop it or pass --connectd-port N`);
if (!(await portFree(port))) fail(`port ${port} is in use; stop what uses it or pass --port N`);

const data = resolve(values.data);
mkdirSync(data, { recursive: true });
// The seed registers the demo's redirect URI and webhook URL; another demo port rewrites them.
let seedPath = SEED;
if (port !== 4242) {
  seedPath = join(data, 'connectd-seed.json');
  writeFileSync(seedPath, readFileSync(SEED, 'utf8').replaceAll(SEED_DEMO, `127.0.0.1:${port}`));
}

const connectdUrl = `http://127.0.0.1:${connectdPort}`;
const demoUrl = `http://127.0.0.1:${port}`;
const children = [];

function start(name, args) {
  const logPath = join(data, `${name}.log`);
  const log = openSync(logPath, 'a');
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', log, log] });
  closeSync(log);
  children.push(child);
  child.once('error', (err) => stop(1, `${name} could not start: ${err.message}`));
  child.once('exit', (code, signal) => {
    if (stopping) return;
    const tail = readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
    stop(1, `${name} stopped (${signal ?? `exit ${code}`}); the end of ${logPath}:\n${tail}`);
  });
  return child;
}

let stopping = false;
function stop(code, message) {
  if (stopping) return;
  stopping = true;
  if (message) process.stderr.write(`demo: ${message}\n`);
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
  // A child that ignores SIGTERM for 5 s is killed.
  setTimeout(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 5000).unref();
}
// However this process ends (an exception included), its children end with it.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));

async function ready(what, url) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!stopping) stop(1, `${what} did not answer at ${url} within 30 s; see ${data}/*.log`);
  await new Promise(() => {}); // stop() ends the process once the children exit
}

start('connectd', [
  '--max-semi-space-size=8',
  'packages/server/bin/connectd.js',
  'serve',
  '--port', String(connectdPort),
  '--db', join(data, 'connectd.sqlite'),
  '--secret-file', join(data, 'connectd.key'),
  '--seed', seedPath,
  '--webhook-retry', 'fast',
]);
await ready('connectd', `${connectdUrl}/healthz`);
start('platform', [
  '--conditions=connectd-source',
  '--import', 'tsx',
  'packages/demo-platform/src/main.ts',
  '--port', String(port),
  '--connectd', connectdUrl,
  '--seed', seedPath,
  '--db', join(data, 'platform.sqlite'),
]);
await ready('the demo platform', `${demoUrl}/`);

const seed = JSON.parse(readFileSync(seedPath, 'utf8'));
const driver = seed.accounts.find((a) => !a.platform);
const platform = seed.accounts.find((a) => a.platform);
process.stdout.write(`Roadrunner Rides (demo platform)  ${demoUrl}
connectd                           ${connectdUrl}  (dashboard ${connectdUrl}/dashboard)

Open ${demoUrl}, sign in as a driver and click "Connect with Stripe".
On connectd, create an account, or sign in as ${driver.email} (password: ${driver.password}).
The platform's own connectd login: ${platform.email} (password: ${platform.password}).

Data and logs in ${data}. Ctrl-C stops both.
`);
