// Idempotency-Key handling shared by /oauth and /v1 POSTs (docs/contract.md Part A "Idempotency").
import { createHash } from 'node:crypto';
import { decryptSecret, encryptSecret } from '../domain/secrets.ts';
import type { FastifyReply } from 'fastify';
import type { Context } from '../context.ts';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey, withPendingResponse, type PendingResponse } from '../store/idempotency.ts';

export interface IdempotentRequest {
  /** Authenticating key hash plus Stripe-Account. */
  scope: string;
  key: string;
  method: string;
  path: string;
  params: unknown;
}

export interface HandlerResult {
  status: number;
  body: unknown;
}

export type IdempotencyOutcome =
  | { kind: 'fresh'; result: HandlerResult }
  | { kind: 'replayed'; status: number; body: string }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' };

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

export function fingerprint(method: string, path: string, params: unknown): string {
  return createHash('sha256').update(JSON.stringify([method, path, canonical(params)])).digest('base64url');
}

/**
 * Runs `handler` once per (scope, key). Expected errors are stored like successes (an SDK retry
 * replays the same answer); an unexpected error releases the key so a retry runs again. A handler
 * that changes anything stores its answer in its own transaction (store/idempotency.ts
 * recordResponse); what it did not store is stored here, after.
 */
export async function runIdempotent(
  ctx: Context,
  req: IdempotentRequest,
  handler: () => Promise<HandlerResult>,
  isExpected: (err: unknown) => HandlerResult | null,
): Promise<IdempotencyOutcome> {
  const fp = fingerprint(req.method, req.path, req.params);
  const claim = await claimIdempotencyKey(ctx.store.db, { scope: req.scope, key: req.key, fingerprint: fp }, ctx.clock.now());
  // Stored responses can hold access and refresh tokens: sealed at rest like webhook secrets.
  if (claim.kind === 'replay') return { kind: 'replayed', status: claim.status, body: decryptSecret(ctx.sealKey, claim.body) };
  if (claim.kind !== 'claimed') return claim;
  const seal = (r: HandlerResult) => ({ status: r.status, body: encryptSecret(ctx.sealKey, JSON.stringify(r.body)) });
  const pending: PendingResponse = {
    scope: req.scope,
    key: req.key,
    written: false,
    seal: (outcome) => {
      if ('body' in outcome) return seal({ status: 200, body: outcome.body });
      const expected = isExpected(outcome.error);
      return expected && seal(expected);
    },
  };
  let result: HandlerResult;
  try {
    result = await withPendingResponse(pending, handler);
    crashHook(ctx, req.path);
  } catch (err) {
    const expected = isExpected(err);
    if (!expected) {
      // Only an in-flight claim is released: a response committed with the changes stays.
      // A release that fails leaves the key in flight until its stale window passes: said in the log.
      await releaseIdempotencyKey(ctx.store.db, req.scope, req.key).catch((e: unknown) =>
        ctx.log.warn({ event: 'idempotency.release_failed', path: req.path, message: e instanceof Error ? e.message : String(e) }, 'releasing an idempotency key failed'),
      );
      throw err;
    }
    // Written again even when a transaction recorded it: that transaction may have rolled back.
    const s = seal(expected);
    await completeIdempotencyKey(ctx.store.db, req.scope, req.key, s.status, s.body);
    throw err;
  }
  if (!pending.written) {
    const s = seal(result);
    await completeIdempotencyKey(ctx.store.db, req.scope, req.key, s.status, s.body);
  }
  return { kind: 'fresh', result };
}

/**
 * The CONNECTD_TEST_CRASH_AFTER_COMMIT test hook: the process dies as a crash would, right after
 * the handler's transaction committed and before anything else (docs/configuration.md).
 */
function crashHook(ctx: Context, path: string): void {
  if (ctx.config.testCrashAfterCommit === path) process.kill(process.pid, 'SIGKILL');
}

/** A valid Idempotency-Key header value, or an error message. */
export function readIdempotencyKey(header: string | string[] | undefined): { key: string | null } | { error: string } {
  if (header === undefined) return { key: null };
  if (Array.isArray(header)) return { error: 'Duplicate Idempotency-Key header.' };
  if (header.length === 0 || header.length > 255) return { error: 'Idempotency-Key must be 1 to 255 characters long.' };
  return { key: header };
}

/** The key as it may appear in an error message: printable ASCII only. */
export function printableKey(key: string): string {
  return key.replace(/[^\x20-\x7e]/g, '').slice(0, 255);
}

/** The errors each wire family gives for a reused key (its envelope, its wording). */
export interface IdempotencyErrors {
  mismatch: (shownKey: string) => Error;
  inFlight: (shownKey: string) => Error;
}

/**
 * The one idempotent POST at the edge, for /oauth and /v1 (docs/contract.md Part A
 * "Idempotency"): a fresh run returns the handler's body; a replay answers the stored response
 * with `Idempotent-Replayed: true`; a reused key with other parameters, or one still in flight,
 * throws the family's error.
 */
export async function respondIdempotent(
  ctx: Context,
  reply: FastifyReply,
  req: IdempotentRequest,
  run: () => Promise<unknown>,
  isExpected: (err: unknown) => HandlerResult | null,
  errors: IdempotencyErrors,
): Promise<unknown> {
  const outcome = await runIdempotent(ctx, req, async () => ({ status: 200, body: await run() }), isExpected);
  switch (outcome.kind) {
    case 'fresh':
      return outcome.result.body;
    case 'replayed':
      return reply.code(outcome.status).header('Idempotent-Replayed', 'true').type('application/json; charset=utf-8').send(outcome.body);
    case 'mismatch':
      throw errors.mismatch(printableKey(req.key));
    case 'in_flight':
      throw errors.inFlight(printableKey(req.key));
  }
}
