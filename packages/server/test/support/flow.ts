// Helpers that drive the authorize flow over plain HTTP (a cookie jar and form posts), for
// integration tests that need codes for existing accounts without a browser, and the code
// exchange for tests that need a connection rather than the exchange itself.
import assert from 'node:assert/strict';
import { post } from './http.ts';

export async function helperCode(
  base: string,
  secretKey: string,
  params: Record<string, string>,
): Promise<{ code: string; stripe_user_id: string; redirect_url: string }> {
  const res = await post(`${base}/v1/test_helpers/oauth/authorize`, params, { authorization: `Bearer ${secretKey}` });
  if (res.status !== 200) throw new Error(`test helper answered ${res.status}: ${res.text}`);
  return res.json as { code: string; stripe_user_id: string; redirect_url: string };
}

export interface Platform {
  testSecret: string;
  clientIdTest: string;
}

export interface Connected {
  accountId: string;
  accessToken: string;
  refreshToken: string;
  scope: string;
  livemode: boolean;
}

/** Creates a fresh test account with the test helper and connects it by exchanging the code. */
export async function connectNew(base: string, platform: Platform, scope: 'read_write' | 'read_only' = 'read_write'): Promise<Connected> {
  const { code, stripe_user_id } = await helperCode(base, platform.testSecret, { client_id: platform.clientIdTest, scope });
  return exchange(base, platform.testSecret, code, stripe_user_id);
}

/** Exchanges a code with a platform key (it must succeed), for tests about what comes after. */
export async function exchange(base: string, secret: string, code: string, expectedAccount?: string): Promise<Connected> {
  const res = await post(`${base}/oauth/token`, { grant_type: 'authorization_code', code }, { authorization: `Bearer ${secret}` });
  assert.equal(res.status, 200, res.text);
  const t = res.json as { stripe_user_id: string; access_token: string; refresh_token: string; scope: string; livemode: boolean };
  if (expectedAccount !== undefined) assert.equal(t.stripe_user_id, expectedAccount);
  return { accountId: t.stripe_user_id, accessToken: t.access_token, refreshToken: t.refresh_token, scope: t.scope, livemode: t.livemode };
}

/** Ends a connection with the platform's test key (it must succeed). */
export async function deauthorize(base: string, platform: Platform, account: string): Promise<void> {
  const res = await post(`${base}/oauth/deauthorize`, { client_id: platform.clientIdTest, stripe_user_id: account }, { authorization: `Bearer ${platform.testSecret}` });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { stripe_user_id: account });
}

export class FormClient {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  /** The Cookie header this client sends (for a request made some other way, e.g. with another Host). */
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }

  async get(path: string): Promise<{ status: number; location: string | null; text: string; headers: Headers }> {
    const res = await fetch(new URL(path, this.base), { headers: { cookie: this.cookieHeader() }, redirect: 'manual' });
    this.remember(res);
    return { status: res.status, location: res.headers.get('location'), text: await res.text(), headers: res.headers };
  }

  /** Posts a form, urlencoded as browsers do by default, or as multipart/form-data (a FormData). */
  async post(path: string, form: Record<string, string> | FormData, extra: Record<string, string> = {}) {
    const multipart = form instanceof FormData;
    const res = await fetch(new URL(path, this.base), {
      method: 'POST',
      headers: { cookie: this.cookieHeader(), ...(multipart ? {} : { 'content-type': 'application/x-www-form-urlencoded' }), origin: this.base, ...extra },
      body: multipart ? form : new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    this.remember(res);
    return { status: res.status, location: res.headers.get('location'), text: await res.text(), headers: res.headers };
  }

  static csrfFrom(html: string): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m?.[1]) throw new Error('no CSRF token on the page');
    return m[1];
  }

  async login(email: string, password: string): Promise<void> {
    const page = await this.get('/login');
    const res = await this.post('/login', { _csrf: FormClient.csrfFrom(page.text), email, password });
    if (res.status !== 303) throw new Error(`login answered ${res.status}`);
  }

  /** Starts an authorize request; returns the consent page path or the final redirect. */
  async authorize(query: Record<string, string>): Promise<{ status: number; location: string | null; text: string }> {
    return this.get(`/oauth/authorize?${new URLSearchParams(query).toString()}`);
  }

  /** Runs authorize → consent → decision; returns the Location the browser is sent to. */
  async connect(query: Record<string, string>, decision: 'allow' | 'deny' = 'allow'): Promise<string> {
    const start = await this.authorize(query);
    if (start.status === 302 && start.location) return start.location;
    if (start.status !== 303 || !start.location) throw new Error(`authorize answered ${start.status}: ${start.text}`);
    const page = await this.get(start.location);
    const res = await this.post(`${start.location}/decision`, { _csrf: FormClient.csrfFrom(page.text), decision });
    if (res.status !== 303 || !res.location) throw new Error(`decision answered ${res.status}: ${res.text.slice(0, 300)}`);
    return res.location;
  }
}

export function codeFrom(location: string): string {
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  return code;
}
