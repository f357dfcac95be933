// Sign-in and sign-up forms, used on their own pages and inside the authorize flow.
import { html, type Html } from '../html.ts';
import { COUNTRIES } from '../accounts.ts';

export interface FormState {
  csrf: string;
  action: string;
  error?: string | null;
  values?: { email?: string; business_name?: string; country?: string };
  /** Link to the other form (sign in ↔ sign up). */
  switchHref?: string;
}

function alert(error: string | null | undefined): Html | string {
  return error ? html`<div class="alert error" role="alert" id="form-error">${error}</div>` : '';
}

export function loginForm(s: FormState): Html {
  return html`${alert(s.error)}
<form method="post" action="${s.action}" aria-describedby="${s.error ? 'form-error' : ''}">
  <input type="hidden" name="_csrf" value="${s.csrf}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${s.values?.email ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <div class="actions">
    <button class="primary" type="submit">Sign in</button>
    ${s.switchHref ? html`<span class="muted">New here? <a href="${s.switchHref}">Create an account</a></span>` : ''}
  </div>
</form>`;
}

export function registerForm(s: FormState): Html {
  const country = s.values?.country ?? 'US';
  return html`${alert(s.error)}
<form method="post" action="${s.action}">
  <input type="hidden" name="_csrf" value="${s.csrf}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="email" required value="${s.values?.email ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" aria-describedby="password-hint">
  <p class="hint" id="password-hint">At least 8 characters. Long passphrases are welcome.</p>
  <label for="business_name">Business name</label>
  <input id="business_name" name="business_name" type="text" autocomplete="organization" required value="${s.values?.business_name ?? ''}">
  <label for="country">Country</label>
  <select id="country" name="country" autocomplete="country">
    ${COUNTRIES.map(([code, name]) => html`<option value="${code}"${code === country ? html` selected` : ''}>${name}</option>`)}
  </select>
  <div class="actions">
    <button class="primary" type="submit">Create account</button>
    ${s.switchHref ? html`<span class="muted">Already have an account? <a href="${s.switchHref}">Sign in</a></span>` : ''}
  </div>
</form>`;
}
