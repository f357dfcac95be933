// The demo's pages: server-rendered HTML and one small stylesheet. Each page says what just
// happened between the marketplace, the browser and connectd, so the demo teaches the flow.
import type Stripe from 'stripe';
import type { Connection, Driver, Step } from './db.ts';
import { html, type Safe } from './html.ts';

export const STYLESHEET = `
:root { --brand: #d9480f; --ink: #1f2430; --muted: #5d6677; --line: #e6e8ee; --bg: #fbf8f5; --ok: #0a7d4f; --warn: #b54708; --stripe: #635bff; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--brand); }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid var(--brand); outline-offset: 2px; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: .8rem 1.5rem; display: flex; justify-content: space-between; align-items: center; gap: 1rem; }
header .logo { font-weight: 800; color: var(--ink); text-decoration: none; letter-spacing: -.02em; }
header .logo span { color: var(--brand); }
header form { margin: 0; display: flex; gap: .75rem; align-items: center; color: var(--muted); }
main { max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 14px; padding: 1.5rem; margin-bottom: 1.25rem; box-shadow: 0 1px 2px rgba(31,36,48,.05); }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; letter-spacing: -.01em; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
h2.spaced { margin-top: 1.25rem; }
h3 { font-size: 1rem; margin: 0 0 .35rem; }
.options { display: grid; grid-template-columns: 1fr 1fr; gap: 1.25rem; }
@media (max-width: 40rem) { .options { grid-template-columns: 1fr; } }
.options form { margin: 0; }
.lead { color: var(--muted); margin: 0 0 1.25rem; }
label { display: block; font-weight: 600; margin: .8rem 0 .25rem; }
input[type=text], input[type=email] { width: 100%; padding: .6rem .7rem; border: 1px solid #c7ccd6; border-radius: 8px; font: inherit; }
button, .button { display: inline-block; font: inherit; font-weight: 600; padding: .6rem 1.1rem; border-radius: 8px; border: 1px solid transparent; cursor: pointer; text-decoration: none; }
.primary { background: var(--brand); color: #fff; }
.stripe { background: var(--stripe); color: #fff; }
.secondary { background: #fff; color: var(--ink); border-color: #c7ccd6; }
.danger { background: #fff; color: #b42318; border-color: #b42318; }
.link { background: none; border: none; padding: 0; color: var(--brand); font-weight: 500; text-decoration: underline; }
.actions { display: flex; gap: .75rem; margin-top: 1.25rem; align-items: center; flex-wrap: wrap; }
.badge { display: inline-block; font-size: .8rem; font-weight: 700; padding: .15rem .55rem; border-radius: 999px; }
.badge.on { background: #e3f6ec; color: var(--ok); }
.badge.off { background: #f1f2f5; color: var(--muted); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.25rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; font-weight: 500; overflow-wrap: anywhere; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, monospace; background: #f4f1ee; padding: .05rem .3rem; border-radius: 4px; overflow-wrap: anywhere; }
.alert { border-radius: 8px; padding: .75rem 1rem; margin-bottom: 1rem; border: 1px solid; }
.alert.error { background: #fef3f2; color: #b42318; border-color: #fecdca; }
.alert.info { background: #f0f4ff; color: #3538cd; border-color: #c7d7fe; }
ol.steps { list-style: none; margin: 0; padding: 0; }
ol.steps li { border-left: 3px solid var(--line); padding: .1rem 0 .9rem 1rem; position: relative; }
ol.steps li::before { content: ""; position: absolute; left: -7px; top: .45rem; width: 11px; height: 11px; border-radius: 50%; background: var(--muted); }
ol.steps li.ok::before { background: var(--ok); }
ol.steps li.warn::before { background: var(--warn); }
ol.steps .title { font-weight: 600; }
ol.steps .detail { color: var(--muted); font-size: .92rem; margin: .1rem 0 0; }
ol.steps time { color: var(--muted); font-size: .8rem; }
.muted { color: var(--muted); }
`;

function layout(title: string, body: Safe, who?: { driver: Driver; csrf: string }): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Roadrunner Rides</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header>
  <a class="logo" href="/">Roadrunner <span>Rides</span></a>
  ${who ? html`<form method="post" action="/sign-out"><span>${who.driver.name}</span><input type="hidden" name="csrf" value="${who.csrf}"><button class="link" type="submit">Sign out</button></form>` : ''}
</header>
<main>
${body}
</main>
</body>
</html>`.html;
}

export function signInPage(error?: string): string {
  return layout(
    'Sign in',
    html`<section class="card" aria-labelledby="welcome">
  <h1 id="welcome">Drive with Roadrunner, get paid through Stripe</h1>
  <p class="lead">A demo marketplace built on platform-kit. Sign in as a driver (no password: this is a demo), then connect a Stripe account to receive payouts. The "Stripe" here is connectd, running on this machine.</p>
  ${error ? html`<div class="alert error" role="alert">${error}</div>` : ''}
  <form method="post" action="/sign-in">
    <label for="name">Your name</label>
    <input id="name" name="name" type="text" autocomplete="name" required maxlength="100" value="Dana Driver">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="email" required maxlength="200" value="driver@example.com">
    <div class="actions"><button class="primary" type="submit">Sign in as a driver</button></div>
  </form>
