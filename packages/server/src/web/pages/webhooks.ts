// Webhooks in the dashboard: endpoints, and per endpoint the delivery log with Resend, so a
// developer sees at a glance why their endpoint failed.
import type { DeliveryLogRow } from '../../store/deliveries.ts';
import type { AccountsTable, EventsTable, WebhookEndpointsTable } from '../../store/schema.ts';
import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';

export interface WebhooksView {
  account: AccountsTable;
  endpoints: Array<{ endpoint: WebhookEndpointsTable; deliveries: DeliveryLogRow[] }>;
  csrf: string;
  now: number;
  flash?: { kind: 'success' | 'error'; message: string } | null;
  /** A secret shown this once (new endpoint or roll). */
  revealedSecret?: string | null;
}

function when(t: number): string {
  return new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

function outcome(d: DeliveryLogRow, now: number): Html {
  if (d.status === 'succeeded') return html`<span class="badge live">Delivered</span>`;
  if (d.status === 'failed') return html`<span class="badge">Failed</span>`;
  const wait = Math.max(0, d.next_attempt_at - now);
  return html`<span class="badge">Pending</span> <span class="hint">${d.attempts === 0 ? 'sending' : `next retry in ${wait} s`}</span>`;
}

function deliveryRows(e: WebhookEndpointsTable, rows: DeliveryLogRow[], csrf: string, now: number): Html {
  if (rows.length === 0) return html`<p class="muted">No deliveries yet.</p>`;
  return html`<table><thead><tr><th scope="col">Event</th><th scope="col">Result</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Duration</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>
${rows.map(
  (d) => html`<tr data-delivery="${d.id}"><td><a href="/dashboard/events/${d.event_id}">${d.event_type}</a><br><span class="hint">${d.account_id} · ${when(d.created)}</span></td>
<td>${outcome(d, now)}</td><td>${d.attempts}</td>
<td>${d.last_status_code !== null ? html`HTTP ${d.last_status_code}` : d.last_error ? html`<span class="hint">${d.last_error}</span>` : '—'}</td>
<td>${d.last_duration_ms !== null ? `${d.last_duration_ms} ms` : '—'}</td>
<td><form method="post" action="/dashboard/webhooks/deliveries/${d.id}/resend"><input type="hidden" name="_csrf" value="${csrf}"><button class="secondary" type="submit" aria-label="Resend ${d.event_type} to ${e.url}">Resend</button></form></td></tr>`,
)}</tbody></table>`;
}

export function webhooksPage(v: WebhooksView): string {
  const hidden = html`<input type="hidden" name="_csrf" value="${v.csrf}">`;
  return layout({
    title: 'Webhooks',
    account: { id: v.account.id, email: v.account.email },
    csrf: v.csrf,
    body: html`<h1>Webhooks</h1>
${v.flash ? html`<div class="alert ${v.flash.kind}" role="${v.flash.kind === 'error' ? 'alert' : 'status'}">${v.flash.message}</div>` : ''}
${v.revealedSecret ? html`<div class="alert success" role="status">Signing secret &mdash; copy it now, it will not be shown again: <code id="new-secret">${v.revealedSecret}</code></div>` : ''}
<section class="card" aria-labelledby="add-h"><h2 id="add-h">Add an endpoint</h2>
<form method="post" action="/dashboard/webhooks">${hidden}
<label for="url">Endpoint URL</label><input id="url" name="url" type="url" required placeholder="http://127.0.0.1:4000/webhooks">
<label for="mode">Mode</label><select id="mode" name="mode"><option value="test">Test</option><option value="live">Live (https only)</option></select>
<p class="hint">Connect endpoints receive account.application.authorized and account.application.deauthorized for your connected accounts.</p>
<div class="actions"><button class="primary" type="submit">Add endpoint</button></div></form></section>
${v.endpoints.map(
  ({ endpoint: e, deliveries }) => html`<section class="card" aria-label="Endpoint ${e.url}" data-endpoint="${e.id}">
<h2><code>${e.url}</code></h2>
<p>${e.livemode ? html`<span class="badge live">Live</span>` : html`<span class="badge">Test</span>`} · ${e.status === 'enabled' ? 'Enabled' : 'Disabled'} · events: <code>${(JSON.parse(e.enabled_events) as string[]).join(', ')}</code> · <code>${e.id}</code>
${e.previous_secret_expires_at && e.previous_secret_expires_at > v.now ? html`<br><span class="hint">The previous secret also signs until ${when(e.previous_secret_expires_at)} UTC.</span>` : ''}</p>
<div class="actions">
<form method="post" action="/dashboard/webhooks/${e.id}/roll">${hidden}<button class="secondary" type="submit">Roll secret (24 h overlap)</button></form>
<form method="post" action="/dashboard/webhooks/${e.id}/${e.status === 'enabled' ? 'disable' : 'enable'}">${hidden}<button class="secondary" type="submit">${e.status === 'enabled' ? 'Disable' : 'Enable'}</button></form>
</div>
<h3>Recent deliveries</h3>
${deliveryRows(e, deliveries, v.csrf, v.now)}
</section>`,
)}`,
  });
}

export function eventPage(account: AccountsTable, csrf: string, event: EventsTable, json: unknown): string {
  return layout({
    title: `Event ${event.id}`,
    account: { id: account.id, email: account.email },
    csrf,
    body: html`<h1>${event.type}</h1><section class="card"><p><code>${event.id}</code> · ${when(event.created)} UTC · account <code>${event.account_id}</code></p>
<pre class="mono" id="event-json">${JSON.stringify(json, null, 2)}</pre><p><a href="/dashboard/webhooks">Back to webhooks</a></p></section>`,
  });
}
