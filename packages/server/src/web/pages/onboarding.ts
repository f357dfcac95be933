// The onboarding pages behind an Account Link (docs/contract.md Part B §8.3), branded for the
// platform like the consent page: one step at a time, progress on the side, what is still due.
import { TEST_BANK_ACCOUNT } from '../../domain/onboarding.ts';
import type { Platform } from '../../store/platforms.ts';
import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';
import { STEPS, type Flow, type Step } from '../onboarding.ts';

const STEP_TITLES: Record<Step, string> = {
  login: 'Your sign-in',
  business: 'Your business',
  bank: 'Payouts',
  review: 'Review and submit',
};

const REQUIREMENT_LABELS: Record<string, string> = {
  'business_profile.product_description': 'What the business sells',
  'business_profile.support_phone': 'Support phone number',
  'business_profile.url': 'Business website',
  external_account: 'Bank account for payouts',
  'tos_acceptance.date': 'Services agreement',
  'tos_acceptance.ip': 'Services agreement',
};

export interface OnboardingView {
  flow: Flow;
  step: Step;
  current: Step;
  due: string[];
  csrf: string;
  error?: { message: string; field?: string | undefined } | null;
  values?: Record<string, string>;
}

function header(platform: Platform, livemode: boolean): Html {
  const initial = platform.name.trim().charAt(0).toUpperCase() || '?';
  return html`<div class="brandbar" aria-hidden="true"></div>
<div class="platform">
  ${platform.icon_url ? html`<img src="${platform.icon_url}" alt="">` : html`<div class="mark" aria-hidden="true">${initial}</div>`}
  <div>
    <h1>Set up your account for ${platform.name}</h1>
    <p class="muted tight">${platform.name} uses connectd for payments and payouts
      ${livemode ? html`<span class="badge live">Live</span>` : html`<span class="badge">Test mode</span>`}</p>
  </div>
</div>`;
}

function progress(v: OnboardingView): Html {
  const base = `/setup/onboarding/${v.flow.row.id}`;
  const currentIndex = STEPS.indexOf(v.current);
  return html`<nav aria-label="Onboarding steps"><ol class="steps">${STEPS.map((s, i) => {
    const done = i < currentIndex;
    const here = s === v.step;
    const label = html`${STEP_TITLES[s]}${done ? html` <span class="visually-hidden">(done)</span>` : ''}`;
    return html`<li class="${done ? 'done' : here ? 'current' : ''}"${here ? html` aria-current="step"` : ''}>${(done || i === currentIndex) && !(s === 'login' && v.flow.account.password_hash !== null) ? html`<a href="${base}?step=${s}">${label}</a>` : label}</li>`;
  })}</ol></nav>`;
}

function dueList(due: string[]): Html {
  const labels = [...new Set(due.map((d) => REQUIREMENT_LABELS[d] ?? d))];
  return labels.length
    ? html`<section aria-labelledby="due-h" class="due"><h2 id="due-h">Still needed</h2><ul>${labels.map((l) => html`<li>${l}</li>`)}</ul></section>`
    : html`<section aria-labelledby="due-h" class="due"><h2 id="due-h">Still needed</h2><p class="muted">Nothing: review and submit.</p></section>`;
}

function field(v: OnboardingView, name: string, label: string, input: { type?: string; autocomplete?: string; value?: string | null; hint?: string; inputmode?: string }): Html {
  const invalid = v.error?.field === name;
  const value = v.values?.[name] ?? input.value ?? '';
  return html`<label for="${name}">${label}</label>
<input id="${name}" name="${name}" type="${input.type ?? 'text'}" required value="${value}"${input.autocomplete ? html` autocomplete="${input.autocomplete}"` : ''}${input.inputmode ? html` inputmode="${input.inputmode}"` : ''}${invalid ? html` aria-invalid="true" aria-describedby="form-error"` : input.hint ? html` aria-describedby="${name}-hint"` : ''}>
${input.hint ? html`<p class="hint" id="${name}-hint">${input.hint}</p>` : ''}`;
}

