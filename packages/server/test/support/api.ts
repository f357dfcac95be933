// Helpers shared by the /v1 suites (issue 3): /v1 requests as the SDKs make them, and Stripe's
// error envelope.
import assert from 'node:assert/strict';
import { request, type Form, type HttpResponse } from './http.ts';

export interface CallOptions {
  /** Secret key or access token; null sends no Authorization header. */
  key: string | null;
  account?: string;
  /** Form body for POST; query string for GET and DELETE. */
  params?: Form | string;
  headers?: Record<string, string>;
}

/** One /v1 request with a key (Bearer) and, for a connected account, Stripe-Account. */
export function call(base: string, method: 'GET' | 'POST' | 'DELETE', path: string, opts: CallOptions): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  if (opts.key !== null) headers.authorization = `Bearer ${opts.key}`;
  if (opts.account !== undefined) headers['stripe-account'] = opts.account;
  return request(`${base}${path}`, { method, headers: { ...headers, ...opts.headers }, ...(opts.params === undefined ? {} : { params: opts.params }) });
}

export interface WireApiError {
  type: string;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  charge?: string;
}

export const REQUEST_ID = /^req_[A-Za-z0-9]{14}$/;

/** Asserts Stripe's `{error:{type,message,...}}` envelope, a Request-Id and the status; returns the error. */
export function apiError(r: HttpResponse, status: number): WireApiError {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('request-id') ?? '', REQUEST_ID);
  const err = r.json.error;
  assert.ok(err && typeof err === 'object' && !Array.isArray(err), `no error object in ${r.text}`);
  const e = err as Record<string, unknown>;
  assert.equal(typeof e.type, 'string', r.text);
  assert.equal(typeof e.message, 'string', r.text);
  assert.ok(['api_error', 'card_error', 'idempotency_error', 'invalid_request_error'].includes(e.type as string), r.text);
  return e as unknown as WireApiError;
}

/** Asserts a 200 with a Request-Id; returns the body. */
export function ok(r: HttpResponse): Record<string, unknown> {
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('request-id') ?? '', REQUEST_ID);
  return r.json;
}

/** The error message Stripe gives when a key cannot act for an account (docs/contract.md Part A "Acting on behalf"). */
export function noAccessMessage(maskedKey: string, account: string): string {
  return `The provided key '${maskedKey}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`;
}

export function readOnlyMessage(account: string): string {
  return `This application does not have the required permissions for this endpoint on account '${account}'. Having the 'read_write' scope would allow this request to continue.`;
}

/** The key as Stripe masks it: prefix, stars, last four characters. */
export function maskedShape(key: string): RegExp {
  const prefix = /^(sk|pk|rk)_(test|live)_/.exec(key)?.[0] ?? '';
  return new RegExp(`^${prefix}\\*+${key.slice(-4)}$`);
}

/** Stripe's masking: the prefix, one star per hidden character, the last four characters. */
export function masked(key: string): string {
  const prefix = /^(sk|pk|rk)_(test|live)_/.exec(key)?.[0] ?? '';
  return `${prefix}${'*'.repeat(key.length - prefix.length - 4)}${key.slice(-4)}`;
}
