// Receiving connectd's Connect webhooks and verifying them with stripe-node.
// Run: WEBHOOK_SECRET=whsec_… PORT=4000 node docs/examples/webhook-receiver.mjs
// then register http://127.0.0.1:4000/webhooks as a test-mode endpoint (dashboard → Webhooks).
import { createServer } from 'node:http';
import Stripe from 'stripe';

const stripe = new Stripe('sk_test_unused'); // constructEvent needs no key and makes no request
const secret = process.env.WEBHOOK_SECRET;
if (!secret) throw new Error('set WEBHOOK_SECRET (shown once when the endpoint is created)');
const seen = new Set(); // event ids already handled: deliveries are at-least-once

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let event;
    try {
      // The raw bytes, never re-serialized JSON: the signature covers them exactly.
      event = stripe.webhooks.constructEvent(Buffer.concat(chunks), req.headers['stripe-signature'] ?? '', secret);
    } catch (err) {
      res.writeHead(400).end(`bad signature: ${err.message}`);
      return;
    }
    if (!seen.has(event.id)) {
      seen.add(event.id);
      // event.account is the connected account; data.object is the application (your platform).
      if (event.type === 'account.application.deauthorized') console.log(`disconnected ${event.account}`);
      if (event.type === 'account.application.authorized') console.log(`connected ${event.account}`);
    }
    res.writeHead(200).end();
  });
});
server.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => console.log(`listening on ${process.env.PORT ?? 4000}`));
