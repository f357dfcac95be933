// Child processes of the bench: start (time to "listening on"), stop with a deadline, never leave
// one behind. A child that ignores SIGTERM is a finding, so it is reported loudly, with a Node
// diagnostic report of what it still holds (open sockets, timers), before it is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = join(ROOT, 'packages/server/dist/main.js');
const SOURCE = join(ROOT, 'packages/server/src/main.ts');

/** Built JavaScript when the build produced it (what `npm start` runs), else the TypeScript through tsx. */
export function serverEntry(): { argv: string[]; label: string; stale: string | null } {
  // With the Node flag `npm start` and the connectd bin use (docs/configuration.md "Memory").
  if (existsSync(BUILT)) return { argv: ['--max-semi-space-size=8', BUILT], label: 'packages/server/dist/main.js (node --max-semi-space-size=8, as npm start)', stale: staleness() };
  return { argv: ['--import', 'tsx', SOURCE], label: 'packages/server/src/main.ts (node --import tsx)', stale: null };
}

function newest(path: string): { file: string; ms: number } {
  let best = { file: path, ms: 0 };
  for (const name of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, name.name);
    const cand = name.isDirectory() ? newest(p) : { file: p, ms: statSync(p).mtimeMs };
    if (cand.ms > best.ms) best = cand;
  }
  return best;
}

/** A build older than the sources measures old code: said loudly (`npm run build` refreshes it). */
function staleness(): string | null {
  const dist = dirname(BUILT);
  const built = Math.min(...readdirSync(dist).filter((f) => /\.(m?js)$/.test(f)).map((f) => statSync(join(dist, f)).mtimeMs));
  const src = newest(dirname(SOURCE));
  return src.ms > built ? `packages/server/dist is older than ${src.file.slice(ROOT.length)}: the bench measures an old build (run npm run build)` : null;
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  url: string;
  port: number;
  startMs: number;
  /** The last output lines, for error messages. */
  tail: () => string;
  reportDir: string | null;
}

export interface StopOutcome {
  name: string;
  exitedMs: number | null;
  killed: boolean;
  diagnosis: string | null;
}

const live = new Set<Child>();
/** Every child from spawn to exit, listening or not: the ones killed if the bench itself ends. */
const spawned = new Set<ChildProcess>();
/** Children that had to be SIGKILLed: printed with the results and marked in the JSON. */
export const hangs: StopOutcome[] = [];

function killAllNow(): void {
  for (const proc of spawned) {
    try {
      proc.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Synchronous clean-ups (temporary directories) also run when the bench is interrupted. */
export const cleanups: Array<() => void> = [];

// Whatever ends the bench (an error, Ctrl-C, a kill), it takes its children with it.
process.on('exit', () => {
  killAllNow();
  for (const fn of cleanups) fn();
});
/** Asynchronous clean-ups (a PostgreSQL schema) given up to 3 s when the bench is interrupted. */
export const interruptCleanups = new Set<() => Promise<unknown>>();

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`bench: ${sig}: killing ${spawned.size} child process(es)\n`);
    killAllNow();
    const limit = new Promise((r) => setTimeout(r, 3000));
    void Promise.race([Promise.allSettled([...interruptCleanups].map((fn) => fn())), limit]).then(() => process.exit(130));
  });
}

export interface StartOptions {
  name: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** Directory for a diagnostic report written on SIGUSR2 (used when the child does not stop). */
  reportDir?: string;
  timeoutMs?: number;
}

