// One webhook POST over node:http(s), with the SSRF check applied to the address the socket
// connects to (a custom DNS lookup), no redirects followed, and a hard timeout.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { refuseAddress, refuseUrl } from './ssrf.ts';

export class RefusedTarget extends Error {}

export function postWebhook(url: string, body: string, headers: Record<string, string>, livemode: boolean, timeoutMs: number): Promise<number> {
  const literal = refuseUrl(url, livemode);
  if (literal) return Promise.reject(new RefusedTarget(literal));
  const target = new URL(url);
  const lookup: RequestOptions['lookup'] = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = addresses.filter((a) => refuseAddress(a.address, livemode) === null);
      if (allowed.length === 0) {
        return callback(new RefusedTarget(refuseAddress(addresses[0]?.address ?? '', livemode) ?? 'refused'), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      const first = allowed[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      { method: 'POST', lookup, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
