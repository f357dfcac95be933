// Platform settings: Connect client_ids, branding, redirect URIs, connected accounts, and the
// accounts the platform created through the API with their onboarding state and links.
import { capabilityState, parseOnboarding } from '../../domain/onboarding.ts';
import type { AccountLink } from '../../oauth/account-links.ts';
import type { ConnectionWithNames } from '../../store/connections.ts';
import type { Platform } from '../../store/platforms.ts';
import type { AccountsTable } from '../../store/schema.ts';
import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';
import { date } from './dashboard.ts';

/** An account the platform created with POST /v1/accounts; `connected` is false once its holder disconnected. */
export interface CreatedAccount {
  account: AccountsTable;
  connected: boolean;
}

export interface PlatformView {
  account: AccountsTable;
  platform: Platform | undefined;
  connections: ConnectionWithNames[];
  created: CreatedAccount[];
  csrf: string;
  flash?: { kind: 'success' | 'error'; message: string } | null;
  /** A link just created from this page, shown in this answer only (docs/contract.md Part B §8.3). */
  newLink?: { accountId: string; link: AccountLink } | null;
  publicUrl: string;
}

const detailsDue = (n: number) => (n === 1 ? '1 detail due' : `${n} details due`);

/** Where onboarding stands, from the account's onboarding record (docs/contract.md Part B §8.1). */
export function onboardingStatus(a: Pick<AccountsTable, 'url' | 'onboarding'>): Html {
  const o = parseOnboarding(a.onboarding);
  const { detailsSubmitted, enabled, due } = capabilityState(a.url, o);
  if (detailsSubmitted) return enabled ? html`Details submitted &mdash; charges and payouts enabled` : html`Details submitted &mdash; ${detailsDue(due.length)}`;
  if (!o?.link_created) return html`Onboarding not started`;
  return html`In progress &mdash; ${detailsDue(due.length)}`;
}

function createdAccountRow(c: CreatedAccount, csrf: string): Html {
  const a = c.account;
  const action = c.connected
    ? html`<form method="post" action="/dashboard/platform/accounts/${a.id}/link"><input type="hidden" name="_csrf" value="${csrf}">
<button class="secondary" type="submit" aria-label="Create onboarding link for ${a.id}">Create onboarding link</button></form>`
    : html`<span class="muted">Disconnected</span>`;
  return html`<tr data-account="${a.id}"><th scope="row"><code>${a.id}</code></th><td>${a.email || html`<span class="muted">(no email yet)</span>`}</td><td>${a.business_name ?? ''}</td>
<td>${a.test_only ? html`<span class="badge">Test</span>` : html`<span class="badge live">Live</span>`}</td><td>${date(a.created)}</td><td>${onboardingStatus(a)}</td><td>${action}</td></tr>`;
}

function createdAccounts(v: PlatformView): Html {
  return html`<section class="card" aria-labelledby="created-h"><h2 id="created-h">Accounts you created</h2>
<p class="hint">Standard accounts made with <code>POST /v1/accounts</code>. An onboarding link opens once, within 5 minutes, and comes back here.</p>
${v.created.length === 0
  ? html`<p class="muted">No account was created through the API yet.</p>`
  : html`<div class="table-wrap"><table><thead><tr><th scope="col">Account</th><th scope="col">Email</th><th scope="col">Business</th><th scope="col">Mode</th><th scope="col">Created</th><th scope="col">Onboarding</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>
${v.created.map((c) => createdAccountRow(c, v.csrf))}
</tbody></table></div>`}
</section>`;
}

/** The link just created: its URL is in this page only, so it says so. */
function newLinkAlert(n: { accountId: string; link: AccountLink }): Html {
  const minutes = Math.round((n.link.expires_at - n.link.created) / 60);
  return html`<div class="alert success" role="status" id="new-link"><p class="tight">Onboarding link for <code>${n.accountId}</code> created: valid for ${minutes} minutes, opens once. Open it, or give it to the account holder now &mdash; it will not be shown again.</p>
<p class="tight"><a id="onboarding-link" href="${n.link.url}"><code>${n.link.url}</code></a></p></div>`;
}

