// The calls of a Connect platform (Standard accounts): the OAuth path (authorize URL, callback, code
// exchange, refresh, deauthorize) and the Accounts API path (create an account, Account Links). Stripe's hosts by default, so the same code runs against
// Stripe and against connectd (pass `connectBase` and `apiBase`, scheme and port included).
import Stripe from 'stripe';
import { ConnectOAuthError, oauthError, StateError } from './errors.ts';
import { safeEqual } from './state.ts';

export interface ConnectOptions {
  clientId: string;
  /** The platform's secret key: the client secret at /oauth/token and /oauth/deauthorize. */
  secretKey: string;
  /** Default https://connect.stripe.com */
  connectBase?: string;
  /** Default https://api.stripe.com */
  apiBase?: string;
  fetch?: typeof fetch;
}

export type Scope = 'read_write' | 'read_only';

export interface AuthorizeUrlOptions {
  state: string;
  scope?: Scope;
  redirectUri?: string;
  /** Prefill for the account form: `stripe_user[email]`, `stripe_user[url]`, … */
  stripeUser?: Record<string, string>;
  stripeLanding?: 'login' | 'register';
  alwaysPrompt?: boolean;
}

export interface Tokens {
  stripeUserId: string;
  scope: Scope;
  livemode: boolean;
  accessToken: string;
  refreshToken: string;
  publishableKey: string;
}

/**
 * How the callback proves it answers an authorization this session started: either the state the
 * app kept for the session (taken out of it, so it serves once), or a check that throws StateError
 * (a StateStore's `consume`, a CookieState's `consume`).
 */
export type StateCheck = { expectedState: string | null | undefined } | { checkState: (state: unknown) => void | Promise<void> };

export type CallbackResult =
  | ({ kind: 'connected' } & Tokens)
  | { kind: 'denied'; description: string }
  | { kind: 'failed'; error: string; description: string };

interface TokenBody {
  stripe_user_id: string;
  scope: Scope;
  livemode: boolean;
  access_token: string;
  refresh_token: string;
  stripe_publishable_key: string;
}

const ACCOUNT_ID = /^acct_[A-Za-z0-9]+$/;

/** stripe-node's host, port and protocol for a base URL: the SDK takes them apart, not as a URL. */
function sdkTarget(base: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const url = new URL(base);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443, protocol };
}

async function checkCallbackState(state: unknown, check: StateCheck): Promise<void> {
  if ('checkState' in check) return check.checkState(state);
  if (typeof state !== 'string' || state === '') throw new StateError('missing', 'The callback carries no state.');
  if (typeof check.expectedState !== 'string' || check.expectedState === '') throw new StateError('unknown', 'No authorization was started in this session, or its state was already used.');
  if (!safeEqual(check.expectedState, state)) throw new StateError('mismatch', 'The state does not match the one issued to this session.');
}

