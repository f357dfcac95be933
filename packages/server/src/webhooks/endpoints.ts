// Webhook endpoints: the one URL rule and the one way to create an endpoint, for /v1/webhook_endpoints
// and the dashboard alike (docs/webhooks.md).
import { newWebhookSecret } from '../domain/ids.ts';
import type { Context } from '../context.ts';
import type { Db, WebhookEndpointsTable } from '../store/schema.ts';
import { insertEndpoint } from '../store/webhook-endpoints.ts';
import { refuseUrl } from './ssrf.ts';

export const MAX_URL_LENGTH = 2048;

/** An absolute http(s) URL with no user name or password in it, at most 2,048 characters. */
export function isWebhookUrl(u: string): boolean {
  if (u.length > MAX_URL_LENGTH) return false;
  try {
    const p = new URL(u);
    return (p.protocol === 'https:' || p.protocol === 'http:') && !p.username && !p.password;
  } catch {
    return false;
  }
}

export type UrlRefusal = { reason: 'https_required'; detail: null } | { reason: 'not_allowed'; detail: string };

/**
 * Where a well-formed URL may not receive events: live endpoints need https (test ones may use http
 * for local development), and the SSRF rules (webhooks/ssrf.ts; names are checked again at every send).
 */
export function refuseWebhookUrl(ctx: Context, u: string, livemode: boolean): UrlRefusal | null {
  if (livemode && !u.startsWith('https://')) return { reason: 'https_required', detail: null };
  const refused = refuseUrl(u, livemode, ctx.config.webhookPrivateTargets);
  return refused ? { reason: 'not_allowed', detail: refused } : null;
}

export interface EndpointInput {
  accountId: string;
  url: string;
  livemode: boolean;
  connect: boolean;
  enabledEvents: string[];
  description?: string | null;
}

/** Stores a new endpoint with a fresh signing secret; the secret is returned to be shown once. */
export async function createEndpoint(ctx: Context, db: Db, e: EndpointInput): Promise<{ endpoint: WebhookEndpointsTable; secret: string }> {
  const secret = newWebhookSecret();
  const endpoint = await insertEndpoint(db, ctx.sealKey, { ...e, secret, now: ctx.clock.now() });
  return { endpoint, secret };
}
