// The delivery worker: claims due deliveries with a lease, signs each attempt with the current
// time, POSTs the stored event body, and records the outcome. At-least-once: a delivery is done
// only when its endpoint answered 2xx; a crashed worker's lease expires and another process (or
// this one after restart) sends it again.
import { randomBase62 } from '../domain/ids.ts';
import type { Context } from '../context.ts';
import { claimDue, recordAttempt, type AttemptResult, type ClaimedDelivery } from '../store/deliveries.ts';
import { databaseUnavailableReason } from '../store/unavailable.ts';
import { activeSecrets } from '../store/webhook-endpoints.ts';
import { retryDelay, type RetryMode } from './retry.ts';
import { signatureHeader } from './signer.ts';
import { postWebhook } from './http-post.ts';

export interface WorkerOptions {
  retry: RetryMode;
  leaseMs: number;
  pollMs: number;
  /** At most this many concurrent requests to one endpoint, over all processes sharing the database. */
  perEndpoint: number;
  batch: number;
  timeoutMs: number;
}

const ENDPOINT_GONE = 'endpoint disabled or deleted';

export const DEFAULT_WORKER: WorkerOptions = { retry: 'standard', leaseMs: 30_000, pollMs: 250, perEndpoint: 4, batch: 50, timeoutMs: 10_000 };

export class DeliveryWorker {
  readonly owner = `w_${randomBase62(12)}`;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private stopped = true;
  private readonly sends = new Set<Promise<void>>();
  /** Consecutive failed claims: the worker backs off and logs once per outage, not per tick. */
  private claimFailures = 0;

  constructor(
    private readonly ctx: Context,
    private readonly opts: WorkerOptions,
  ) {}

  start(): void {
    // The owner names this process's leases and attempts in the database.
    this.ctx.log.info({ event: 'webhook.worker_started', owner: this.owner }, 'webhook worker started');
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops claiming; in-flight sends finish (each is bounded by the request timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A tick inside its claim starts sends after this point: wait for it, then for every send.
    await this.ticking;
    await Promise.allSettled([...this.sends]);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => (this.ticking = null));
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let claimed: ClaimedDelivery[] = [];
    try {
      // The cap is counted in the database (leases of every process), so it holds across processes;
      // a slow endpoint waits for its own slots and other endpoints' deliveries are not held up.
      claimed = await claimDue(this.ctx.store, this.owner, this.ctx.clock.now(), Date.now(), this.opts.leaseMs, this.opts.batch, this.opts.perEndpoint);
      if (this.claimFailures > 0) this.ctx.log.info({ event: 'webhook.claims_resumed', failures: this.claimFailures }, 'claiming deliveries works again');
      this.claimFailures = 0;
    } catch (err) {
      if (this.claimFailures++ === 0) {
        const reason = databaseUnavailableReason(err) ?? (err instanceof Error ? err.message : String(err));
        this.ctx.log.warn({ event: 'webhook.claim_failed', reason }, 'claiming deliveries failed; pausing deliveries until the database answers');
      }
    }
    for (const d of claimed) {
      const p = this.deliver(d).finally(() => this.sends.delete(p));
      this.sends.add(p);
    }
    // While claims fail, wait longer each time (up to 5 s) rather than hammering the database.
    const backoff = this.claimFailures > 0 ? Math.min(Math.max(5_000, this.opts.pollMs), this.opts.pollMs * 2 ** Math.min(this.claimFailures, 6)) : this.opts.pollMs;
    this.schedule(claimed.length === this.opts.batch ? 0 : backoff);
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const attemptedAt = this.ctx.clock.now();
    const started = performance.now();
    let result: AttemptResult;
    try {
      result = await this.send(d);
    } catch (err) {
      result = { statusCode: null, error: err instanceof Error ? err.message.slice(0, 300) : 'error', durationMs: Math.round(performance.now() - started) };
    }
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    // A disabled or deleted endpoint is not retried: the delivery ends as failed.
    const delay = ok || result.error === ENDPOINT_GONE ? null : retryDelay(this.opts.retry, d.livemode === 1, d.attempts + 1);
    // The queue keeps whole seconds and a row is due once next_attempt_at <= the current second, so
    // the retry is set one second later: it waits at least `delay` seconds (not 0.x s for `fast`'s 1 s).
    const outcome = ok ? { kind: 'succeeded' as const } : delay === null ? { kind: 'failed' as const } : { kind: 'retry' as const, at: this.ctx.clock.now() + delay + 1 };
    try {
      await recordAttempt(this.ctx.store, { id: d.id, eventId: d.event_id, owner: this.owner, attemptedAt }, result, outcome);
    } catch (err) {
      // The lease expires and the delivery is retried: at-least-once.
      this.ctx.log.warn({ event: 'webhook.record_failed', delivery: d.id, message: err instanceof Error ? err.message : String(err) }, 'recording a delivery failed');
    }
    this.ctx.log.info({ event: 'webhook.attempt', delivery: d.id, endpoint: d.endpoint_id, status: result.statusCode, outcome: outcome.kind }, 'webhook attempt');
  }

  private async send(d: ClaimedDelivery): Promise<AttemptResult> {
    const started = performance.now();
    const endpoint = await this.ctx.store.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', d.endpoint_id).executeTakeFirst();
    if (!endpoint || endpoint.status !== 'enabled') return { statusCode: null, error: ENDPOINT_GONE, durationMs: 0 };
    // Signed now, at every attempt: a 3-day retry must still pass a 300 s tolerance (Part B §4.4).
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signatureHeader(d.body, activeSecrets(this.ctx.sealKey, endpoint, this.ctx.clock.now()), timestamp);
    // Never outlive the lease: another process may claim the delivery once it expires.
    const timeoutMs = Math.max(100, Math.min(this.opts.timeoutMs, this.opts.leaseMs - 500));
    const status = await postWebhook(
      d.url,
      d.body,
      {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        accept: '*/*; q=0.5, application/xml',
        'cache-control': 'no-cache',
        'stripe-signature': signature,
      },
      { livemode: endpoint.livemode === 1, privateTargets: this.ctx.config.webhookPrivateTargets },
      timeoutMs,
    );
    return { statusCode: status, error: null, durationMs: Math.round(performance.now() - started) };
  }
}
