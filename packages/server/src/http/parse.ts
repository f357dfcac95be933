// Stripe's bracket notation (Part B §5.7): qs for form bodies and query strings.
import qs from 'qs';

const BODY_OPTIONS: qs.IParseOptions = {
  depth: 5,
  arrayLimit: 100,
  parameterLimit: 1000,
  // Too many pairs is an error, not a silent truncation (security plan BI-41).
  throwOnLimitExceeded: true,
  allowPrototypes: false,
  allowDots: false,
  charset: 'utf-8',
};

export function parseForm(body: string): Record<string, unknown> {
  return qs.parse(body, BODY_OPTIONS) as Record<string, unknown>;
}

export function parseQuery(query: string): Record<string, unknown> {
  return qs.parse(query, { ...BODY_OPTIONS, throwOnLimitExceeded: false }) as Record<string, unknown>;
}

export function asParams(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
