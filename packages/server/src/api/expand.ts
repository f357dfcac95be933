// expand[] (docs/testing-platform-api.md "Expanding responses"; Stripe API reference "Expanding
// Responses"): an id field replaced by the object it names, through the objects connectd models.
// A path through anything else is Stripe's 400 "This property cannot be expanded (…)".
import type { Db } from '../store/schema.ts';
import { findResource, type ResourceType, type Scope } from '../store/resources.ts';

/** Expandable id fields of each object connectd stores, and the type they name. */
const EXPANDABLE: Partial<Record<string, Record<string, ResourceType>>> = {
  charge: { customer: 'customer' },
  refund: { charge: 'charge' },
};

/** Stripe refuses paths deeper than four levels (`property_expansion_max_depth`). */
const MAX_DEPTH = 4;

/**
 * The part of `path` that cannot be expanded on an object of `type` (`list:charge` for a list of
 * charges, whose paths start with `data.`), or null when all of it can.
 */
export function unexpandable(type: string, path: string): string | null {
  let segments = path.split('.');
  let prefix = '';
  let current: string | undefined = type;
  if (type.startsWith('list:')) {
    if (segments[0] !== 'data' || segments.length < 2) return path;
    prefix = 'data.';
    segments = segments.slice(1);
    current = type.slice('list:'.length);
  }
  if (segments.length > MAX_DEPTH) return path;
  for (let i = 0; i < segments.length; i++) {
    const next: string | undefined = current ? EXPANDABLE[current]?.[segments[i] ?? ''] : undefined;
    if (!next) return prefix + segments.slice(0, i + 1).join('.');
    current = next;
  }
  return null;
}

type Json = Record<string, unknown>;

async function expandOne(db: Db, scope: Scope, type: string, object: Json, segments: string[]): Promise<Json> {
  const [field, ...rest] = segments;
  const target = field ? EXPANDABLE[type]?.[field] : undefined;
  if (!field || !target) return object;
  const value = object[field];
  let inner: Json | null = null;
  if (typeof value === 'string') {
    // A deleted customer expands to Stripe's DeletedCustomer, as a retrieve would show it.
    const found = await findResource<Json>(db, scope, target, value, { includeDeleted: true });
    if (!found) return object;
    inner = found.row.deleted ? { id: value, object: target, deleted: true } : found.object;
  } else if (value && typeof value === 'object') {
    inner = value as Json;
  }
  if (!inner) return object;
  return { ...object, [field]: rest.length > 0 ? await expandOne(db, scope, target, inner, rest) : inner };
}

/** `object` (of `type`, or a list `list:type`) with `paths` expanded; paths were checked by parseParams. */
export async function expandObject<T>(db: Db, scope: Scope, type: string, object: T, paths: readonly string[] | undefined): Promise<T> {
  if (!paths || paths.length === 0) return object;
  if (type.startsWith('list:')) {
    const list = object as Json & { data: Json[] };
    const itemType = type.slice('list:'.length);
    const data: Json[] = [];
    for (const item of list.data) {
      let expanded = item;
      for (const p of paths) expanded = await expandOne(db, scope, itemType, expanded, p.split('.').slice(1));
      data.push(expanded);
    }
    return { ...list, data } as T;
  }
  let expanded = object as Json;
  for (const p of paths) expanded = await expandOne(db, scope, type, expanded, p.split('.'));
  return expanded as T;
}
