// One webhook POST over node:http(s), with the SSRF check applied to the address the socket
// connects to (a custom DNS lookup), no redirects followed, and a deadline on the whole exchange.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
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

export function postWebhook(url: string, body: string, headers: Record<string, string>, policy: TargetPolicy, timeoutMs: number): Promise<number> {
  // IP literals and localhost names never reach the lookup: they are refused here, before any socket.
  if (refuseUrl(url, policy.livemode, policy.privateTargets)) return Promise.reject(new RefusedTarget());
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // `agent: false`: never the global agent, which NODE_USE_ENV_PROXY (Node 24) may route through
    // a proxy whose address, not the target's, the lookup would then check.
    const req = send(
      target,
      { method: 'POST', agent: false, lookup: guardedLookup(policy), headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: timeoutMs },
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
