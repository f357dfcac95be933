// Sign in, sign up, sign out, the front door, and the stylesheets.
import { findPlatform } from '../../store/platforms.ts';
import { FormError, login, registerAccount } from '../accounts.ts';
import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';
import { loginForm, registerForm } from '../pages/auth-forms.ts';
import { STYLESHEET } from '../styles.ts';
import { htmlPage, seeOther, type PageResult, type PageRoute } from '../page-route.ts';
import { currentSession, ensureSession, formSession, signIn } from '../page-session.ts';
import { endSession } from '../session.ts';
import { dashboard } from './dashboard.ts';

// Only same-site dashboard paths may be a post-login destination (docs/security-model.md AZ-16).
const safeNext = (v: unknown) => (typeof v === 'string' && /^\/dashboard(\/[a-z-]+)*$/.test(v) ? v : '/dashboard');

const authPage = (title: string, body: Html, status = 200): PageResult =>
  htmlPage(layout({ title, narrow: true, body: html`<section class="card"><h1>${title}</h1>${body}</section>` }), status);

export const registerValues = (body: Record<string, unknown>) => ({
  email: String(body.email ?? ''),
  business_name: String(body.business_name ?? ''),
  country: String(body.country ?? ''),
});

export const signInRoutes: PageRoute[] = [
  {
    method: 'GET',
    path: '/static/connectd.css',
    handler: async () => ({ kind: 'asset', contentType: 'text/css; charset=utf-8', body: STYLESHEET, cacheControl: 'public, max-age=3600' }),
  },
  {
    // The platform's brand colour for its consent page; anything unexpected gets the default.
    method: 'GET',
    path: '/brand/:id',
    handler: async (req) => {
      const id = req.path.id ?? '';
      const platform = /^acct_[A-Za-z0-9]+\.css$/.test(id) ? await findPlatform(req.ctx.store.db, id.slice(0, -4)) : undefined;
      const color = platform?.brand_color && /^#[0-9a-f]{6}$/.test(platform.brand_color) ? platform.brand_color : '#635bff';
      return { kind: 'asset', contentType: 'text/css; charset=utf-8', body: `:root { --brand: ${color}; }\n`, cacheControl: 'no-cache' };
    },
  },
  {
    method: 'GET',
    path: '/',
    handler: async (req) => seeOther((await currentSession(req))?.accountId ? '/dashboard' : '/login'),
  },
  {
    method: 'GET',
    path: '/login',
    handler: async (req) => {
      const session = await ensureSession(req);
      const next = safeNext(req.query.next);
      return authPage('Sign in', loginForm({ csrf: session.csrf, action: `/login?next=${encodeURIComponent(next)}`, switchHref: '/register' }));
    },
  },
  {
    method: 'POST',
    path: '/login',
    rateLimited: true,
    handler: async (req) => {
      const session = await formSession(req);
      try {
        const account = await login(req.ctx, req.body.email, req.body.password, req.ip);
        await signIn(req, session, account.id);
        return seeOther(safeNext(req.query.next));
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        const values = { email: typeof req.body.email === 'string' ? req.body.email : '' };
        return authPage('Sign in', loginForm({ csrf: session.csrf, action: '/login', error: err.message, values, switchHref: '/register' }), 400);
      }
    },
  },
  {
    method: 'GET',
    path: '/register',
    handler: async (req) => {
      const session = await ensureSession(req);
      return authPage('Create your account', registerForm({ csrf: session.csrf, action: '/register', switchHref: '/login' }));
    },
  },
  {
    method: 'POST',
    path: '/register',
    rateLimited: true,
    handler: async (req) => {
      const session = await formSession(req);
      const b = req.body;
      try {
        const { account, keys } = await registerAccount(req.ctx, { email: b.email, password: b.password, business_name: b.business_name, country: b.country });
        const next = await signIn(req, session, account.id);
        // The live secret key is shown this once, on the page that answers the registration.
        return dashboard(req, account, next.csrf, { revealedKey: keys.live_secret, flash: { kind: 'success', message: 'Welcome! Your account is ready.' } });
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        return authPage('Create your account', registerForm({ csrf: session.csrf, action: '/register', error: err.message, values: registerValues(b), switchHref: '/login' }), 400);
      }
    },
  },
  {
    method: 'POST',
    path: '/logout',
    handler: async (req) => {
      const session = await formSession(req);
      await endSession(req.ctx, session);
      req.clearCookie();
      return seeOther('/login');
    },
  },
];
