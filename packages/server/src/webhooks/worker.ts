// The delivery worker: claims due deliveries in batches with a lease, signs each attempt with the
// current time, POSTs the stored event body over a kept-alive connection, and records outcomes in
// batches. At-least-once: a delivery is done only when its endpoint answered 2xx; a crashed
// worker's lease expires and another process (or this one after restart) sends it again.
//
// How it keeps up (issue 8, docs/webhooks.md "Delivery"):
// - a commit in this process that queued deliveries wakes the worker (webhooks/notifier.ts); the
//   poll remains for other processes' events and for retries;
// - one process serves an endpoint at a time: it leases a batch of that endpoint's due deliveries
//   (store/deliveries.ts claimDeliveries) and sends them with at most `perEndpoint` in flight,
//   starting the next the moment one finishes, so the cap holds over every process;
// - the endpoint (URL, status, secrets) comes with the claim: no select per send;
// - outcomes are written together, one transaction per flush (group commit).
import { randomBase62 } from '../domain/ids.ts';
import type { Context } from '../context.ts';
import {
  claimDeliveries,
  endpointTarget,
  recordReports,
  type AttemptOutcome,
  type AttemptResult,
  type ClaimedDelivery,
  type DeliveryReport,
  type EndpointTarget,
} from '../store/deliveries.ts';
import { databaseUnavailableReason } from '../store/unavailable.ts';
import { activeSecrets } from '../store/webhook-endpoints.ts';
import { postWebhook, WebhookAgents } from './http-post.ts';
import { retryDelay, type RetryMode } from './retry.ts';
import { signatureHeader } from './signer.ts';

export interface WorkerOptions {
  retry: RetryMode;
  leaseMs: number;
  pollMs: number;
  /** At most this many concurrent requests to one endpoint, over all processes sharing the database. */
  perEndpoint: number;
  /** Most deliveries of one endpoint leased by one claim. */
  batch: number;
  /** Most deliveries leased and not yet sent, over all endpoints (bounds memory). */
  maxQueued: number;
  timeoutMs: number;
}

const ENDPOINT_GONE = 'endpoint disabled or deleted';

export const DEFAULT_WORKER: WorkerOptions = { retry: 'standard', leaseMs: 30_000, pollMs: 250, perEndpoint: 4, batch: 500, maxQueued: 5_000, timeoutMs: 10_000 };

/**
 * A delivery is sent only while its lease has at least the request timeout plus this left: the
 * request then ends (answered or timed out) before another process may take the delivery over.
 */
const SEND_MARGIN_MS = 200;
/** Least time between two claims of this process. */
const CLAIM_GAP_MS = 3;
/** Endpoints looked at by one claim. */
const MAX_ENDPOINTS = 50;
/** While waiting for its turn on an endpoint another process holds, the worker looks this often. */
const WAITING_POLL_MS = 25;
/** The endpoint's URL, status and secrets are read again when a batch has used them this long. */
const TARGET_REFRESH_MS = 1_000;
/** Response time assumed for an endpoint not heard from yet (sizes its first batch). */
const FIRST_RESPONSE_MS = 25;
/** Keep-alive agents of endpoints not sent to for this long are closed. */
const AGENT_IDLE_MS = 60_000;

interface Queued {
  d: ClaimedDelivery;
  leaseUntil: number;
}

/** One endpoint this process holds deliveries of. */
interface Lane {
  id: string;
  target: EndpointTarget;
  /** Signing secrets, decrypted once per claim (or refresh) rather than per send. */
  secrets: string[];
  readAt: number;
  refreshing: boolean;
  queued: Queued[];
  inFlight: number;
  /** Smoothed response time (ms), to size batches that are sent well within their lease. */
  responseMs: number;
  /**
   * The last claim gave this endpoint less than asked (nothing more due, or another process's
   * turn): running low then does not claim again; the next notice or poll does.
   */
  drained: boolean;
}

export class DeliveryWorker {
  readonly owner = `w_${randomBase62(12)}`;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private claiming: Promise<void> | null = null;
  /** A claim was asked for while one ran: run another right after it (notices coalesce). */
  private claimAgain = false;
  private lastClaimEnd = -Infinity;
  private gapTimer: NodeJS.Timeout | undefined;
  private readonly lanes = new Map<string, Lane>();
  /** Deliveries queued or in flight here, by id: a claim never queues one twice. */
  private readonly held = new Set<string>();
  private queuedTotal = 0;
  private readonly sends = new Set<Promise<void>>();
  private readonly recorder: Recorder;
  private readonly agents: WebhookAgents;
  private unlisten: (() => void) | null = null;
  /** Consecutive failed claims: the worker backs off and logs once per outage, not per tick. */
  private claimFailures = 0;
  /** The request timeout: never longer than the lease (another process may take it over then). */
  private readonly sendTimeoutMs: number;

