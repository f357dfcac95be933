// Commit notices for the delivery worker of this process (issue 8, docs/webhooks.md "Delivery"): a
// transaction that queued deliveries wakes the worker once it commits, so a new event is claimed
// at once instead of at the next poll. Polling remains for other processes' events and retries.
export class DeliveryNotifier {
  private listener: (() => void) | null = null;

  /** The worker listens; a process without one (`--webhook-worker off`) drops its notices. */
  listen(fn: () => void): () => void {
    this.listener = fn;
    return () => {
      if (this.listener === fn) this.listener = null;
    };
  }

  /** Deliveries were committed. Cheap and never throws: the worker coalesces notices. */
  notify(): void {
    this.listener?.();
  }
}
