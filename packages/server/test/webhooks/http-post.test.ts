// One webhook POST (src/webhooks/http-post.ts): the timeout bounds the whole exchange, so an
// endpoint that trickles its answer a byte at a time cannot hold a delivery past its lease
// (docs/webhooks.md: success is a 2xx answered within 10 s, or the lease when shorter).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { postWebhook } from '../../src/webhooks/http-post.ts';

describe('postWebhook', () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/ok') return res.writeHead(204).end();
      // Headers at once, then one byte every 100 ms, never ending: never idle for long.
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'), 100);
      res.on('close', () => clearInterval(timer));
    });
  });
  let base = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const policy = { livemode: false, privateTargets: 'allow' } as const;

  it('answers the status of a prompt endpoint', async () => {
    assert.equal(await postWebhook(`${base}/ok`, '{}', {}, policy, 1000), 204);
  });

  it('gives up on an endpoint that trickles its answer, at the deadline', async () => {
    const outcome = await Promise.race([
      postWebhook(`${base}/trickle`, '{}', {}, policy, 500).then(
        (status) => `answered ${status}`,
        (err: Error) => err.message,
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still sending after 5 s'), 5000).unref()),
    ]);
    assert.match(outcome, /no complete answer within 500 ms/);
  });
});
