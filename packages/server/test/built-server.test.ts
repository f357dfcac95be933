// The built server (issue 8): `npm start` and the `connectd` bin run packages/server/dist, made by
// scripts/build.mjs, not TypeScript through tsx; and a SIGTERM ends the process even while clients
// keep their keep-alive connections open.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { A, testSeed } from './support/fixtures.ts';
import { sleep, waitUntil } from './support/wait.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY = join(ROOT, 'packages/server/dist/main.js');
const BIN = join(ROOT, 'packages/server/bin/connectd.js');
const run = promisify(execFile);

const dir = mkdtempSync(join(tmpdir(), 'connectd-built-'));
const seedFile = join(dir, 'seed.json');
writeFileSync(seedFile, JSON.stringify(testSeed()));

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}.key`, { force: true });
});

interface Built {
  url: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node packages/server/dist/main.js serve …` and waits for its "listening on" line. */
function startBuilt(args: string[], env: Record<string, string> = {}): Promise<Built> {
  const child = spawn(process.execPath, [ENTRY, 'serve', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /connectd listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve({ url: m[1], child, output: () => out, exited });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`the built server exited with ${code}:\n${out}`)));
  });
}

/** The script URLs a process ran, from Node's own coverage output (NODE_V8_COVERAGE). */
function scriptsRun(coverageDir: string): string[] {
  const urls: string[] = [];
  for (const file of readdirSync(coverageDir)) {
    const { result } = JSON.parse(readFileSync(join(coverageDir, file), 'utf8')) as { result: Array<{ url: string }> };
    urls.push(...result.map((r) => r.url));
  }
  return urls;
}

describe('the built server', () => {
  before(async () => {
    // A fresh checkout has no dist yet (or an edited one an old dist): build as `npm install` does.
    await run(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { cwd: ROOT });
  });

  it('starts from dist/main.js and serves /healthz, running no TypeScript', async () => {
    const coverage = join(dir, 'coverage-entry');
    const server = await startBuilt(['--db', join(dir, 'entry.sqlite'), '--seed', seedFile], { NODE_V8_COVERAGE: coverage });
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', database: 'sqlite' });
    assert.match(server.output(), new RegExp(A.clientIdTest));
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.output());
    const urls = scriptsRun(coverage);
    assert.ok(urls.some((u) => u.endsWith('/packages/server/dist/connectd.mjs')), 'the bundle ran');
    assert.deepEqual(urls.filter((u) => /\.ts$|\/tsx\//.test(u)), [], 'no TypeScript and no tsx');
  });

  it('the connectd bin and npm start run the built code', async () => {
    const coverage = join(dir, 'coverage-bin');
    const r = await run(process.execPath, [BIN, '--help'], { env: { ...process.env, NODE_V8_COVERAGE: coverage } });
    assert.match(r.stdout, /connectd serve/);
    assert.equal(r.stderr, '', 'a current build is not rebuilt');
    const urls = scriptsRun(coverage);
    assert.ok(urls.some((u) => u.endsWith('/packages/server/dist/connectd.mjs')), 'the bundle ran');
    assert.deepEqual(urls.filter((u) => /\.ts$|\/tsx\//.test(u)), [], 'no TypeScript and no tsx');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // Both start Node with the young-generation cap (docs/configuration.md "Memory").
    assert.equal(pkg.scripts.start, 'node --max-semi-space-size=8 packages/server/bin/connectd.js serve');
    assert.equal(readFileSync(BIN, 'utf8').split('\n')[0], '#!/usr/bin/env -S node --max-semi-space-size=8');
    // Run as an executable, through that first line.
    const direct = await run(BIN, ['--help'], { env: process.env });
    assert.match(direct.stdout, /connectd serve/);
    assert.match(pkg.scripts.prepare ?? '', /scripts\/build\.mjs/);
  });

  // Without the fix the process stayed up until Fastify's keepAliveTimeout (72 s) closed the
  // connection that was busy when SIGTERM arrived; the test's timeout is below that.
  it('exits on SIGTERM while a client keeps keep-alive connections open, closing them', { timeout: 45_000 }, async () => {
    const server = await startBuilt(['--db', join(dir, 'keepalive.sqlite'), '--seed', seedFile]);
    const { port, hostname } = new URL(server.url);
    const open = async (): Promise<{ socket: Socket; received: () => string; closed: Promise<unknown> }> => {
      const socket = connect(Number(port), hostname);
      await new Promise((r) => socket.once('connect', r));
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('error', () => undefined);
      return { socket, received: () => data, closed: new Promise((r) => socket.once('close', r)) };
    };
    // One connection idle (a request answered, kept alive), one busy when SIGTERM arrives.
    const idle = await open();
    idle.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    await waitUntil('the idle connection answered', () => (idle.received().includes('"status":"ok"') ? true : undefined));
    const busy = await open();
    const body = 'grant_type=authorization_code&code=ac_doesnotexist';
    busy.socket.write(`POST /oauth/token HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${A.testSecret}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await sleep(100);
    server.child.kill('SIGTERM');
    await waitUntil('the shutdown begun', () => (server.output().includes('shutting down') ? true : undefined));
    busy.socket.write(body.slice(10));
    // The request in flight is answered, then both connections are closed by the server and the
    // process exits; the client never closes them.
    await Promise.all([idle.closed, busy.closed]);
    assert.match(busy.received(), /^HTTP\/1\.1 400/, busy.received());
    assert.match(busy.received(), /Authorization code does not exist/);
    assert.equal(await server.exited, 0, server.output());
  });
});
