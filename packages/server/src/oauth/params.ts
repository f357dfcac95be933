// Reading OAuth form parameters. qs turns `a=1&a=2` into an array and `a[b]=1` into an object;
// OAuth parameters are plain strings, so both are invalid_request (RFC 6749 §3.1; docs/security-model.md BI-44, BI-45).
import { OAuthError } from '../domain/errors.ts';

export type Params = Record<string, unknown>;

/** A single string parameter; empty counts as absent (RFC 6749 §3.1). */
export function param(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (Array.isArray(v)) throw new OAuthError('invalid_request', `Duplicate parameter: ${name}`);
  if (typeof v !== 'string') throw new OAuthError('invalid_request', `Invalid ${name} parameter`);
  return v;
}

/** Echo a client-supplied value only when it matches its id pattern (docs/contract.md Part A "Token endpoint"; docs/security-model.md TK-10). */
export function echo(value: string, pattern: RegExp): string | null {
  return pattern.test(value) ? value : null;
}
