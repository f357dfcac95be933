// Requests to a test server. `request` (and `post`, its form POST) is fetch: parameters
// form-encoded in bracket notation as the SDKs send them, the JSON answer parsed. `rawRequest` is
// node:http, for what fetch will not send: a Host header of the test's choosing, a header line
// repeated, a body byte for byte with no content type added.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import qs from 'qs';

/** Form parameters: nested objects and arrays become `a[b]=…` and `a[]=…` (qs). */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type Form = Record<string, FormValue>;

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The body parsed as JSON when it is JSON, else `{}` (callers check `text`). */
  json: Record<string, unknown>;
  text: string;
}

export interface RequestOptions {
  method?: string;
  /** The body of a POST, the query string otherwise; a string is sent as written. */
  params?: Form | string;
  headers?: Record<string, string>;
}

export function encodeForm(params: Form | string): string {
  return typeof params === 'string' ? params : qs.stringify(params, { arrayFormat: 'brackets' });
}

export function responseOf(status: number, headers: Headers, text: string): HttpResponse {
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  return { status, headers, json, text };
}

/** One request over fetch; redirects are answers, not followed. */
export async function request(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  const method = opts.method ?? 'GET';
  const encoded = opts.params === undefined ? '' : encodeForm(opts.params);
  const hasBody = method === 'POST' || method === 'PUT';
  const target = !hasBody && encoded ? `${url}${url.includes('?') ? '&' : '?'}${encoded}` : url;
  const res = await fetch(target, {
    method,
    headers: { ...(hasBody ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...opts.headers },
    ...(hasBody ? { body: encoded } : {}),
    redirect: 'manual',
  });
  return responseOf(res.status, res.headers, await res.text());
}

/** Form-encodes and POSTs. */
export function post(url: string, params: Form | string, headers: Record<string, string> = {}): Promise<HttpResponse> {
  return request(url, { method: 'POST', params, headers });
}

export interface RawRequestOptions {
  method?: string;
  /** Sent as given: an array is one header line per value; nothing is added but Content-Length. */
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** One request over node:http (see the top of this file for when fetch will not do). */
export function rawRequest(url: string, opts: RawRequestOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8');
  const headers = { ...opts.headers };
  if (body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: Number(u.port), method: opts.method ?? 'GET', path: u.pathname + u.search, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(responseOf(res.statusCode ?? 0, headersOf(res.headers), Buffer.concat(chunks).toString('utf8'))));
      res.on('error', reject);
    });
    // The server may answer (413, 431) before the whole body is written; that is not a failure here.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? undefined : reject(err)));
    req.end(body);
  });
}

/** node:http's header object as fetch's Headers (repeated headers joined as fetch joins them). */
export function headersOf(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
  }
  return headers;
}
