// The page shell shared by every server-rendered page.
import { html, type Html } from './html.ts';

export interface LayoutOptions {
  title: string;
  body: Html;
  narrow?: boolean;
  /** Pages with wide tables (platform settings). */
  wide?: boolean;
  /** Signed-in account, for the header navigation. */
  account?: { id: string; email: string } | null;
  csrf?: string;
  /** Extra stylesheet, e.g. a platform's brand colour on the consent page. */
  brandCss?: string;
}

export function layout(o: LayoutOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · connectd</title>
<link rel="stylesheet" href="/static/connectd.css">
${o.brandCss ? html`<link rel="stylesheet" href="${o.brandCss}">` : ''}
</head>
<body>
<header class="top">
  <a class="logo" href="/">connectd</a>
  <nav aria-label="Account">
    ${o.account
      ? html`<a href="/dashboard">Dashboard</a>
    <a href="/dashboard/platform">Platform settings</a>
    <a href="/dashboard/webhooks">Webhooks</a>
    <form method="post" action="/logout"><input type="hidden" name="_csrf" value="${o.csrf ?? ''}"><button class="link" type="submit">Sign out</button></form>`
      : html`<a href="/login">Sign in</a>`}
  </nav>
</header>
<main id="main" class="${o.narrow ? 'narrow' : o.wide ? 'wide' : ''}">
${o.body}
</main>
</body>
</html>`.value;
}

export function errorPage(title: string, message: string): string {
  return layout({
    title,
    narrow: true,
    body: html`<div class="card"><h1>${title}</h1><p role="alert">${message}</p><p><a href="/">Go to connectd</a></p></div>`,
  });
}
