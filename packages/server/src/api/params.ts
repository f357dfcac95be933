// /v1 parameter validation with zod, mapped to Stripe's error shapes (docs/contract.md Part B §5.3):
// unknown → parameter_unknown, missing → parameter_missing, malformed → parameter_invalid_*.
import { z } from 'zod';
import { ApiError } from '../domain/errors.ts';
import { unexpandable } from './expand.ts';

const invalid = (param: string, message: string, code = 'parameter_invalid_string') =>
  new ApiError(400, message, { code, param });

const INTEGER = /^-?\d{1,15}$/;
const NON_PRINTABLE = /[^\x20-\x7e]/g;

/** Form values arrive as strings: integers are validated, then converted. */
export const integer = (opts: { min?: number; max?: number } = {}) =>
  z
    .string()
    .regex(INTEGER, 'Invalid integer')
    .transform(Number)
    .refine((n) => (opts.min === undefined || n >= opts.min) && (opts.max === undefined || n <= opts.max), 'Out of range');

export const text = (max = 5000) => z.string().max(max);
export const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}[A-Za-z0-9]{1,64}$`), `must be an id starting with ${prefix}`);

/** `metadata[k]=v`; an empty value deletes a key; `metadata=` clears all (Stripe's semantics). */
export const metadata = z.union([
  z.literal(''),
  z
    .record(z.string().max(40), z.string().max(500))
    .refine((m) => Object.keys(m).length <= 50, 'at most 50 keys'),
]);

/**
 * `expand[]`/`expand[0]` for an object of `type` (api/expand.ts): a path connectd cannot expand is
 * Stripe's 400, before anything changes.
 */
export const expandable = (type: string) =>
  z
    .array(z.string().max(200))
    .max(20)
    .superRefine((paths, check) => {
      for (const path of paths) {
        const bad = unexpandable(type, path);
        if (bad !== null) check.addIssue({ code: 'custom', message: 'cannot expand', params: { cannotExpand: bad } });
      }
    })
    .optional();

/** `expand[]` where nothing can be expanded (accounts, events, webhook endpoints). */
export const expand = expandable('none');

export const listParams = {
  limit: integer({ min: 1, max: 100 }).optional(),
  starting_after: z.string().max(200).optional(),
  ending_before: z.string().max(200).optional(),
  expand,
};

/**
 * A route's parameters: a strict object (unknown names are Stripe's parameter_unknown). Built once,
 * at module load, never per request: building a zod object and compiling its parser cost more than
 * validating with it (issue 8's profile).
 */
export type ParamSchema<S extends z.ZodRawShape> = z.ZodObject<S, z.core.$strict>;

export function paramSchema<S extends z.ZodRawShape>(shape: S): ParamSchema<S> {
  return z.object(shape).strict();
}

/** Routes that take nothing but `expand[]`, and routes that take nothing at all. */
export const expandOnly = paramSchema({ expand });
export const noParams = paramSchema({});
/** The list parameters alone (GET /v1/accounts, GET /v1/webhook_endpoints). */
export const listOnly = paramSchema(listParams);

/**
 * The first key qs left brackets in: an unbalanced name (`metadata[a=1` becomes the key `[a`) or
 * nesting deeper than the parser's depth (the rest is kept as one key `[f][g]`). Such names are
 * refused, never stored as garbled keys.
 */
function malformedName(value: unknown, path: string): string | null {
  if (!value || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const name = path ? `${path}[${k}]` : k;
    if (k.includes('[') || k.includes(']')) return name;
    const inner = malformedName(v, name);
    if (inner !== null) return inner;
  }
  return null;
}

export function parseParams<S extends z.ZodRawShape>(schema: ParamSchema<S>, params: Record<string, unknown>): z.infer<ParamSchema<S>> {
  const bad = malformedName(params, '');
  if (bad !== null) {
    const shown = bad.replace(NON_PRINTABLE, '').slice(0, 200);
    throw invalid(shown, `Invalid parameter name: ${shown}. Nested parameters use brackets, e.g. metadata[key]=value.`);
  }
  // qs turns `expand[]=a` and `expand[0]=a` into arrays; a bare `expand=a` into a string.
  const input = typeof params.expand === 'string' ? { ...params, expand: [params.expand] } : params;
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw invalid('', 'Invalid request.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    throw new ApiError(400, `Received unknown parameter: ${key}`, { code: 'parameter_unknown', param: key });
  }
  if (issue.code === 'custom' && typeof issue.params?.cannotExpand === 'string') {
    const shown = issue.params.cannotExpand.replace(NON_PRINTABLE, '').slice(0, 200);
    throw new ApiError(400, `This property cannot be expanded (${shown}).`, { param: 'expand' });
  }
  const path = issue.path.map((p, i) => (i === 0 ? String(p) : `[${String(p)}]`)).join('');
  const raw = issue.path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined), input);
  if (raw === undefined) throw new ApiError(400, `Missing required param: ${path}.`, { code: 'parameter_missing', param: path });
  if (issue.message === 'Invalid integer') {
    throw invalid(path, `Invalid integer: ${typeof raw === 'string' ? raw.slice(0, 100) : '(not a string)'}`, 'parameter_invalid_integer');
  }
  throw invalid(path, `Invalid ${path}: ${issue.message}`);
}

/** Applies Stripe's metadata update rules to a stored map. */
export function mergeMetadata(current: Record<string, string>, update: '' | Record<string, string> | undefined): Record<string, string> {
  if (update === undefined) return current;
  if (update === '') return {};
  const next = { ...current };
  for (const [k, v] of Object.entries(update)) {
    if (v === '') delete next[k];
    else next[k] = v;
  }
  return next;
}
