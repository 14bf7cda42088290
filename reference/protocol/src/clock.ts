/** A source of time. Every component takes one so tests never wait for time to pass. */
export interface Clock {
  /** Unix time in milliseconds. */
  now(): number;
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to; for tests and the conformance test-control service. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}

  now(): number {
    return this.ms;
  }

  set(ms: number): void {
    this.ms = ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A clock that runs with the machine's but can be moved forward (test-control AdvanceClock). */
export class OffsetClock implements Clock {
  private offsetMs = 0;

  constructor(private readonly base: Clock = systemClock) {}

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** Unix seconds of a clock, rounded down. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
