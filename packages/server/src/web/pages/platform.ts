// Platform settings: Connect client_ids, branding, redirect URIs, connected accounts.
import type { ConnectionWithNames } from '../../store/connections.ts';
import type { Platform } from '../../store/platforms.ts';
import type { AccountsTable } from '../../store/schema.ts';
import { html } from '../html.ts';
import { layout } from '../layout.ts';

export interface PlatformView {
  account: AccountsTable;
  platform: Platform | undefined;
  connections: ConnectionWithNames[];
  csrf: string;
  flash?: { kind: 'success' | 'error'; message: string } | null;
  publicUrl: string;
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
</section>`;
  return layout({
    title: 'Platform settings',
    account: { id: v.account.id, email: v.account.email },
    csrf: v.csrf,
    body: html`<h1>Platform settings</h1>
${v.flash ? html`<div class="alert ${v.flash.kind}" role="${v.flash.kind === 'error' ? 'alert' : 'status'}">${v.flash.message}</div>` : ''}
${body}`,
  });
}
