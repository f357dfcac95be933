// Stripe's list object (docs/contract.md Part B §5.6).
import { ApiError } from '../domain/errors.ts';
import type { ListQuery } from '../store/resources.ts';

export function listObject<T>(url: string, data: T[], hasMore: boolean) {
  return { object: 'list', data, has_more: hasMore, url };
}

export function listQuery(p: { limit?: number | undefined; starting_after?: string | undefined; ending_before?: string | undefined }): ListQuery {
  if (p.starting_after !== undefined && p.ending_before !== undefined) {
    throw new ApiError(400, 'invalid_request_error', 'You may only specify one of these parameters: ending_before, starting_after.', 'parameter_invalid_string');
  }
  return { limit: p.limit ?? 10, startingAfter: p.starting_after, endingBefore: p.ending_before };
}

/** The cursor named in `q` does not exist: 404 naming the parameter that carried it. */
export function missingCursor(type: string, q: ListQuery): ApiError {
  const param = q.startingAfter !== undefined ? 'starting_after' : 'ending_before';
  const id = q.startingAfter ?? q.endingBefore ?? '';
  return new ApiError(404, 'invalid_request_error', `No such ${type}: '${id.replace(/[^\x20-\x7e]/g, '').slice(0, 100)}'`, 'resource_missing', param);
}

/**
 * Cursor paging over a list already in memory, newest first (a platform's connected accounts and
 * webhook endpoints are few). Unknown cursors are 404 naming the parameter.
 */
export function pageInMemory<T>(
  items: T[],
  idOf: (item: T) => string,
  p: { limit?: number | undefined; starting_after?: string | undefined; ending_before?: string | undefined },
  kind: string,
): { page: T[]; hasMore: boolean } {
  if (p.starting_after !== undefined && p.ending_before !== undefined) {
    throw new ApiError(400, 'invalid_request_error', 'You may only specify one of these parameters: ending_before, starting_after.');
  }
  let rest = items;
  const cursor = p.starting_after ?? p.ending_before;
  if (cursor !== undefined) {
    const at = items.findIndex((x) => idOf(x) === cursor);
    if (at < 0) {
      throw new ApiError(404, 'invalid_request_error', `No such ${kind}: '${cursor.replace(/[^\x20-\x7e]/g, '').slice(0, 100)}'`, 'resource_missing', p.starting_after !== undefined ? 'starting_after' : 'ending_before');
    }
    rest = p.starting_after !== undefined ? items.slice(at + 1) : items.slice(0, at);
  }
  const limit = p.limit ?? 10;
  const page = p.ending_before !== undefined ? rest.slice(Math.max(0, rest.length - limit)) : rest.slice(0, limit);
  return { page, hasMore: rest.length > page.length };
}
