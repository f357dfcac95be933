// The merchant's dashboard: account, keys, connected platforms.
import type { ConnectionWithNames } from '../../store/connections.ts';
import type { AccountsTable, ApiKeysTable } from '../../store/schema.ts';
import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';

export interface ActivityCustomer {
  id: string;
  email: string | null;
  name: string | null;
  created: number;
}

export interface ActivityCharge {
  id: string;
  amount: number;
  currency: string;
  status: string;
  amount_refunded: number;
  description: string | null;
  created: number;
}

export interface DashboardView {
  account: AccountsTable;
  /** Test-mode data, including what connected platforms created for this account. */
  customers: ActivityCustomer[];
  charges: ActivityCharge[];
  keys: ApiKeysTable[];
  connections: ConnectionWithNames[];
  csrf: string;
  flash?: { kind: 'success' | 'error'; message: string } | null;
  /** A newly rolled key, shown this once. */
  revealedKey?: string | null;
}

/** A Unix time as its UTC day, YYYY-MM-DD. */
export function date(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 10);
}

function money(amount: number, currency: string): string {
  const zeroDecimal = ['jpy', 'krw', 'vnd', 'clp'].includes(currency);
  return `${(zeroDecimal ? amount : amount / 100).toFixed(zeroDecimal ? 0 : 2)} ${currency.toUpperCase()}`;
}

function activity(v: DashboardView): Html {
  return html`<section class="card" aria-labelledby="pay-h">
  <h2 id="pay-h">Payments <span class="badge">Test mode</span></h2>
  ${v.charges.length === 0
    ? html`<p class="muted">No payments yet.</p>`
    : html`<table><thead><tr><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Description</th><th scope="col">ID</th><th scope="col">Date</th></tr></thead><tbody>
${v.charges.map(
  (c) => html`<tr data-charge="${c.id}"><td>${money(c.amount, c.currency)}</td><td>${c.amount_refunded > 0 ? (c.amount_refunded === c.amount ? 'Refunded' : 'Partially refunded') : c.status === 'succeeded' ? 'Succeeded' : 'Failed'}</td>
<td>${c.description ?? ''}</td><td><code>${c.id}</code></td><td>${date(c.created)}</td></tr>`,
)}</tbody></table>`}
</section>
<section class="card" aria-labelledby="cus-h">
  <h2 id="cus-h">Customers <span class="badge">Test mode</span></h2>
  ${v.customers.length === 0
    ? html`<p class="muted">No customers yet.</p>`
    : html`<table><thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">ID</th><th scope="col">Created</th></tr></thead><tbody>
${v.customers.map((c) => html`<tr data-customer="${c.id}"><td>${c.name ?? ''}</td><td>${c.email ?? ''}</td><td><code>${c.id}</code></td><td>${date(c.created)}</td></tr>`)}
</tbody></table>`}
</section>`;
}

function keyRow(k: ApiKeysTable, csrf: string): Html {
  const label = `${k.mode === 'live' ? 'Live' : 'Test'} ${k.kind === 'secret' ? 'secret' : 'publishable'} key`;
  let value: Html;
  if (k.kind === 'publishable') value = html`<code>${k.revealable ?? ''}</code>`;
  else if (k.revealable) value = html`<details><summary>Reveal test key</summary><code data-key="test-secret">${k.revealable}</code></details>`;
  else value = html`<code>sk_live_&hellip;${k.last4}</code> <span class="hint">Live secret keys are shown once, when created.</span>`;
  const roll =
    k.kind === 'secret'
      ? html`<form method="post" action="/dashboard/keys/roll"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="mode" value="${k.mode}"><button class="secondary" type="submit">Roll key</button></form>`
      : '';
  return html`<tr><th scope="row">${label}</th><td>${value}</td><td>${roll}</td></tr>`;
}

export function dashboardPage(v: DashboardView): string {
  const a = v.account;
  return layout({
    title: 'Dashboard',
    account: { id: a.id, email: a.email },
    csrf: v.csrf,
    body: html`<h1>${a.business_name ?? a.email}</h1>
${v.flash ? html`<div class="alert ${v.flash.kind}" role="${v.flash.kind === 'error' ? 'alert' : 'status'}">${v.flash.message}</div>` : ''}
${v.revealedKey ? html`<div class="alert success" role="status">Your new key &mdash; copy it now, it will not be shown again: <code id="new-key">${v.revealedKey}</code></div>` : ''}
<section class="card" aria-labelledby="acct-h">
  <h2 id="acct-h">Account</h2>
  <p>Account ID <code id="account-id">${a.id}</code> · ${a.email} · ${a.country}</p>
</section>
<section class="card" aria-labelledby="keys-h">
  <h2 id="keys-h">API keys</h2>
  <table><thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
  <tbody>${v.keys.map((k) => keyRow(k, v.csrf))}</tbody></table>
</section>
<section class="card" aria-labelledby="conn-h">
  <h2 id="conn-h">Connected platforms</h2>
  ${v.connections.length === 0
    ? html`<p class="muted">No platform is connected to this account.</p>`
    : html`<table><thead><tr><th scope="col">Platform</th><th scope="col">Access</th><th scope="col">Mode</th><th scope="col">Since</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>
${v.connections.map(
  (c) => html`<tr data-connection="${c.id}"><td>${c.platform_name}</td><td>${c.scope === 'read_write' ? 'Read and write' : 'Read only'}</td>
<td>${c.livemode ? 'Live and test' : 'Test'}</td><td>${date(c.created)}</td>
<td><form method="post" action="/dashboard/connections/${c.id}/disconnect"><input type="hidden" name="_csrf" value="${v.csrf}">
<button class="danger" type="submit" aria-label="Disconnect ${c.platform_name}">Disconnect</button></form></td></tr>`,
)}</tbody></table>`}
</section>
${activity(v)}`,
  });
}
