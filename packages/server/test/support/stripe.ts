// stripe-node pointed at a test server (or any origin in front of one, e.g. a proxy).
import Stripe from 'stripe';
import type { TestServer } from './server.ts';

export function sdk(server: TestServer | string, key: string, extra: Stripe.StripeConfig = {}): Stripe {
  const url = new URL(typeof server === 'string' ? server : server.url);
  return new Stripe(key, { host: url.hostname, port: Number(url.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false, ...extra });
}

/** stripe-node's webhook signature checks, which need no server and no real key. */
export const webhooks = new Stripe('sk_test_unused').webhooks;
