// The OAuth calls of a Connect platform (Standard accounts): the authorize URL, the callback, the
// code exchange, refresh and deauthorize. Stripe's hosts by default, so the same code runs against
// Stripe and against connectd (pass `connectBase` and `apiBase`, scheme and port included).
import { ConnectOAuthError, oauthError } from './errors.ts';

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

export function createConnect(options: ConnectOptions) {
  const connectBase = (options.connectBase ?? 'https://connect.stripe.com').replace(/\/$/, '');
  const doFetch = options.fetch ?? fetch;

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
     * The redirect back from the provider. Call only after the state was checked (the `checkState`
     * callback runs first and must throw on a bad state): no token request is made otherwise.
     */
    async handleCallback(query: Record<string, unknown>, checkState: (state: unknown) => void | Promise<void>): Promise<CallbackResult> {
      await checkState(query.state);
      if (query.error === 'access_denied') return { kind: 'denied', description: String(query.error_description ?? 'The user denied your request') };
      if (typeof query.error === 'string') return { kind: 'failed', error: query.error, description: String(query.error_description ?? '') };
      if (typeof query.code !== 'string' || query.code === '') return { kind: 'failed', error: 'invalid_request', description: 'The callback carries no code.' };
      try {
        return { kind: 'connected', ...(await this.exchange(query.code)) };
      } catch (err) {
        if (err instanceof ConnectOAuthError) return { kind: 'failed', error: err.code, description: err.description };
        throw err;
      }
    },

    async exchange(code: string): Promise<Tokens> {
      return tokens(await post<TokenBody>('/oauth/token', { grant_type: 'authorization_code', code }));
    },

    async refresh(refreshToken: string, scope?: Scope): Promise<Tokens> {
      return tokens(await post<TokenBody>('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, ...(scope ? { scope } : {}) }));
    },

    async deauthorize(stripeUserId: string): Promise<{ stripeUserId: string }> {
      const b = await post<{ stripe_user_id: string }>('/oauth/deauthorize', { client_id: options.clientId, stripe_user_id: stripeUserId });
      return { stripeUserId: b.stripe_user_id };
    },
  };
}

export type Connect = ReturnType<typeof createConnect>;
