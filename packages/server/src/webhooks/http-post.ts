// One webhook POST over node:http(s), with the SSRF check applied to the address the socket
// connects to (a custom DNS lookup), no redirects followed, and a deadline on the whole exchange;
// and the keep-alive agents the worker sends through.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { refuseAddress, refuseUrl, type PrivateTargets } from './ssrf.ts';

/**
 * The one message recorded for a refused target, whatever the reason: no connection is attempted,
 * so the delivery log says nothing about the ports or services behind it (docs/webhooks.md).
 */
export const TARGET_NOT_ALLOWED = 'target not allowed';

export class RefusedTarget extends Error {
  constructor() {
    super(TARGET_NOT_ALLOWED);
  }
}

export interface TargetPolicy {
  livemode: boolean;
  privateTargets: PrivateTargets;
}

/** A dns.lookup that only ever hands the socket addresses the policy allows. */
export function guardedLookup(policy: TargetPolicy): NonNullable<RequestOptions['lookup']> {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = addresses.filter((a) => refuseAddress(a.address, policy.livemode, policy.privateTargets) === null);
      if (allowed.length === 0) return callback(new RefusedTarget(), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      const first = allowed[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

/** Idle keep-alive sockets are closed after this (a server's own idle timeout is often 5 s). */
const IDLE_SOCKET_MS = 4_000;

/**
 * Keep-alive agents for webhook sends (issue 8, docs/webhooks.md "Delivery"): one per endpoint and
 * target policy, so a socket opened under one policy is never reused under another, with at most
 * `maxSockets` connections (the per-endpoint cap). Every new connection goes through the guarded
 * lookup; a reused one was checked when it connected. Never the global agent, which
 * NODE_USE_ENV_PROXY (Node 24) may route through a proxy whose address, not the target's, the
 * lookup would then check; agents made here use no proxy from the environment.
 */
export class WebhookAgents {
  private readonly agents = new Map<string, { agent: HttpAgent; usedAt: number }>();

  constructor(private readonly maxSockets: number) {}

  get(endpointId: string, url: string, policy: TargetPolicy): HttpAgent {
    // Keyed by the whole URL: an endpoint moved to another URL gets new connections.
    const key = `${endpointId} ${policy.livemode ? 'live' : 'test'} ${policy.privateTargets} ${url}`;
    let entry = this.agents.get(key);
    if (!entry) {
      const options = { keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxSockets, timeout: IDLE_SOCKET_MS, lookup: guardedLookup(policy) };
      entry = { agent: /^https:/i.test(url) ? new HttpsAgent(options) : new HttpAgent(options), usedAt: 0 };
      this.agents.set(key, entry);
    }
    entry.usedAt = Date.now();
    return entry.agent;
  }

  /** Drops agents unused for `idleMs` (an endpoint gone quiet, deleted, or moved to another URL). */
  sweep(idleMs: number): void {
    const before = Date.now() - idleMs;
    for (const [key, entry] of this.agents) {
      if (entry.usedAt < before) {
        entry.agent.destroy();
        this.agents.delete(key);
      }
    }
  }

  destroy(): void {
    for (const entry of this.agents.values()) entry.agent.destroy();
    this.agents.clear();
  }
}

/**
 * POSTs `body`; resolves with the status code once the whole answer has arrived. With an `agent`
 * (WebhookAgents) the connection is kept alive for the next send; without one it is a fresh
 * connection closed afterwards.
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, policy: TargetPolicy, timeoutMs: number, agent?: HttpAgent): Promise<number> {
  // IP literals and localhost names never reach the lookup: they are refused here, before any socket.
  if (refuseUrl(url, policy.livemode, policy.privateTargets)) return Promise.reject(new RefusedTarget());
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // `agent: false` when none is given: never the global agent (see WebhookAgents).
    const req = send(
      target,
      { method: 'POST', agent: agent ?? false, lookup: guardedLookup(policy), headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on('end', () => {
          clearTimeout(deadline);
          resolve(res.statusCode ?? 0);
        });
        res.on('error', (err) => {
          clearTimeout(deadline);
          reject(err);
        });
      },
    );
    // `timeout` above fires only after a silent spell; the deadline bounds the whole exchange, so
    // an endpoint trickling bytes cannot outlive the delivery lease (docs/webhooks.md).
    const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    deadline.unref();
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => {
      clearTimeout(deadline);
      reject(err);
    });
    req.end(body);
  });
}
