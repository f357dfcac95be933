// `node --import tsx bench/shutdown-probe.ts`: does connectd exit on SIGTERM while a request is in
// flight on a keep-alive connection? The client sends headers, SIGTERM arrives, then the body;
// the response comes back (with `Connection: keep-alive`) and the client keeps the idle
// connection open, as any pooled HTTP client does. Exit code 1 when the server had to be killed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, serverEntry, startChild, stopChild } from './lib/proc.ts';

const dir = mkdtempSync(join(tmpdir(), 'connectd-bench-probe-'));
const SK = 'sk_test_BenchPlatform000000000000000000000000';
const seed = {
  accounts: [{ id: 'acct_BenchPlatform0000', email: 'probe@example.com', password: 'probe-platform-password', keys: { test_secret: SK } }],
};
writeFileSync(join(dir, 'seed.json'), JSON.stringify(seed));
const grace = Number(process.env.PROBE_GRACE_MS ?? 8000);
const entry = serverEntry();
const s = await startChild({
  name: 'connectd',
  argv: [...entry.argv, 'serve', '--port', '0', '--db', join(dir, 'probe.sqlite'), '--seed', join(dir, 'seed.json'), '--secret-file', join(dir, 'probe.key'), '--log-level', 'info'],
  reportDir: dir,
});
const sock = connect(s.port, '127.0.0.1');
let got = '';
sock.on('data', (d: Buffer) => (got += d.toString()));
const body = 'email=probe%40example.com';
sock.write(
  `POST /v1/customers HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAuthorization: Bearer ${SK}\r\n` +
    `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
);
await new Promise((r) => setTimeout(r, 300));
const stopping = stopChild(s, grace);
await new Promise((r) => setTimeout(r, 500));
sock.write(body);
await new Promise((r) => setTimeout(r, 1000));
console.log(`server entry ${entry.label}`);
console.log(`in-flight request answered: ${got.split('\r\n')[0] ?? '(nothing)'}, Connection: ${/\r\nconnection: ([^\r]+)/i.exec(got)?.[1] ?? '(none)'}`);
const outcome = await stopping;
sock.destroy();
console.log(outcome.killed ? `HANG: not exited ${grace} ms after SIGTERM; ${outcome.diagnosis ?? ''}` : `exited ${Math.round(outcome.exitedMs ?? 0)} ms after SIGTERM`);
removeDir(dir);
process.exit(outcome.killed ? 1 : 0);
