// Keyset paging over (seq, id), newest first: the one implementation behind every /v1 list that
// lives in the database (docs/contract.md Part B §5.6). `seq` orders rows by creation; two
// processes can stamp the same seq, so ties are broken by id, in the cursor and in the order.
import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';

export interface PageCursor {
  id: string;
  /** `after`: older than the cursor (starting_after); `before`: newer (ending_before). */
  direction: 'after' | 'before';
}

export interface PageRequest {
  limit: number;
  cursor?: PageCursor | undefined;
}

export type Page<T> = { data: T[]; hasMore: boolean } | { missingCursor: true };

/**
 * One page of `q` past `cursor` (whose row has sequence `cursorSeq`), newest first. Paging backwards
 * takes the oldest rows above the cursor, then presents them newest first.
 */
export async function keysetPage<DB, TB extends keyof DB, O extends { seq: number }>(
  q: SelectQueryBuilder<DB, TB, O>,
  page: PageRequest,
  cursorSeq: number | undefined,
): Promise<{ rows: O[]; hasMore: boolean }> {
  const { cursor, limit } = page;
  let query = q;
  if (cursor && cursorSeq !== undefined) {
    const op = sql.raw(cursor.direction === 'after' ? '<' : '>');
    query = query.where(sql<SqlBool>`(seq ${op} ${cursorSeq} or (seq = ${cursorSeq} and id ${op} ${cursor.id}))`);
  }
  const dir = cursor?.direction === 'before' ? 'asc' : 'desc';
  const rows = await query.orderBy(sql`seq`, dir).orderBy(sql`id`, dir).limit(limit + 1).execute();
  const hasMore = rows.length > limit;
  const data = rows.slice(0, limit);
  if (cursor?.direction === 'before') data.reverse();
  return { rows: data, hasMore };
}