export function createConnect(options: ConnectOptions) {
  const connectBase = (options.connectBase ?? 'https://connect.stripe.com').replace(/\/$/, '');
  const api = sdkTarget(options.apiBase ?? 'https://api.stripe.com');
  const doFetch = options.fetch ?? fetch;
  let platformClient: Stripe | undefined;
  /** The platform's own stripe-node client (no Stripe-Account). */
  const platform = () => (platformClient ??= new Stripe(options.secretKey, { ...api, maxNetworkRetries: 2 }));

  /** One form POST to an OAuth endpoint; an error body becomes its typed error. */
  async function post<T>(path: string, params: Record<string, string>): Promise<T> {
    const res = await doFetch(`${connectBase}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ConnectOAuthError('invalid_response', `${path} answered ${res.status} without JSON`, res.status);
    }
    if (!res.ok) {
      // OAuth errors are {error, error_description}; a server error may use the REST shape.
      const rest = body.error && typeof body.error === 'object' ? (body.error as Record<string, unknown>) : null;
      const code = rest ? String(rest.type ?? 'api_error') : String(body.error ?? 'invalid_response');
      const description = rest ? String(rest.message ?? '') : String(body.error_description ?? '');
      throw oauthError(code, description, res.status);
    }
    return body as T;
  }

  const tokens = (b: TokenBody): Tokens => ({
    stripeUserId: b.stripe_user_id,
    scope: b.scope,
    livemode: b.livemode,
    accessToken: b.access_token,
    refreshToken: b.refresh_token,
    publishableKey: b.stripe_publishable_key,
  });

  async function exchange(code: string): Promise<Tokens> {
    return tokens(await post<TokenBody>('/oauth/token', { grant_type: 'authorization_code', code }));
  }

  /**
   * A stripe-node client acting for a connected account: every call carries
   * `Stripe-Account: <stripeUserId>`, set once in the client's config rather than per call. (In
   * stripe-node 23 the account id comes first in `accounts.retrieve(id, params, options)`: a
   * `{ stripeAccount }` object given there is not read as an option. Use `retrieveCurrent()`.)
   */
  function asAccount(stripeUserId: string): Stripe {
    if (!ACCOUNT_ID.test(stripeUserId)) throw new TypeError(`asAccount needs an account id (acct_…), got ${JSON.stringify(stripeUserId)}`);
    return new Stripe(options.secretKey, { ...api, stripeAccount: stripeUserId, maxNetworkRetries: 2 });
  }

  return {
    /** The URL to send the user to; the caller binds `state` to the user's session first (state.ts). */
    authorizeUrl(o: AuthorizeUrlOptions): string {
      const url = new URL(`${connectBase}/oauth/authorize`);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', options.clientId);
      url.searchParams.set('scope', o.scope ?? 'read_write');
      url.searchParams.set('state', o.state);
      if (o.redirectUri) url.searchParams.set('redirect_uri', o.redirectUri);
      for (const [k, v] of Object.entries(o.stripeUser ?? {})) url.searchParams.set(`stripe_user[${k}]`, v);
      if (o.stripeLanding) url.searchParams.set('stripe_landing', o.stripeLanding);
      if (o.alwaysPrompt) url.searchParams.set('always_prompt', 'true');
      return url.toString();
    },

    /**
     * The redirect back from the provider. The state is checked first, in constant time; a missing,
     * unknown or wrong state throws StateError and no token request is made.
     */
    async handleCallback(query: Record<string, unknown>, check: StateCheck): Promise<CallbackResult> {
      await checkCallbackState(query.state, check);
      if (query.error === 'access_denied') return { kind: 'denied', description: String(query.error_description ?? 'The user denied your request') };
      if (typeof query.error === 'string') return { kind: 'failed', error: query.error, description: String(query.error_description ?? '') };
      if (typeof query.code !== 'string' || query.code === '') return { kind: 'failed', error: 'invalid_request', description: 'The callback carries no code.' };
      try {
        return { kind: 'connected', ...(await exchange(query.code)) };
      } catch (err) {
        if (err instanceof ConnectOAuthError) return { kind: 'failed', error: err.code, description: err.description };
        // The provider could not be reached: a failure to show the user, not a crash.
        return { kind: 'failed', error: 'api_connection_error', description: `Could not reach ${connectBase}: ${err instanceof Error ? err.message : String(err)}` };
      }
    },

    exchange,

    async refresh(refreshToken: string, scope?: Scope): Promise<Tokens> {
      return tokens(await post<TokenBody>('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, ...(scope ? { scope } : {}) }));
    },

    async deauthorize(stripeUserId: string): Promise<{ stripeUserId: string }> {
      const b = await post<{ stripe_user_id: string }>('/oauth/deauthorize', { client_id: options.clientId, stripe_user_id: stripeUserId });
      return { stripeUserId: b.stripe_user_id };
    },

    /**
     * Stripe's current onboarding path for Standard accounts (no OAuth): creates an account
     * connected to this platform at once. Standard unless `params` says otherwise (a bare create is
     * Standard: every controller default is a Standard value).
     */
    async createAccount(params: Stripe.AccountCreateParams = {}): Promise<Stripe.Account> {
      return platform().accounts.create(params);
    },

    /**
     * A single-use Account Link (valid a few minutes) that sends the account holder to the
     * provider's onboarding; `refreshUrl` is where a used or expired link lands, to make a new one.
     */
    async accountLink(accountId: string, o: { refreshUrl: string; returnUrl: string; collect?: 'currently_due' | 'eventually_due' }): Promise<{ url: string; expiresAt: number }> {
      if (!ACCOUNT_ID.test(accountId)) throw new TypeError(`accountLink needs an account id (acct_…), got ${JSON.stringify(accountId)}`);
      const link = await platform().accountLinks.create({
        account: accountId,
        type: 'account_onboarding',
        refresh_url: o.refreshUrl,
        return_url: o.returnUrl,
        ...(o.collect ? { collection_options: { fields: o.collect } } : {}),
      });
      return { url: link.url, expiresAt: link.expires_at };
    },

    /** The account as the platform sees it (onboarding state included), with Stripe-Account. */
    async account(accountId: string): Promise<Stripe.Account> {
      return asAccount(accountId).accounts.retrieveCurrent();
    },

    asAccount,
  };
}

export type Connect = ReturnType<typeof createConnect>;
