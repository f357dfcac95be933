// Idempotency keys (docs/contract.md Part A "Idempotency"): claim first; the response is stored in the
// same transaction as the changes it reports, so a crash never leaves a change a retry would redo.
import { AsyncLocalStorage } from 'node:async_hooks';
import { precompile } from './prepared.ts';
import type { Db, IdempotencyKeysTable } from './schema.ts';

export type Claim =
  | { kind: 'claimed' }
  | { kind: 'replay'; status: number; body: string }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' };

/** How long an in-flight claim may live before a crashed holder's key can be taken over. */
const STALE_IN_FLIGHT = 60;
export const IDEMPOTENCY_TTL = 24 * 3600;

type ClaimRow = Pick<IdempotencyKeysTable, 'scope' | 'key' | 'fingerprint'>;

const keyInsert = precompile((db: Db, p: ClaimRow & { now: number }) =>
  db
    .insertInto('idempotency_keys')
    .values({ scope: p.scope, key: p.key, fingerprint: p.fingerprint, state: 'in_flight', status: null, body: null, created: p.now })
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .returning('key'),
);

const keyFind = precompile((db: Db, p: { scope: string; key: string }) =>
  db.selectFrom('idempotency_keys').selectAll().where('scope', '=', p.scope).where('key', '=', p.key),
);

const keyTakeOver = precompile((db: Db, p: ClaimRow & { now: number; created: number }) =>
  db
    .updateTable('idempotency_keys')
    .set({ fingerprint: p.fingerprint, state: 'in_flight', status: null, body: null, created: p.now })
    .where('scope', '=', p.scope)
    .where('key', '=', p.key)
    .where('created', '=', p.created)
    .returning('key'),
);

export async function claimIdempotencyKey(db: Db, row: ClaimRow, now: number): Promise<Claim> {
  const claim = { scope: row.scope, key: row.key, fingerprint: row.fingerprint, now };
  const inserted = await keyInsert.first(db, claim);
  if (inserted) return { kind: 'claimed' };
  const existing = await keyFind.first(db, { scope: row.scope, key: row.key });
  if (!existing) return claimIdempotencyKey(db, row, now);
  const expired = existing.created + IDEMPOTENCY_TTL <= now;
  const stale = existing.state === 'in_flight' && existing.created + STALE_IN_FLIGHT <= now;
  if (expired || stale) {
    const taken = await keyTakeOver.first(db, { ...claim, created: existing.created });
    return taken ? { kind: 'claimed' } : { kind: 'in_flight' };
  }
  if (existing.fingerprint !== row.fingerprint) return { kind: 'mismatch' };
  if (existing.state === 'in_flight') return { kind: 'in_flight' };
  return { kind: 'replay', status: existing.status ?? 200, body: existing.body ?? '' };
}

const keyComplete = precompile((db: Db, p: { scope: string; key: string; status: number; body: string }) =>
  db.updateTable('idempotency_keys').set({ state: 'done', status: p.status, body: p.body }).where('scope', '=', p.scope).where('key', '=', p.key),
);

export function completeIdempotencyKey(db: Db, scope: string, key: string, status: number, body: string): Promise<unknown> {
  return keyComplete.run(db, { scope, key, status, body });
}

const keyRelease = precompile((db: Db, p: { scope: string; key: string }) =>
  db.deleteFrom('idempotency_keys').where('scope', '=', p.scope).where('key', '=', p.key).where('state', '=', 'in_flight'),
);

export function releaseIdempotencyKey(db: Db, scope: string, key: string): Promise<unknown> {
  return keyRelease.run(db, { scope, key });
}

/** What a handler answered: a body (200) or an error the edge may store (then `seal` says how). */
export type Outcome = { body: unknown } | { error: unknown };

/** The claimed key of the request being handled, set by the edge around the handler. */
export interface PendingResponse {
  scope: string;
  key: string;
  /** Status and sealed body to store, or null for an error that is not stored (the key is released). */
  seal(outcome: Outcome): { status: number; body: string } | null;
  /** True once a handler's transaction wrote the response. */
  written: boolean;
}

const pending = new AsyncLocalStorage<PendingResponse>();

export function withPendingResponse<T>(p: PendingResponse, fn: () => Promise<T>): Promise<T> {
  return pending.run(p, fn);
}

/**
 * Handlers call this last inside their write transaction, with what they will answer: the key is
 * completed in that transaction (docs/testing-platform-api.md, `Idempotency-Key`). Without an
 * Idempotency-Key it does nothing.
 */
export async function recordResponse(trx: Db, outcome: Outcome): Promise<void> {
  const p = pending.getStore();
  if (!p || p.written) return;
  const sealed = p.seal(outcome);
  if (!sealed) return;
  await completeIdempotencyKey(trx, p.scope, p.key, sealed.status, sealed.body);
  p.written = true;
}