export function startChild(opts: StartOptions): Promise<Child> {
  const t0 = performance.now();
  const diag = opts.reportDir ? ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${opts.reportDir}`] : [];
  const proc = spawn(process.execPath, [...diag, ...opts.argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  const pid = proc.pid ?? -1;
  spawned.add(proc);
  proc.once('exit', () => spawned.delete(proc));
  let out = '';
  const keep = (d: Buffer) => {
    // Always drained: a child blocked on a full stdout pipe would look like a hang.
    out = (out + d.toString()).slice(-8000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return new Promise((resolve, reject) => {
    const child: Omit<Child, 'url' | 'port' | 'startMs'> = { name: opts.name, proc, pid, tail: () => out, reportDir: opts.reportDir ?? null };
    let done = false;
    const timer = setTimeout(() => fail(new Error(`${opts.name} did not start listening within ${opts.timeoutMs ?? 60_000} ms:\n${out}`)), opts.timeoutMs ?? 60_000);
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(err);
    };
    const onData = () => {
      const m = /listening on (http:\/\/[\d.]+:(\d+))/.exec(out);
      if (done || !m?.[1]) return;
      done = true;
      clearTimeout(timer);
      const full: Child = { ...child, url: m[1], port: Number(m[2]), startMs: performance.now() - t0 };
      live.add(full);
      proc.once('exit', () => live.delete(full));
      resolve(full);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('error', fail);
    proc.once('exit', (code, signal) => fail(new Error(`${opts.name} exited (${code ?? signal}) before listening:\n${out}`)));
  });
}

function exited(proc: ChildProcess, ms: number): Promise<boolean> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      proc.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(t);
      resolve(true);
    };
    proc.once('exit', onExit);
  });
}

/** Established TCP connections whose local port is `port` (IPv4 loopback; /proc/net/tcp). */
export function establishedTo(port: number): number {
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    return readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => {
        const f = l.trim().split(/\s+/);
        return f[1]?.endsWith(`:${hex}`) && f[3] === '01';
      }).length;
  } catch {
    return -1;
  }
}

interface Report {
  javascriptStack?: { message?: string; stack?: string[] };
  libuv?: Array<{ type: string; is_active: boolean; is_referenced?: boolean; localEndpoint?: { port?: number }; remoteEndpoint?: { port?: number }; firesInAbsoluteTime?: number }>;
}

/** What a child that ignored SIGTERM still holds: its diagnostic report, summarised. */
async function diagnose(child: Child): Promise<string> {
  const parts = [`${establishedTo(child.port)} TCP connection(s) to its port still established`];
  if (!child.reportDir) return parts.join('; ');
  const before = new Set(existsSync(child.reportDir) ? readdirSync(child.reportDir) : []);
  child.proc.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 1500));
  const fresh = existsSync(child.reportDir) ? readdirSync(child.reportDir).filter((f) => !before.has(f) && f.includes(String(child.pid))) : [];
  const file = fresh[0];
  if (!file) {
    parts.push('no diagnostic report on SIGUSR2 (its main thread is blocked, or it never ran its signal handlers)');
    return parts.join('; ');
  }
  const report = JSON.parse(readFileSync(join(child.reportDir, file), 'utf8')) as Report;
  const handles = (report.libuv ?? []).filter((h) => h.is_active);
  const counts = new Map<string, number>();
  for (const h of handles) {
    const k = h.type === 'tcp' ? `tcp ${h.localEndpoint?.port === child.port ? 'server-side' : `to port ${h.remoteEndpoint?.port ?? '?'}`}` : `${h.type}${h.is_referenced === false ? ' (unref)' : ''}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  parts.push(`active libuv handles: ${[...counts].map(([k, n]) => `${n}× ${k}`).join(', ') || 'none'}`);
  parts.push(`report ${join(child.reportDir, file)}`);
  return parts.join('; ');
}

/** SIGTERM, then SIGKILL after `graceMs`; a child that needed the SIGKILL is recorded in `hangs`. */
export async function stopChild(child: Child, graceMs = 5000): Promise<StopOutcome> {
  const t0 = performance.now();
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return { name: child.name, exitedMs: 0, killed: false, diagnosis: null };
  child.proc.kill('SIGTERM');
  if (await exited(child.proc, graceMs)) return { name: child.name, exitedMs: performance.now() - t0, killed: false, diagnosis: null };
  const diagnosis = await diagnose(child);
  child.proc.kill('SIGKILL');
  await exited(child.proc, 5000);
  const outcome = { name: child.name, exitedMs: null, killed: true, diagnosis };
  hangs.push(outcome);
  process.stderr.write(`\nbench: !!! ${child.name} (pid ${child.pid}) did not exit within ${graceMs} ms of SIGTERM; killed. ${diagnosis}\n\n`);
  return outcome;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c)));
}

/** Resident set size of a process in MB (/proc/<pid>/status VmRSS), or null when unavailable. */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
