// The authorize pages: who is asking, for what, for which account (docs/security-model.md UI-05).
import { scopeDescriptions } from '../../domain/scopes.ts';
import type { AuthorizeParams } from '../../oauth/authorize.ts';
import type { Platform } from '../../store/platforms.ts';
import type { AccountsTable } from '../../store/schema.ts';
import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';
import { loginForm, registerForm, type FormState } from './auth-forms.ts';

function platformHeader(platform: Platform, params: AuthorizeParams): Html {
  const initial = platform.name.trim().charAt(0).toUpperCase() || '?';
  return html`<div class="brandbar" aria-hidden="true"></div>
<div class="platform">
  ${platform.icon_url ? html`<img src="${platform.icon_url}" alt="">` : html`<div class="mark" aria-hidden="true">${initial}</div>`}
  <div>
    <h1>${platform.name}</h1>
    <p class="muted tight">wants to connect to your account
      ${params.mode === 'test' ? html`<span class="badge">Test mode</span>` : html`<span class="badge live">Live</span>`}</p>
  </div>
</div>`;
}

function grants(params: AuthorizeParams): Html {
  return html`<h2>${params.scope === 'read_write' ? 'This will let it:' : 'This will let it (read only):'}</h2>
<ul class="grants">${scopeDescriptions[params.scope].map((d) => html`<li>${d}</li>`)}</ul>
<p class="hint">You will be returned to <strong>${new URL(params.redirectUri).host}</strong>. You can disconnect at any time from your dashboard.</p>`;
}

export interface ConsentView {
  platform: Platform;
  params: AuthorizeParams;
  requestId: string;
  csrf: string;
  brandCss: string;
}

export function signInToConnectPage(v: ConsentView & { view: 'login' | 'register'; form: Omit<FormState, 'action' | 'csrf'> }): string {
  const base = `/oauth/consent/${v.requestId}`;
  // switch=1 keeps a signed-in user who chose "Use another account" on the forms (it is a no-op when signed out).
  const form =
    v.view === 'login'
      ? loginForm({ ...v.form, csrf: v.csrf, action: `${base}/login`, switchHref: `${base}?view=register&switch=1` })
      : registerForm({ ...v.form, csrf: v.csrf, action: `${base}/register`, switchHref: `${base}?view=login&switch=1` });
  const skip =
    v.params.mode === 'test'
      ? html`<hr class="divider">
<form method="post" action="${base}/skip">
  <input type="hidden" name="_csrf" value="${v.csrf}">
  <p class="muted">You're in test mode. Skip the form to create a new test account and connect it straight away.</p>
  <button class="secondary" type="submit">Skip this form</button>
</form>`
      : '';
  return layout({
    title: `Connect to ${v.platform.name}`,
    narrow: true,
    brandCss: v.brandCss,
    body: html`<section class="card" aria-labelledby="connect-title">
${platformHeader(v.platform, v.params)}
<h2 id="connect-title">${v.view === 'login' ? 'Sign in to connect your account' : 'Create an account to connect'}</h2>
${form}
${skip}
</section>`,
  });
}

export function consentPage(v: ConsentView & { account: AccountsTable }): string {
  const base = `/oauth/consent/${v.requestId}`;
  return layout({
    title: `Connect to ${v.platform.name}`,
    narrow: true,
    brandCss: v.brandCss,
    account: { id: v.account.id, email: v.account.email },
    csrf: v.csrf,
    body: html`<section class="card" aria-labelledby="consent-title">
${platformHeader(v.platform, v.params)}
<p id="consent-title">Connecting <strong>${v.account.business_name ?? v.account.email}</strong>
  <span class="muted">(${v.account.email}, <code>${v.account.id}</code>)</span></p>
${grants(v.params)}
<form method="post" action="${base}/decision">
  <input type="hidden" name="_csrf" value="${v.csrf}">
  <div class="actions">
    <button class="primary" type="submit" name="decision" value="allow">Connect my account</button>
    <button class="secondary" type="submit" name="decision" value="deny">Deny</button>
  </div>
</form>
<p class="hint">Not you? <a href="${base}?view=login&switch=1">Use another account</a>.</p>
${v.params.mode === 'test'
  ? html`<hr class="divider"><form method="post" action="${base}/skip"><input type="hidden" name="_csrf" value="${v.csrf}">
<p class="muted">Test mode: skip to connect a new, empty test account instead.</p>
<button class="secondary" type="submit">Skip this form</button></form>`
  : ''}
</section>`,
  });
}

/** Stripe's default test redirect target, connect/default/oauth/test (docs/contract.md Part B §1.3): shows the result. */
export function defaultRedirectPage(query: Record<string, unknown>): string {
  const str = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : null);
  const code = str('code');
  const error = str('error');
  return layout({
    title: 'Authorization result',
    narrow: true,
    body: html`<section class="card"><h1>${error ? 'Access was denied' : 'Authorization code'}</h1>
${error
  ? html`<p role="alert"><code>${error}</code>: ${str('error_description') ?? ''}</p>`
  : html`<p>Exchange this code at <code>POST /oauth/token</code> within a few minutes. It works once.</p>
<p><code id="code">${code ?? '(none)'}</code></p><p class="muted">Scope: <code>${str('scope') ?? ''}</code></p>`}
${str('state') ? html`<p class="muted">State: <code>${str('state')}</code></p>` : ''}
</section>`,
  });
}
