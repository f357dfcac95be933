// Injected clock: lifetimes are computed from it, so tests move time instead of sleeping.
export interface Clock {
  /** Unix time in seconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Math.floor(Date.now() / 1000) };

/** The system clock moved by `seconds` (the CONNECTD_TEST_CLOCK_OFFSET test hook). */
export function offsetClock(seconds: number): Clock {
  return { now: () => systemClock.now() + seconds };
}

export class ManualClock implements Clock {
  constructor(private t = 1_700_000_000) {}
  now(): number {
    return this.t;
  }
  advance(seconds: number): void {
    this.t += seconds;
  }
}