function stepForm(v: OnboardingView): Html {
  const base = `/setup/onboarding/${v.flow.row.id}`;
  const { account: a, onboarding: o } = v.flow;
  const csrf = html`<input type="hidden" name="_csrf" value="${v.csrf}">`;
  switch (v.step) {
    case 'login':
      return html`<form method="post" action="${base}/login">${csrf}
<p>You will sign in to your own connectd Dashboard with these.</p>
${field(v, 'email', 'Email', { type: 'email', autocomplete: 'email', value: a.email })}
${field(v, 'password', 'Password', { type: 'password', autocomplete: 'new-password', value: '', hint: 'At least 8 characters. Long passphrases are welcome.' })}
<div class="actions"><button class="primary" type="submit">Continue</button></div>
</form>`;
    case 'business': {
      const type = v.values?.business_type ?? o.business_type ?? 'individual';
      const types: Array<[string, string]> = [['individual', 'Individual or sole proprietor'], ['company', 'Company'], ['non_profit', 'Non-profit'], ['government_entity', 'Government entity']];
      return html`<form method="post" action="${base}/business">${csrf}
<fieldset><legend>Type of business</legend>
${types.map(([value, label]) => html`<label class="choice"><input type="radio" name="business_type" value="${value}"${value === type ? html` checked` : ''}> ${label}</label>`)}
</fieldset>
${field(v, 'business_name', 'Business name', { autocomplete: 'organization', value: a.business_name })}
${field(v, 'url', 'Business website', { type: 'url', autocomplete: 'url', value: a.url, hint: 'Where customers learn about what you sell.' })}
${field(v, 'product_description', 'What do you sell?', { value: o.product_description })}
${field(v, 'support_phone', 'Support phone number', { type: 'tel', autocomplete: 'tel', value: o.support_phone })}
<div class="actions"><button class="primary" type="submit">Continue</button></div>
</form>`;
    }
    case 'bank':
      return html`<form method="post" action="${base}/bank">${csrf}
<p>Where ${v.flow.platform.name} pays you out.</p>
${field(v, 'routing_number', 'Routing number', { inputmode: 'numeric', value: o.external_account?.routing_number ?? (v.flow.row.livemode === 0 ? TEST_BANK_ACCOUNT.routing_number : ''), hint: v.flow.row.livemode === 0 ? `Test mode: routing number ${TEST_BANK_ACCOUNT.routing_number}, account number 000123456789.` : undefined })}
${field(v, 'account_number', 'Account number', { inputmode: 'numeric', value: v.flow.row.livemode === 0 && !o.external_account ? '000123456789' : '' })}
<div class="actions"><button class="primary" type="submit">Continue</button></div>
</form>`;
    case 'review':
      return html`<dl class="summary">
<dt>Sign-in email</dt><dd>${a.email || '(none)'}</dd>
<dt>Business</dt><dd>${a.business_name ?? ''} (${o.business_type ?? ''})</dd>
<dt>Website</dt><dd>${a.url ?? ''}</dd>
<dt>Sells</dt><dd>${o.product_description ?? ''}</dd>
<dt>Support phone</dt><dd>${o.support_phone ?? ''}</dd>
<dt>Payouts to</dt><dd>${o.external_account ? html`${o.external_account.bank_name} &bull;&bull;&bull;&bull; ${o.external_account.last4}` : ''}</dd>
</dl>
<form method="post" action="${base}/finish">${csrf}
<label class="choice"><input type="checkbox" name="tos" value="accepted" required${v.error?.field === 'tos' ? html` aria-invalid="true" aria-describedby="form-error"` : ''}> I agree to the connectd Services Agreement, and I confirm the details above are correct.</label>
<div class="actions"><button class="primary" type="submit">Agree and submit</button></div>
</form>`;
  }
}

export function onboardingPage(v: OnboardingView): string {
  const base = `/setup/onboarding/${v.flow.row.id}`;
  const testMode = v.flow.row.livemode === 0;
  return layout({
    title: `Set up your account for ${v.flow.platform.name}`,
    brandCss: `/brand/${v.flow.platform.account_id}.css`,
    body: html`<div class="card">
${header(v.flow.platform, !testMode)}
<div class="onboarding">
  <div>
    ${progress(v)}
    ${dueList(v.due)}
  </div>
  <section aria-labelledby="step-h">
    <h2 id="step-h">${STEP_TITLES[v.step]}</h2>
    ${v.error ? html`<div class="alert error" role="alert" id="form-error">${v.error.message}</div>` : ''}
    ${stepForm(v)}
  </section>
</div>
${testMode
  ? html`<hr class="divider">
<form method="post" action="${base}/test-data">
  <input type="hidden" name="_csrf" value="${v.csrf}">
  <p class="muted">You're in test mode. Fill every missing detail with test data and finish at once.${v.flow.account.password_hash === null ? ' Without a password chosen first, the account will have no sign-in.' : ''}</p>
  <button class="secondary" type="submit">Use test data and finish</button>
</form>`
  : ''}
<p class="hint">Your progress is saved at each step. <a href="${v.flow.row.return_url}">Save and return to ${v.flow.platform.name}</a></p>
</div>`,
  });
}

