// Stripe's list object and its cursor parameters (docs/contract.md Part B §5.6), one set of rules for every list.
import { ApiError, noSuch } from '../domain/errors.ts';
import type { Page, PageCursor, PageRequest } from '../store/paging.ts';

export interface ListParams {
  limit?: number | undefined;
  starting_after?: string | undefined;
  ending_before?: string | undefined;
}

/** The cursor a list request names, if any: the store's cursor, and the parameter that carried it. */
export interface ListCursor extends PageCursor {
  param: 'starting_after' | 'ending_before';
}

export function listObject<T>(url: string, data: T[], hasMore: boolean) {
  return { object: 'list', data, has_more: hasMore, url };
}

/** Both cursors at once is Stripe's 400 (its wording, and no `code`). */
export function cursorOf(p: ListParams): ListCursor | undefined {
  if (p.starting_after !== undefined && p.ending_before !== undefined) {
    throw new ApiError(400, 'Received both starting_after and ending_before parameters. Please pass in only one.');
  }
  if (p.starting_after !== undefined) return { id: p.starting_after, direction: 'after', param: 'starting_after' };
  if (p.ending_before !== undefined) return { id: p.ending_before, direction: 'before', param: 'ending_before' };
  return undefined;
}

export interface ListRequest extends PageRequest {
  cursor?: ListCursor | undefined;
}

/** The page request a list's parameters make: limit (default 10) and cursor. */
export function listQuery(p: ListParams): ListRequest {
  return { limit: p.limit ?? 10, cursor: cursorOf(p) };
}

/** A store page as Stripe's list object; a cursor that names nothing is 404 naming its parameter. */
export function listPage<T, W = T>(url: string, kind: string, q: ListRequest, page: Page<T>, toWire?: (row: T) => W) {
  if ('missingCursor' in page) throw noSuch(kind, q.cursor?.id ?? '', q.cursor?.param ?? 'starting_after');
  const data = toWire ? page.data.map(toWire) : (page.data as unknown as W[]);
  return listObject(url, data, page.hasMore);
}

/**
 * Cursor paging over a list already in memory, newest first (a platform's connected accounts and
 * webhook endpoints are few). Unknown cursors are 404 naming the parameter.
 */
export function pageInMemory<T>(items: T[], idOf: (item: T) => string, p: ListParams, kind: string): { page: T[]; hasMore: boolean } {
  const cursor = cursorOf(p);
  let rest = items;
  if (cursor) {
    const at = items.findIndex((x) => idOf(x) === cursor.id);
    if (at < 0) throw noSuch(kind, cursor.id, cursor.param);
    rest = cursor.direction === 'after' ? items.slice(at + 1) : items.slice(0, at);
  }
  const limit = p.limit ?? 10;
  const page = cursor?.direction === 'before' ? rest.slice(Math.max(0, rest.length - limit)) : rest.slice(0, limit);
  return { page, hasMore: rest.length > page.length };
}