  constructor(
    private readonly ctx: Context,
    private readonly opts: WorkerOptions,
  ) {
    this.sendTimeoutMs = Math.max(100, Math.min(opts.timeoutMs, opts.leaseMs - 500));
    this.recorder = new Recorder(ctx, this.owner);
    this.agents = new WebhookAgents(opts.perEndpoint);
  }

  start(): void {
    // The owner names this process's leases and attempts in the database.
    this.ctx.log.info({ event: 'webhook.worker_started', owner: this.owner }, 'webhook worker started');
    this.stopped = false;
    this.unlisten = this.ctx.deliveryNotifier.listen(() => this.kick());
    this.kick();
  }

  /**
   * Stops claiming; in-flight sends finish (each is bounded by the request timeout) and are
   * recorded; deliveries claimed but not sent are given back at once for another process to take.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    clearTimeout(this.timer);
    clearTimeout(this.gapTimer);
    // A claim in progress queues deliveries after this point: wait for it, then give back the unsent.
    await this.claiming;
    for (const lane of this.lanes.values()) {
      for (const q of lane.queued.splice(0)) this.giveBack(q);
    }
    while (this.sends.size > 0) await Promise.allSettled([...this.sends]);
    await this.recorder.drain();
    this.agents.destroy();
  }

  /**
   * Claims now, or right after the claim in progress, and never sooner than CLAIM_GAP_MS after
   * the last one: under a stream of commits one claim takes the events of several, and the
   * requests committing them keep most of the database's time.
   */
  private kick(): void {
    if (this.stopped || this.gapTimer) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    const wait = this.lastClaimEnd + CLAIM_GAP_MS - performance.now();
    if (wait > 0) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        this.kick();
      }, wait);
      this.gapTimer.unref();
      return;
    }
    this.claiming = this.claim().finally(() => {
      this.claiming = null;
      this.lastClaimEnd = performance.now();
      if (this.claimAgain && !this.stopped) {
        this.claimAgain = false;
        this.kick();
      }
    });
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => this.kick(), ms);
    this.timer.unref();
  }

  private async claim(): Promise<void> {
    const nowMs = Date.now();
    this.sweep(nowMs);
    let budget = this.opts.maxQueued - this.queuedTotal;
    let next = this.opts.pollMs;
    if (budget > 0) {
      try {
        const skip = [...this.lanes.values()].filter((l) => l.queued.length >= this.lowWater(l)).map((l) => l.id);
        const asked = new Map<string, number>();
        const claimed = await claimDeliveries(this.ctx.store, {
          owner: this.owner,
          now: this.ctx.clock.now(),
          nowMs,
          leaseMs: this.opts.leaseMs,
          skip,
          maxEndpoints: MAX_ENDPOINTS,
          wantMs: 4 * Math.min(this.opts.pollMs, WAITING_POLL_MS) + 100,
          batchFor: (id) => {
            const lane = this.lanes.get(id);
            const n = Math.min(budget, this.batchSize(lane) - (lane?.queued.length ?? 0));
            if (n > 0) budget -= n;
            asked.set(id, n);
            return n;
          },
        });
        if (this.claimFailures > 0) this.ctx.log.info({ event: 'webhook.claims_resumed', failures: this.claimFailures }, 'claiming deliveries works again');
        this.claimFailures = 0;
        const got = new Map(claimed.batches.map((b) => [b.endpoint.id, b.deliveries.length]));
        for (const lane of this.lanes.values()) {
          if (!skip.includes(lane.id)) lane.drained = (got.get(lane.id) ?? 0) < (asked.get(lane.id) ?? 1);
        }
        for (const batch of claimed.batches) this.take(batch.endpoint, batch.deliveries, batch.leaseUntil, batch.deliveries.length < (asked.get(batch.endpoint.id) ?? 0));
        // Endpoints left to look at: claim again at once. Waiting for another process to finish
        // its turn on an endpoint: look again soon, so the endpoint does not sit idle.
        if (claimed.full && claimed.batches.length > 0 && budget > 0) this.claimAgain = true;
        if (claimed.waiting > 0) next = Math.min(next, WAITING_POLL_MS);
      } catch (err) {
        if (this.claimFailures++ === 0) {
          const reason = databaseUnavailableReason(err) ?? (err instanceof Error ? err.message : String(err));
          this.ctx.log.warn({ event: 'webhook.claim_failed', reason }, 'claiming deliveries failed; pausing deliveries until the database answers');
        }
        // While claims fail, wait longer each time (up to 5 s) rather than hammering the database.
        next = Math.min(Math.max(5_000, this.opts.pollMs), this.opts.pollMs * 2 ** Math.min(this.claimFailures, 6));
      }
    }
    this.agents.sweep(AGENT_IDLE_MS);
    this.schedule(next);
  }

  /** Deliveries of one endpoint this process now holds: queued behind what it holds already. */
  private take(endpoint: EndpointTarget, deliveries: ClaimedDelivery[], leaseUntil: number, drained: boolean): void {
    let lane = this.lanes.get(endpoint.id);
    if (!lane) {
      lane = { id: endpoint.id, target: endpoint, secrets: [], readAt: 0, refreshing: false, queued: [], inFlight: 0, responseMs: FIRST_RESPONSE_MS, drained: false };
      this.lanes.set(endpoint.id, lane);
    }
    this.setTarget(lane, endpoint);
    lane.drained = drained;
    for (const d of deliveries) {
      if (this.held.has(d.id)) continue;
      this.held.add(d.id);
      lane.queued.push({ d, leaseUntil });
      this.queuedTotal++;
    }
    this.pump(lane);
  }

  private setTarget(lane: Lane, target: EndpointTarget): void {
    lane.target = target;
    lane.readAt = Date.now();
    // Signed now, at every attempt, with the secrets active now (a rolled one until it expires).
    lane.secrets = target.status === 'enabled' ? activeSecrets(this.ctx.sealKey, target, this.ctx.clock.now()) : [];
  }

  /**
   * Deliveries of an endpoint leased at once: as many as are surely sent while their lease leaves
   * room for a whole request (from the endpoint's recent response times, with a factor 2 to
   * spare), within `batch`.
   */
  private batchSize(lane: Lane | undefined): number {
    const windowMs = this.opts.leaseMs - this.sendTimeoutMs - SEND_MARGIN_MS;
    const perMs = this.opts.perEndpoint / Math.max(0.2, lane?.responseMs ?? FIRST_RESPONSE_MS);
    return Math.max(this.opts.perEndpoint, Math.min(this.opts.batch, Math.floor((perMs * windowMs) / 2)));
  }

  /** Below this many queued, the endpoint is claimed for again (if no other process waits for it). */
  private lowWater(lane: Lane): number {
    return Math.max(this.opts.perEndpoint, Math.floor(this.batchSize(lane) / 2));
  }

  /** Starts sends while the endpoint has free slots; refills or retires the lane. */
  private pump(lane: Lane): void {
    const nowMs = Date.now();
    while (lane.inFlight < this.opts.perEndpoint && lane.queued.length > 0) {
      const q = lane.queued.shift() as Queued;
      this.queuedTotal--;
      if (this.stopped || q.leaseUntil - nowMs < this.sendTimeoutMs + SEND_MARGIN_MS) {
        this.giveBack(q);
        continue;
      }
      lane.inFlight++;
      const p = this.deliver(lane, q.d).finally(() => {
        this.sends.delete(p);
        this.held.delete(q.d.id);
        lane.inFlight--;
        this.pump(lane);
      });
      this.sends.add(p);
    }
    if (lane.inFlight === 0 && lane.queued.length === 0) {
      // Nothing held here any more: another process may take the endpoint now (docs/webhooks.md).
      this.lanes.delete(lane.id);
      return;
    }
    if (lane.queued.length < this.lowWater(lane) && !lane.drained && !this.stopped) this.kick();
    if (nowMs - lane.readAt > TARGET_REFRESH_MS && !lane.refreshing) this.refresh(lane);
  }

  /** A queued delivery this process will not send: its lease is returned at the next flush. */
  private giveBack(q: Queued): void {
    this.held.delete(q.d.id);
    this.recorder.add({ kind: 'release', id: q.d.id });
  }

  /**
   * Gives back queued deliveries whose lease no longer leaves room for a request, so another
   * process need not wait for them to expire. A lane's queue is in claim order, so the oldest
   * leases are at its head.
   */
  private sweep(nowMs: number): void {
    for (const lane of this.lanes.values()) {
      let stale = 0;
      while (stale < lane.queued.length && (lane.queued[stale] as Queued).leaseUntil - nowMs < this.sendTimeoutMs + SEND_MARGIN_MS) stale++;
      if (stale === 0) continue;
      for (const q of lane.queued.splice(0, stale)) this.giveBack(q);
      this.queuedTotal -= stale;
      this.pump(lane);
    }
  }

  /** A batch may take a while: its endpoint's URL, status and secrets are read again meanwhile. */
  private refresh(lane: Lane): void {
    lane.refreshing = true;
    endpointTarget(this.ctx.store.db, lane.id).then(
      (target) => {
        lane.refreshing = false;
        this.setTarget(lane, target ?? { ...lane.target, status: 'deleted' });
      },
      () => {
        // Sends go on with what the claim read; the next pump tries again.
        lane.refreshing = false;
        lane.readAt = Date.now();
      },
    );
  }

  private async deliver(lane: Lane, d: ClaimedDelivery): Promise<void> {
    const attemptedAt = this.ctx.clock.now();
    const started = performance.now();
    let result: AttemptResult;
    try {
      result = await this.send(lane, d);
    } catch (err) {
      result = { statusCode: null, error: err instanceof Error ? err.message.slice(0, 300) : 'error', durationMs: Math.round(performance.now() - started) };
    }
    if (result.error !== ENDPOINT_GONE) lane.responseMs = 0.8 * lane.responseMs + 0.2 * (performance.now() - started);
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    // A disabled or deleted endpoint is not retried: the delivery ends as failed.
    const delay = ok || result.error === ENDPOINT_GONE ? null : retryDelay(this.opts.retry, d.event_livemode === 1, d.attempts + 1);
    // The queue keeps whole seconds and a row is due once next_attempt_at <= the current second, so
    // the retry is set one second later: it waits at least `delay` seconds (not 0.x s for `fast`'s 1 s).
    const outcome: AttemptOutcome = ok ? { kind: 'succeeded' } : delay === null ? { kind: 'failed' } : { kind: 'retry', at: this.ctx.clock.now() + delay + 1 };
    // Recorded with the next flush; if that fails, the lease expires and the delivery is sent again.
    this.recorder.add({ kind: 'attempt', id: d.id, eventId: d.event_id, attemptedAt, result, outcome });
    this.ctx.log.info({ event: 'webhook.attempt', delivery: d.id, endpoint: lane.id, status: result.statusCode, outcome: outcome.kind }, 'webhook attempt');
  }

  private async send(lane: Lane, d: ClaimedDelivery): Promise<AttemptResult> {
    const started = performance.now();
    const endpoint = lane.target;
    if (endpoint.status !== 'enabled') return { statusCode: null, error: ENDPOINT_GONE, durationMs: 0 };
    // Signed now, at every attempt: a 3-day retry must still pass a 300 s tolerance (docs/contract.md Part B §4.4).
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signatureHeader(d.body, lane.secrets, timestamp);
    const policy = { livemode: endpoint.livemode === 1, privateTargets: this.ctx.config.webhookPrivateTargets };
    const status = await postWebhook(
      endpoint.url,
      d.body,
      {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        accept: '*/*; q=0.5, application/xml',
        'cache-control': 'no-cache',
        'stripe-signature': signature,
      },
      policy,
      // Never outlive the lease: another process may claim the delivery once it expires.
      this.sendTimeoutMs,
      this.agents.get(lane.id, endpoint.url, policy),
    );
    return { statusCode: status, error: null, durationMs: Math.round(performance.now() - started) };
  }
}

