// Webhooks in the dashboard: endpoints with their delivery logs, Resend, and the event page. The
// URL rule and endpoint creation are /v1's own (webhooks/endpoints.ts).
import { PageError } from '../../domain/errors.ts';
import { findOwnedDelivery, listRecentDeliveries, resend } from '../../store/deliveries.ts';
import { findPlatformEvent } from '../../store/events.ts';
import { findEndpoint, listEndpoints, updateEndpoint } from '../../store/webhook-endpoints.ts';
import { createEndpoint, isWebhookUrl, refuseWebhookUrl } from '../../webhooks/endpoints.ts';
import { eventObject } from '../../webhooks/events.ts';
import { rollEndpointSecret } from '../../webhooks/roll-secret.ts';
import { eventPage, webhooksPage } from '../pages/webhooks.ts';
import { htmlPage, seeOther, type Flash, type PageRequest, type PageResult, type PageRoute } from '../page-route.ts';
import { requireSignIn, signedInForm, type SignedIn } from '../page-session.ts';
import { flashOf } from './dashboard.ts';

async function webhooks(req: PageRequest, who: SignedIn, extra: { flash?: Flash; revealedSecret?: string | null } = {}, status = 200): Promise<PageResult> {
  const db = req.ctx.store.db;
  const endpoints = await listEndpoints(db, who.account.id);
  const logs = await listRecentDeliveries(db, endpoints.map((e) => e.id));
  const withLog = endpoints.map((endpoint) => ({ endpoint, deliveries: logs.get(endpoint.id) ?? [] }));
  return htmlPage(webhooksPage({ account: who.account, endpoints: withLog, csrf: who.session.csrf, now: req.ctx.clock.now(), ...extra }), status);
}

const refused = (message: string): { flash: Flash } => ({ flash: { kind: 'error', message } });

export const webhookRoutes: PageRoute[] = [
  {
    method: 'GET',
    path: '/dashboard/webhooks',
    handler: async (req) => webhooks(req, await requireSignIn(req), { flash: flashOf(req.query) }),
  },
  {
    // The dashboard adds Connect endpoints for every event type; /v1 can choose.
    method: 'POST',
    path: '/dashboard/webhooks',
    handler: async (req) => {
      const who = await signedInForm(req);
      const livemode = req.body.mode === 'live';
      const url = typeof req.body.url === 'string' ? req.body.url.trim() : '';
      if (!isWebhookUrl(url)) return webhooks(req, who, refused('Enter an http or https URL, without a user name or password.'), 400);
      const refusal = refuseWebhookUrl(req.ctx, url, livemode);
      if (refusal?.reason === 'https_required') return webhooks(req, who, refused('Live endpoints need an https URL.'), 400);
      if (refusal) return webhooks(req, who, refused(`That URL is not allowed: ${refusal.detail}.`), 400);
      const { secret } = await createEndpoint(req.ctx, req.ctx.store.db, { accountId: who.account.id, url, livemode, connect: true, enabledEvents: ['*'] });
      return webhooks(req, who, { flash: { kind: 'success', message: 'Endpoint added.' }, revealedSecret: secret });
    },
  },
  {
    method: 'POST',
    path: '/dashboard/webhooks/:id/:action',
    handler: async (req) => {
      const who = await signedInForm(req);
      const endpoint = await findEndpoint(req.ctx.store.db, who.account.id, req.path.id ?? '');
      if (!endpoint) throw new PageError(404, 'Not found', 'There is no such endpoint on your account.');
      const action = req.path.action;
      if (action === 'roll') {
        const secret = await rollEndpointSecret(req.ctx, who.account.id, endpoint.id);
        return webhooks(req, who, { flash: { kind: 'success', message: 'Secret rolled. The previous one keeps signing for 24 hours.' }, revealedSecret: secret });
      }
      if (action !== 'disable' && action !== 'enable') throw new PageError(404, 'Not found', 'Unknown action.');
      await updateEndpoint(req.ctx.store.db, endpoint.id, { status: action === 'disable' ? 'disabled' : 'enabled' });
      return seeOther('/dashboard/webhooks?done=saved');
    },
  },
  {
    method: 'POST',
    path: '/dashboard/webhooks/deliveries/:id/resend',
    handler: async (req) => {
      const who = await signedInForm(req);
      const owned = await findOwnedDelivery(req.ctx.store.db, who.account.id, req.path.id ?? '');
      if (!owned || !(await resend(req.ctx.store.db, owned, req.ctx.clock.now()))) throw new PageError(404, 'Not found', 'There is no such delivery on your account.');
      // Committed (a single statement): the worker sends it now rather than at its next poll.
      req.ctx.deliveryNotifier.notify();
      return seeOther('/dashboard/webhooks?done=resent');
    },
  },
  {
    method: 'GET',
    path: '/dashboard/events/:id',
    handler: async (req) => {
      const who = await requireSignIn(req);
      const event = await findPlatformEvent(req.ctx.store.db, who.account.id, req.path.id ?? '');
      if (!event) throw new PageError(404, 'Not found', 'There is no such event on your account.');
      return htmlPage(eventPage(who.account, who.session.csrf, event, eventObject(event)));
    },
  },
];
