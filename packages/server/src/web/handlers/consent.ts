// The authorize interaction in the browser (docs/contract.md Part B §1.6): validate, then
// sign in or sign up, then allow or deny. The record and its rules are in oauth/interaction.ts.
import { PageError } from '../../domain/errors.ts';
import { validateAuthorizeRequest } from '../../oauth/authorize.ts';
import { allow, beginInteraction, canSkipConsent, deny, issueCode, loadInteraction, skipForm, type Interaction } from '../../oauth/interaction.ts';
import { findAccount } from '../../store/accounts.ts';
import { FormError, login, registerAccount } from '../accounts.ts';
import { consentPage, defaultRedirectPage, signInToConnectPage, type ConsentView } from '../pages/consent.ts';
import { htmlPage, seeOther, type PageRequest, type PageRoute } from '../page-route.ts';
import { countAnonymousRow, currentSession, ensureSession, formSession, signIn } from '../page-session.ts';
import type { Session } from '../session.ts';
import { registerValues } from './sign-in.ts';

const view = (i: Interaction, session: Session | null): ConsentView => ({
  platform: i.platform,
  params: i.params,
  requestId: i.id,
  csrf: session?.csrf ?? '',
  brandCss: `/brand/${i.platform.account_id}.css`,
});

/** A consent form: CSRF, then the interaction this session began. */
async function consentForm(req: PageRequest): Promise<{ session: Session; interaction: Interaction }> {
  const session = await formSession(req);
  return { session, interaction: await loadInteraction(req.ctx, req.path.id ?? '', session.hash) };
}

const backToConsent = (i: Interaction) => seeOther(`/oauth/consent/${i.id}`);

export const consentRoutes: PageRoute[] = [
  {
    method: 'GET',
    path: '/oauth/authorize',
    handler: async (req) => {
      const { params } = await validateAuthorizeRequest(req.ctx, req.query);
      const existing = await currentSession(req);
      // Already connected and always_prompt is not true: skip the confirmation (docs/contract.md Part A "Already connected").
      if (existing?.accountId && (await canSkipConsent(req.ctx, params, existing.accountId))) {
        const { redirectUrl } = await issueCode(req.ctx.store.db, req.ctx, params, existing.accountId);
        return { kind: 'redirect', location: redirectUrl, status: 302 };
      }
      const session = existing ?? (await ensureSession(req));
      if (!session.accountId) await countAnonymousRow(req);
      return seeOther(`/oauth/consent/${await beginInteraction(req.ctx, params, session.hash)}`);
    },
  },
  {
    method: 'GET',
    path: '/oauth/consent/:id',
    handler: async (req) => {
      const session = await currentSession(req);
      const i = await loadInteraction(req.ctx, req.path.id ?? '', session?.hash ?? null);
      const account = session?.accountId && req.query.switch !== '1' ? await findAccount(req.ctx.store.db, session.accountId) : undefined;
      if (account) return htmlPage(consentPage({ ...view(i, session), account }));
      const which = req.query.view === 'login' || req.query.view === 'register' ? req.query.view : i.params.landing;
      const { email, business_name, country } = i.params.prefill;
      return htmlPage(signInToConnectPage({ ...view(i, session), view: which, form: { values: { email, business_name, country } } }));
    },
  },
  {
    method: 'POST',
    path: '/oauth/consent/:id/login',
    rateLimited: true,
    handler: async (req) => {
      const { session, interaction: i } = await consentForm(req);
      try {
        const account = await login(req.ctx, req.body.email, req.body.password, req.ip);
        const next = await signIn(req, session, account.id);
        if (await canSkipConsent(req.ctx, i.params, account.id)) return seeOther(await allow(req.ctx, i, next.hash, account.id));
        return backToConsent(i);
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        const values = { email: typeof req.body.email === 'string' ? req.body.email : '' };
        return htmlPage(signInToConnectPage({ ...view(i, session), view: 'login', form: { error: err.message, values } }), 400);
      }
    },
  },
  {
    method: 'POST',
    path: '/oauth/consent/:id/register',
    rateLimited: true,
    handler: async (req) => {
      const { session, interaction: i } = await consentForm(req);
      const b = req.body;
      try {
        const { account } = await registerAccount(req.ctx, { email: b.email, password: b.password, business_name: b.business_name, country: b.country });
        await signIn(req, session, account.id);
        return backToConsent(i);
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
        return htmlPage(signInToConnectPage({ ...view(i, session), view: 'register', form: { error: err.message, values: registerValues(b) } }), 400);
      }
    },
  },
  {
    method: 'POST',
    path: '/oauth/consent/:id/decision',
    handler: async (req) => {
      const { session, interaction: i } = await consentForm(req);
      const accountId = session.accountId;
      if (!accountId) return backToConsent(i);
      const decision = req.body.decision;
      const who = { account: accountId, platform: i.platform.account_id };
      if (decision === 'deny') {
        req.ctx.log.info({ event: 'consent.denied', ...who }, 'consent denied');
        return seeOther(await deny(req.ctx, i, session.hash));
      }
      if (decision !== 'allow') throw new PageError(400, 'Choose an option', 'Choose whether to connect your account or deny access.');
      req.ctx.log.info({ event: 'consent.granted', ...who }, 'consent granted');
      return seeOther(await allow(req.ctx, i, session.hash, accountId));
    },
  },
  {
    method: 'POST',
    path: '/oauth/consent/:id/skip',
    handler: async (req) => {
      const { session, interaction: i } = await consentForm(req);
      return seeOther(await skipForm(req.ctx, i, session.hash));
    },
  },
  {
    method: 'GET',
    path: '/connect/default/oauth/test',
    handler: async (req) => htmlPage(defaultRedirectPage(req.query)),
  },
];