/** Most reports written by one transaction. */
const MAX_FLUSH = 1_000;
/** How long reports gather before they are written. */
const FLUSH_DELAY_MS = 20;

/**
 * Writes attempts and returned leases in batches: what arrives while a flush runs goes into the
 * next one (group commit), so under load one transaction records many attempts, and a lone
 * attempt is written at once (no timer to wait for).
 */
class Recorder {
  private buffer: DeliveryReport[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly ctx: Context,
    private readonly owner: string,
  ) {}

  add(report: DeliveryReport): void {
    this.buffer.push(report);
    // Reports of the next few milliseconds go together: a commit costs about as much as the
    // statements of a hundred attempts, and nothing waits for the record but the lease.
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, FLUSH_DELAY_MS)).then(() => this.flush());
  }

  /** Resolves once everything reported so far is written (or failed to be). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0, MAX_FLUSH);
        try {
          await recordReports(this.ctx.store, this.owner, batch);
        } catch (err) {
          // Once more (a PostgreSQL deadlock or serialization failure is transient), then leave
          // them: the leases expire and the deliveries are sent again (at-least-once).
          try {
            await recordReports(this.ctx.store, this.owner, batch);
          } catch {
            this.ctx.log.warn(
              { event: 'webhook.record_failed', deliveries: batch.length, delivery: batch[0]?.id, message: err instanceof Error ? err.message : String(err) },
              'recording deliveries failed; they are sent again once their lease expires',
            );
          }
        }
      }
    } finally {
      this.flushing = null;
    }
  }
}
