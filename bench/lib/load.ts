// Load generation: autocannon for single-request scenarios, a closed loop of async workers for
// multi-step ones (the connect flow, webhook-producing exchanges), and a small keep-alive HTTP
// client whose sockets are closed before any server is stopped.
import { Agent, request } from 'node:http';
import autocannon, { type Instance, type Options, type Result } from 'autocannon';

export interface Figure {
  id: string;
  name: string;
  unit: 'req/s' | 'flows/s' | 'events/s';
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
  durationS: number;
  /** Filled in against the same-run Fastify hello-world. */
  ratio?: number | null;
  p50Ratio?: number | null;
  p99Ratio?: number | null;
  target?: string;
  met?: boolean | null;
  note?: string;
}

export const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

export interface LoadOptions {
  id: string;
  name: string;
  connections: number;
  durationS: number;
  /** Stop after this many requests instead of after durationS (pre-minted single-use codes). */
  amount?: number;
  /** Called every 200 ms during the load (RSS sampling). */
  onSample?: () => void;
  /** Several targets: autocannon spreads its connections over them (two server processes). */
  urls?: string[];
  opts: Omit<Options, 'connections' | 'duration' | 'amount' | 'url'> & { url?: string };
}

/** One autocannon phase. Bounded: an amount-based run that stalls is stopped after a cap. */
export function load(o: LoadOptions): Promise<Figure> {
  progress(`${o.name}: ${o.amount ? `${o.amount} requests` : `${o.durationS} s`}, ${o.connections} connections`);
  return new Promise((resolve, reject) => {
    const sampler = o.onSample ? setInterval(o.onSample, 200) : null;
    const run: Options = {
      ...o.opts,
      // autocannon accepts an array of URLs at run time; its type declarations say string only.
      url: (o.urls ?? o.opts.url ?? '') as unknown as string,
      connections: o.amount ? Math.min(o.connections, o.amount) : o.connections,
      // Stop checks happen at each sample: 250 ms keeps short phases close to their duration.
      sampleInt: 250,
      ...(o.amount ? { amount: o.amount } : { duration: o.durationS }),
    };
    const capMs = (o.amount ? 180 : o.durationS + 30) * 1000;
    const instance: Instance = autocannon(run, (err, r: Result) => {
      clearTimeout(cap);
      if (sampler) clearInterval(sampler);
      if (err) return reject(err);
      // autocannon closes its sockets when it reports (clients are destroyed before the callback).
      const durationS = r.duration > 0 ? r.duration : o.durationS;
      resolve({
        id: o.id,
        name: o.name,
        unit: 'req/s',
        rate: r.requests.total / durationS,
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: r.errors + r.timeouts,
        non2xx: r.non2xx,
        total: r.requests.total,
        durationS,
      });
    });
    const cap = setTimeout(() => {
      progress(`!!! ${o.name}: still running after ${capMs} ms; stopping it`);
      instance.stop();
    }, capMs);
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A keep-alive HTTP/1.1 client on its own agent; `close()` destroys every socket it opened. */
export class Client {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  constructor(readonly base: string) {}

  send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
    const url = new URL(path, this.base);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { method, agent: this.agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A form POST; throws unless the status is 2xx. */
  async form(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const res = await this.send('POST', path, { 'content-type': 'application/x-www-form-urlencoded', ...headers }, new URLSearchParams(fields).toString());
    if (res.status < 200 || res.status > 299) throw new Error(`POST ${path}: ${res.status} ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as Record<string, unknown>;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoopResult {
  completions: number[];
  latencies: number[];
  errors: number;
  firstError: string | null;
  durationS: number;
}

/**
 * `concurrency` workers each running `step` back to back until `durationS` has passed (or
 * `count` steps were started). A step throws to count as an error.
 */
export async function closedLoop(concurrency: number, limit: { durationS?: number; count?: number }, step: (i: number) => Promise<void>): Promise<LoopResult> {
  const t0 = performance.now();
  const deadline = limit.durationS !== undefined ? t0 + limit.durationS * 1000 : Infinity;
  const latencies: number[] = [];
  const completions: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let started = 0;
  const worker = async () => {
    while (performance.now() < deadline && (limit.count === undefined || started < limit.count)) {
      const i = started++;
      const s = performance.now();
      try {
        await step(i);
        const e = performance.now();
        latencies.push(e - s);
        completions.push(e);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  return { completions, latencies, errors, firstError, durationS: (performance.now() - t0) / 1000 };
}

/** Mints `n` single-use codes through the test helper, `concurrency` at a time. */
export async function mintCodes(client: Client, n: number, auth: Record<string, string>, clientId: string, concurrency = 16): Promise<string[]> {
  const codes: string[] = [];
  const r = await closedLoop(concurrency, { count: n }, async () => {
    const b = await client.form('/v1/test_helpers/oauth/authorize', { client_id: clientId, scope: 'read_write' }, auth);
    codes.push(String(b.code));
  });
  if (r.errors) throw new Error(`minting codes: ${r.errors} failed: ${r.firstError ?? ''}`);
  return codes;
}
