// Injected clock: lifetimes are computed from it, so tests move time instead of sleeping.
export interface Clock {
  /** Unix time in seconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };

export class ManualClock implements Clock {
  constructor(private t = 1_700_000_000) {}
  now(): number {
    return this.t;
  }
  advance(seconds: number): void {
    this.t += seconds;
  }
}
