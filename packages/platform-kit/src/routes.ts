// The routes a Connect platform serves, framework-free: start (send the user to the provider with a
// state bound to their browser), callback (check the state, exchange the code) and webhook (verify
// the signature, handle each event once); and for the Accounts API path, onboarding start, refresh
// and return around an Account Link. Each takes a plain request and returns a plain reply;
// adapters/express.ts and adapters/fastify.ts translate, nothing more.
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import Stripe from 'stripe';
import type { AuthorizeUrlOptions, Connect, Scope, Tokens } from './connect.ts';
import { StateError, WebhookSignatureError, type StateFailure } from './errors.ts';
import { cookieState } from './state.ts';
import { checkSecrets, verifyWebhook, type WebhookEvent } from './webhook.ts';

export interface KitRequest {
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** The body's exact bytes (webhook route only): a parsed and re-serialized body fails the signature. */
  rawBody?: Buffer | string;
}

export interface KitReply {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

/** What the app's hooks answer: a redirect (303) or a page. */
export type Outcome = { redirect: string } | { status?: number; html: string };

export interface CallbackFailure {
  /** An OAuth error code, or `invalid_state` when the state check failed. */
  error: string;
  description: string;
  /** Set when the state check failed: no token request was made. */
  state?: StateFailure;
}

export interface WebhookOptions<Ctx> {
  /** The endpoint's signing secrets; several during a roll. */
  secrets: string[] | (() => string[]);
  /** Seconds; default 300. */
  tolerance?: number;
  /**
   * Handled-once bookkeeping by event id (eventDeduper(), or the app's own table with a unique key).
   * `forget` is called when `onEvent` throws, so the provider's retry is handled.
   */
  seen?: { firstTime(eventId: string): boolean | Promise<boolean>; forget?(eventId: string): void | Promise<void> };
  /** Throw to answer 500: the provider delivers the event again later. */
  onEvent(event: WebhookEvent, ctx: Ctx): void | Promise<void>;
}

export interface ConnectRoutesOptions<Ctx> {
  connect: Connect;
  /** Signs the state cookie: at least 32 characters, kept secret, the same in every process. */
  stateSecret: string;
  /** The callback's absolute URL, registered with the platform. */
  redirectUri: string;
  scope?: Scope;
  /** Seconds the user has to finish at the provider; default 600. */
  stateTtlSeconds?: number;
  /** Default `connect_state`. */
  cookieName?: string;
  /** Per request: prefill and landing for the provider's form (the signed-in user's email, …). */
  authorize?(ctx: Ctx): AuthorizeExtras | Promise<AuthorizeExtras>;
  /**
   * The app's signed-in user (or session) id: the state is then bound to that user as well as to
   * the browser. Must give the same value at start and at the callback.
   */
  binding?(ctx: Ctx): string | undefined | Promise<string | undefined>;
  onConnected(tokens: Tokens, ctx: Ctx): Outcome | Promise<Outcome>;
  onDenied?(description: string, ctx: Ctx): Outcome | Promise<Outcome>;
  /** A bad state, an OAuth error in the redirect, or a refused code exchange. */
  onFailed?(failure: CallbackFailure, ctx: Ctx): Outcome | Promise<Outcome>;
  webhook?: WebhookOptions<Ctx>;
  onboarding?: OnboardingOptions<Ctx>;
}

/**
 * Onboarding through the Accounts API and Account Links (no OAuth): the platform creates the
 * account, then sends its holder to a single-use link. `return_url` carries nothing, so the app
 * says which account the signed-in user has (`accountFor`).
 */
export interface OnboardingOptions<Ctx> {
  /** Absolute URLs; the adapters mount the refresh and return routes at their paths. */
  refreshUrl: string;
  returnUrl: string;
  /** The signed-in user's account, once created; null or undefined before. */
  accountFor(ctx: Ctx): string | null | undefined | Promise<string | null | undefined>;
  /** Parameters of a new account (email, business_profile, metadata, …); Standard by default. */
  newAccount?(ctx: Ctx): Stripe.AccountCreateParams | Promise<Stripe.AccountCreateParams>;
  /** Keep the new account's id with the user; called before they are sent to onboarding. */
  onAccountCreated(account: Stripe.Account, ctx: Ctx): void | Promise<void>;
  /** Each link the user is sent to (`refreshed`: made at refresh_url after a used or expired one). */
  onLink?(link: { accountId: string; url: string; expiresAt: number; refreshed: boolean }, ctx: Ctx): void | Promise<void>;
  /** Back from onboarding: the account as the provider sees it now. */
  onReturn(account: Stripe.Account, ctx: Ctx): Outcome | Promise<Outcome>;
  /** Refresh or return with no account for this user (signed out, say); default: a 400 page. */
  onNoAccount?(ctx: Ctx): Outcome | Promise<Outcome>;
}

export type AuthorizeExtras = Pick<AuthorizeUrlOptions, 'scope' | 'stripeUser' | 'stripeLanding' | 'alwaysPrompt'>;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(status: number, title: string, text: string): Outcome {
  return { status, html: `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></html>` };
}

const defaultDenied = (description: string) => page(200, 'Not connected', description);
const defaultFailed = (f: CallbackFailure) => page(400, 'Could not connect', f.description);
const noAccount = () => page(400, 'No account to set up', 'Sign in, then start setting up payouts again.');

function reply(outcome: Outcome, headers: Record<string, string | string[]> = {}): KitReply {
  const base = { 'cache-control': 'no-store', ...headers };
  if ('redirect' in outcome) return { status: 303, headers: { ...base, location: outcome.redirect }, body: '' };
  return { status: outcome.status ?? 200, headers: { ...base, 'content-type': 'text/html; charset=utf-8' }, body: outcome.html };
}

function json(status: number, body: unknown): KitReply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

const header = (req: KitRequest, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

export function createConnectRoutes<Ctx>(options: ConnectRoutesOptions<Ctx>) {
  const ttl = options.stateTtlSeconds ?? 600;
  const states = cookieState(options.stateSecret, { ttlSeconds: ttl });
  const cookieName = options.cookieName ?? 'connect_state';
  const callbackUrl = new URL(options.redirectUri);
  // Sent back only to the callback, only over HTTPS when the callback is, never readable by script;
  // Lax so that the top-level redirect back from the provider carries it.
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, path: callbackUrl.pathname, secure: callbackUrl.protocol === 'https:' };
  const clearCookie = serializeCookie(cookieName, '', { ...cookieOptions, maxAge: 0 });
  // A missing secret fails at start-up, not at the first delivery.
  if (options.webhook && typeof options.webhook.secrets !== 'function') checkSecrets(options.webhook.secrets);

  function requireOnboarding(): OnboardingOptions<Ctx> {
    if (!options.onboarding) throw new Error('platform-kit: the onboarding routes need the `onboarding` options.');
    return options.onboarding;
  }

  async function sendToLink(o: OnboardingOptions<Ctx>, accountId: string, refreshed: boolean, ctx: Ctx): Promise<KitReply> {
    const link = await options.connect.accountLink(accountId, { refreshUrl: o.refreshUrl, returnUrl: o.returnUrl });
    await o.onLink?.({ accountId, url: link.url, expiresAt: link.expiresAt, refreshed }, ctx);
    return reply({ redirect: link.url });
  }

  /** A refusal or an outage of the provider is a failure page (onFailed), not a crash. */
  async function providerCall(ctx: Ctx, fn: () => Promise<KitReply>): Promise<KitReply> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof Stripe.errors.StripeError)) throw err;
      return reply(await (options.onFailed ?? defaultFailed)({ error: err.code ?? err.type, description: err.message }, ctx));
    }
  }

  return {
    /** GET: a 303 to the provider's authorize page, with the state cookie set. */
    async start(_req: KitRequest, ctx: Ctx): Promise<KitReply> {
      const binding = await options.binding?.(ctx);
      const { state, cookie } = states.issue(binding);
      const extras = (await options.authorize?.(ctx)) ?? {};
      const url = options.connect.authorizeUrl({ scope: options.scope, ...extras, state, redirectUri: options.redirectUri });
      return reply({ redirect: url }, { 'set-cookie': serializeCookie(cookieName, cookie, { ...cookieOptions, maxAge: ttl }) });
    },

    /** GET: the provider's redirect back. The state is checked before any token request. */
    async callback(req: KitRequest, ctx: Ctx): Promise<KitReply> {
      const binding = await options.binding?.(ctx);
      const cookie = parseCookies(header(req, 'cookie') ?? '')[cookieName];
      let outcome: Outcome;
      try {
        const result = await options.connect.handleCallback(req.query, { checkState: (s) => states.consume(cookie, s, binding) });
        if (result.kind === 'connected') {
          const { stripeUserId, scope, livemode, accessToken, refreshToken, publishableKey } = result;
          outcome = await options.onConnected({ stripeUserId, scope, livemode, accessToken, refreshToken, publishableKey }, ctx);
        } else if (result.kind === 'denied') outcome = await (options.onDenied ?? defaultDenied)(result.description, ctx);
        else outcome = await (options.onFailed ?? defaultFailed)({ error: result.error, description: result.description }, ctx);
      } catch (err) {
        if (!(err instanceof StateError)) throw err;
        outcome = await (options.onFailed ?? defaultFailed)({ error: 'invalid_state', description: err.message, state: err.reason }, ctx);
      }
      return reply(outcome, { 'set-cookie': clearCookie });
    },

    /** POST: the signed-in user's account (created now if they have none), then a 303 to a fresh Account Link. */
    async onboardStart(_req: KitRequest, ctx: Ctx): Promise<KitReply> {
      const o = requireOnboarding();
      return providerCall(ctx, async () => {
        let accountId = await o.accountFor(ctx);
        if (!accountId) {
          const account = await options.connect.createAccount((await o.newAccount?.(ctx)) ?? {});
          await o.onAccountCreated(account, ctx);
          accountId = account.id;
        }
        return sendToLink(o, accountId, false, ctx);
      });
    },

    /** GET refresh_url: the link was used or expired; a new one for the same account. */
    async onboardRefresh(_req: KitRequest, ctx: Ctx): Promise<KitReply> {
      const o = requireOnboarding();
      const accountId = await o.accountFor(ctx);
      if (!accountId) return reply(await (o.onNoAccount ?? noAccount)(ctx));
      return providerCall(ctx, () => sendToLink(o, accountId, true, ctx));
    },

    /** GET return_url: back from onboarding, with nothing in the URL; the account is read from the provider. */
    async onboardReturn(_req: KitRequest, ctx: Ctx): Promise<KitReply> {
      const o = requireOnboarding();
      const accountId = await o.accountFor(ctx);
      if (!accountId) return reply(await (o.onNoAccount ?? noAccount)(ctx));
      return providerCall(ctx, async () => reply(await o.onReturn(await options.connect.account(accountId), ctx)));
    },

    /** POST: a signed event from the provider; 400 for a bad signature, 200 once handled. */
    async webhook(req: KitRequest, ctx: Ctx): Promise<KitReply> {
      const hook = options.webhook;
      if (!hook) return json(404, { error: 'No webhook handler is configured.' });
      if (req.rawBody === undefined) throw new Error('platform-kit: the webhook route needs the raw request body (see the adapters).');
      let event: WebhookEvent;
      try {
        const secrets = typeof hook.secrets === 'function' ? hook.secrets() : hook.secrets;
        event = verifyWebhook(req.rawBody, header(req, 'stripe-signature'), secrets, { tolerance: hook.tolerance });
      } catch (err) {
        if (err instanceof WebhookSignatureError) return json(400, { error: err.message, reason: err.reason });
        if (err instanceof SyntaxError) return json(400, { error: 'The body is not JSON.' });
        throw err;
      }
      if (hook.seen && !(await hook.seen.firstTime(event.id))) return json(200, { received: true, duplicate: true });
      try {
        await hook.onEvent(event, ctx);
      } catch (err) {
        await hook.seen?.forget?.(event.id);
        throw err;
      }
      return json(200, { received: true });
    },
  };
}

export type ConnectRoutes<Ctx> = ReturnType<typeof createConnectRoutes<Ctx>>;