export function platformPage(v: PlatformView): string {
  const p = v.platform;
  const hidden = html`<input type="hidden" name="_csrf" value="${v.csrf}">`;
  const body = !p
    ? html`<section class="card"><h2>Enable Connect</h2>
<p>Let other businesses connect their accounts to yours with OAuth. You get a development and a live <code>client_id</code>.</p>
<form method="post" action="/dashboard/platform/enable">${hidden}<button class="primary" type="submit">Enable Connect</button></form></section>`
    : html`<section class="card" aria-labelledby="ids-h"><h2 id="ids-h">Client IDs</h2>
<table><tbody>
<tr><th scope="row">Development <span class="badge">Test</span></th><td><code id="client-id-test">${p.client_id_test}</code></td></tr>
<tr><th scope="row">Live <span class="badge live">Live</span></th><td><code id="client-id-live">${p.client_id_live}</code></td></tr>
</tbody></table>
<p class="hint">Send users to <code>${v.publicUrl}/oauth/authorize?response_type=code&amp;client_id=${p.client_id_test}&amp;scope=read_write</code></p>
</section>
<section class="card" aria-labelledby="brand-h"><h2 id="brand-h">Branding</h2>
<form method="post" action="/dashboard/platform/settings">${hidden}
<label for="name">Platform name</label><input id="name" name="name" type="text" required maxlength="100" value="${p.name}">
<label for="icon_url">Icon URL</label><input id="icon_url" name="icon_url" type="url" value="${p.icon_url ?? ''}" aria-describedby="icon-hint">
<p class="hint" id="icon-hint">A square image over https, shown on the consent page.</p>
<label for="brand_color">Brand colour</label><input id="brand_color" name="brand_color" type="text" pattern="#[0-9a-fA-F]{6}" value="${p.brand_color ?? ''}" aria-describedby="color-hint">
<p class="hint" id="color-hint">Six-digit hex, like #635bff.</p>
<div class="actions"><button class="primary" type="submit">Save branding</button></div>
</form></section>
<section class="card" aria-labelledby="uris-h"><h2 id="uris-h">Redirect URIs</h2>
<p class="hint">Matched exactly. The first is the default. Live mode needs https; the development client_id also accepts http on localhost, 127.0.0.1 and [::1].</p>
<ul>${p.redirect_uris.map(
        (u) => html`<li><code>${u}</code> <form method="post" action="/dashboard/platform/redirect-uris/remove" class="inline">${hidden}<input type="hidden" name="uri" value="${u}"><button class="link" type="submit" aria-label="Remove ${u}">Remove</button></form></li>`,
      )}</ul>
<form method="post" action="/dashboard/platform/redirect-uris/add">${hidden}
<label for="uri">Add a redirect URI</label><input id="uri" name="uri" type="url" required placeholder="https://example.com/stripe/callback">
<div class="actions"><button class="secondary" type="submit">Add URI</button></div></form></section>
<section class="card" aria-labelledby="accts-h"><h2 id="accts-h">Connected accounts</h2>
${v.connections.length === 0
  ? html`<p class="muted">No account is connected yet.</p>`
  : html`<table><thead><tr><th scope="col">Account</th><th scope="col">Email</th><th scope="col">Access</th><th scope="col">Mode</th></tr></thead><tbody>
${v.connections.map((c) => html`<tr><td><code>${c.account_id}</code></td><td>${c.account_email}</td><td>${c.scope}</td><td>${c.livemode ? 'Live and test' : 'Test'}</td></tr>`)}
</tbody></table>`}
</section>
${createdAccounts(v)}`;
  return layout({
    wide: true,
    title: 'Platform settings',
    account: { id: v.account.id, email: v.account.email },
    csrf: v.csrf,
    body: html`<h1>Platform settings</h1>
${v.flash ? html`<div class="alert ${v.flash.kind}" role="${v.flash.kind === 'error' ? 'alert' : 'status'}">${v.flash.message}</div>` : ''}
${v.newLink ? newLinkAlert(v.newLink) : ''}
${body}`,
  });
}
