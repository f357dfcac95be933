// The one stylesheet: small, system fonts, no third-party assets (docs/security-model.md UI-04).
export const STYLESHEET = `
:root { --brand: #635bff; --ink: #1a1f36; --muted: #5b6478; --line: #e3e8ee; --bg: #f6f9fc; --danger: #c0123c; --ok: #0a7d4f; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--brand); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid var(--brand); outline-offset: 2px; }
header.top { background: #fff; border-bottom: 1px solid var(--line); padding: .75rem 1.5rem; display: flex; align-items: center; justify-content: space-between; gap: 1rem; }
header.top .logo { font-weight: 700; letter-spacing: -.01em; color: var(--ink); text-decoration: none; }
header.top nav { display: flex; gap: 1rem; align-items: center; }
header.top form { margin: 0; }
main { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
main.narrow { max-width: 28rem; }
main.wide { max-width: 62rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 1.5rem; margin-bottom: 1.25rem; box-shadow: 0 1px 2px rgba(26,31,54,.06); }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
p.lead { color: var(--muted); margin-top: -.5rem; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input[type=text], input[type=email], input[type=password], input[type=url], input[type=tel], select { width: 100%; padding: .6rem .7rem; border: 1px solid #c4cbd6; border-radius: 8px; font: inherit; background: #fff; }
.hint { color: var(--muted); font-size: .875rem; margin: .25rem 0 0; }
button { font: inherit; font-weight: 600; padding: .6rem 1.1rem; border-radius: 8px; border: 1px solid transparent; cursor: pointer; }
button.primary { background: var(--brand); color: #fff; }
button.secondary { background: #fff; color: var(--ink); border-color: #c4cbd6; }
button.danger { background: #fff; color: var(--danger); border-color: var(--danger); }
button.link { background: none; border: none; color: var(--brand); padding: 0; font-weight: 500; text-decoration: underline; }
.actions { display: flex; gap: .75rem; margin-top: 1.25rem; flex-wrap: wrap; align-items: center; }
.alert { border-radius: 8px; padding: .75rem 1rem; margin-bottom: 1rem; }
.alert.error { background: #fdecef; color: var(--danger); border: 1px solid #f5c2cd; }
.alert.success { background: #e8f7f0; color: var(--ok); border: 1px solid #b4e2cc; }
.platform { display: flex; align-items: center; gap: .9rem; margin-bottom: 1rem; }
.platform img, .platform .mark { width: 48px; height: 48px; border-radius: 10px; }
.platform h1 { margin: 0 0 .2rem; }
form + p.hint { margin-top: 1rem; }
.platform .mark { background: var(--brand); color: #fff; display: grid; place-items: center; font-weight: 700; font-size: 1.3rem; }
.brandbar { height: 6px; background: var(--brand); border-radius: 12px 12px 0 0; margin: -1.5rem -1.5rem 1.25rem; }
ul.grants { padding-left: 1.2rem; }
ul.grants li { margin: .3rem 0; }
.badge { display: inline-block; font-size: .75rem; font-weight: 700; padding: .1rem .5rem; border-radius: 999px; background: #fff4d6; color: #8a5a00; vertical-align: middle; }
.badge.live { background: #e8f7f0; color: var(--ok); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .5rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .875rem; word-break: break-all; }
details summary { cursor: pointer; color: var(--brand); }
.muted { color: var(--muted); }
.tight { margin: 0; }
form.inline { display: inline; margin-left: .5rem; }
pre.mono { white-space: pre-wrap; background: var(--bg); border: 1px solid var(--line); padding: 1rem; border-radius: 8px; }
.divider { border: 0; border-top: 1px solid var(--line); margin: 1.25rem 0; }
.onboarding { display: grid; grid-template-columns: 14rem 1fr; gap: 1.5rem; }
@media (max-width: 40rem) { .onboarding { grid-template-columns: 1fr; } }
ol.steps { list-style: none; padding: 0; margin: 0 0 1.25rem; counter-reset: step; }
ol.steps li { counter-increment: step; padding: .35rem 0 .35rem 2rem; position: relative; color: var(--muted); }
ol.steps li::before { content: counter(step); position: absolute; left: 0; top: .35rem; width: 1.4rem; height: 1.4rem; border-radius: 50%; border: 2px solid var(--line); display: grid; place-items: center; font-size: .75rem; font-weight: 700; }
ol.steps li.done::before { content: "\\2713"; background: var(--ok); border-color: var(--ok); color: #fff; }
ol.steps li.current { color: var(--ink); font-weight: 600; }
ol.steps li.current::before { border-color: var(--brand); color: var(--brand); }
.due h2 { font-size: .95rem; }
.due ul { padding-left: 1.1rem; margin: 0; color: var(--muted); font-size: .9rem; }
fieldset { border: 0; padding: 0; margin: .75rem 0 0; }
legend { font-weight: 600; margin-bottom: .25rem; }
label.choice { font-weight: 400; display: flex; gap: .5rem; align-items: baseline; margin: .35rem 0; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0 0 1rem; }
dl.summary dt { color: var(--muted); }
dl.summary dd { margin: 0; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; }
th[scope=row] code { text-transform: none; letter-spacing: normal; color: var(--ink); word-break: normal; white-space: nowrap; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