</section>`,
  );
}

export interface DriverView {
  who: { driver: Driver; csrf: string };
  connection?: Connection;
  account?: Stripe.Account;
  accountError?: string;
  notice?: string;
  steps: Step[];
  connectBase: string;
}

function accountCard(v: DriverView): Safe {
  const c = v.connection;
  if (!c) {
    return html`<section class="card" aria-labelledby="payouts">
  <h2 id="payouts">Payouts <span class="badge off">Not connected</span></h2>
  <p>To get paid, you need a Stripe account. Two ways, both through connectd:</p>
  <div class="options">
    <div>
      <h3>You have an account</h3>
      <p class="muted">Sign in on connectd (or create an account there) and allow Roadrunner Rides to manage payments for you: Connect's OAuth flow.</p>
      <a class="button stripe" href="/connect/start">Connect with Stripe</a>
    </div>
    <div>
      <h3>Start a new one</h3>
      <p class="muted">Roadrunner Rides creates an account for you and sends you to connectd's onboarding pages: the Accounts API and an Account Link.</p>
      <form method="post" action="/connect/onboard"><input type="hidden" name="csrf" value="${v.who.csrf}"><button class="stripe" type="submit">Set up payouts</button></form>
    </div>
  </div>
</section>`;
  }
  const a = v.account;
  return html`<section class="card" aria-labelledby="payouts">
  <h2 id="payouts">Payouts <span class="badge on">Connected</span></h2>
  <dl>
    <dt>Connected account</dt><dd><code data-testid="account-id">${c.stripe_user_id}</code></dd>
    <dt>Connected through</dt><dd>${c.via === 'account_links' ? 'the Accounts API and an Account Link' : 'OAuth'}</dd>
    <dt>Scope</dt><dd><code>${c.scope}</code></dd>
    <dt>Mode</dt><dd>${c.livemode ? 'live' : 'test'}</dd>
  </dl>
  ${
    c.via === 'account_links' && a && !a.details_submitted
      ? html`<div class="alert info" role="status">Onboarding is not finished: charges and payouts stay off until it is.</div>
  <form method="post" action="/connect/onboard" class="actions"><input type="hidden" name="csrf" value="${v.who.csrf}"><button class="stripe" type="submit">Continue setting up payouts</button></form>`
      : ''
  }
  <h2 class="spaced">The account, fetched with <code>Stripe-Account</code></h2>
  ${
    a
      ? html`<p class="muted">GET /v1/account with the platform's secret key and <code>Stripe-Account: ${c.stripe_user_id}</code>, on every visit to this page.</p>
  <dl>
    <dt>Business name</dt><dd>${a.business_profile?.name ?? a.settings?.dashboard?.display_name ?? '—'}</dd>
    <dt>Email</dt><dd>${a.email ?? '—'}</dd>
    <dt>Country</dt><dd>${a.country ?? '—'}</dd>
    <dt>Details submitted</dt><dd>${a.details_submitted ? 'yes' : 'no'}</dd>
    <dt>Charges enabled</dt><dd>${a.charges_enabled ? 'yes' : 'no'}</dd>
    <dt>Payouts enabled</dt><dd>${a.payouts_enabled ? 'yes' : 'no'}</dd>
  </dl>`
      : html`<div class="alert error" role="alert">Could not fetch the account: ${v.accountError ?? 'unknown error'}</div>`
  }
  <form method="post" action="/disconnect" class="actions">
    <input type="hidden" name="csrf" value="${v.who.csrf}">
    <button class="danger" type="submit">Disconnect</button>
    <span class="muted">or disconnect from <a href="${v.connectBase}/dashboard">your connectd dashboard</a>; the webhook tells us.</span>
  </form>
</section>`;
}

function stepsCard(steps: Step[]): Safe {
  return html`<section class="card" aria-labelledby="happened">
  <h2 id="happened">What happened</h2>
  ${
    steps.length
      ? html`<ol class="steps">${steps.map(
          (s) => html`<li class="${s.tone}"><time datetime="${new Date(s.at * 1000).toISOString()}">${new Date(s.at * 1000).toISOString().slice(11, 19)} UTC</time>
  <div class="title">${s.title}</div><p class="detail">${s.detail}</p></li>`,
        )}</ol>`
      : html`<p class="muted">Nothing yet. Each step of the connection (the redirect, the exchange, the webhook) shows up here, newest first.</p>`
  }
  <p class="muted">Disconnected on connectd? <a href="/driver">Reload</a> to see the webhook's effect.</p>
</section>`;
}

export function driverPage(v: DriverView): string {
  return layout(
    'Your driver account',
    html`<h1>Hi ${v.who.driver.name}</h1>
<p class="lead">Signed in as ${v.who.driver.email}.</p>
${v.notice ? html`<div class="alert info" role="status">${v.notice}</div>` : ''}
${accountCard(v)}
${stepsCard(v.steps)}`,
    v.who,
  );
}

export function problemPage(title: string, text: string, who?: { driver: Driver; csrf: string }): string {
  return layout(title, html`<section class="card" role="alert"><h1>${title}</h1><p>${text}</p><div class="actions"><a class="button secondary" href="/">Back to Roadrunner Rides</a></div></section>`, who);
}
