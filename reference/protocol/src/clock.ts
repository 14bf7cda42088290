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

/** A clock test control may set and freeze (feature "settable-clock"). */
export interface SettableClock extends Clock {
  /** Sets the clock to `ms` (Unix milliseconds), frozen there or running on from it. */
  set(ms: number, frozen: boolean): void;
  /** Whether the clock stands still. */
  readonly frozen: boolean;
}

/**
 * A clock that runs with the machine's but can be moved forward
 * (test-control AdvanceClock), set to any time and frozen there
 * (test-control SetClock). While frozen it reads exactly the time set;
 * unfrozen it runs on from there at the rate of its base clock.
 */
export class OffsetClock implements SettableClock {
  private offsetMs = 0;
  private frozenAtMs: number | undefined;

  /** `startMs`: the time the clock reads at construction (default: the base clock's). */
  constructor(
    private readonly base: Clock = systemClock,
    startMs?: number,
  ) {
    if (startMs !== undefined) this.offsetMs = startMs - base.now();
  }

  now(): number {
    return this.frozenAtMs ?? this.base.now() + this.offsetMs;
  }

  /** Whether the clock stands still (SetClock with `frozen`). */
  get frozen(): boolean {
    return this.frozenAtMs !== undefined;
  }

  /** Moves the clock forward; a frozen clock stays frozen at the later time. */
  advance(ms: number): void {
    if (this.frozenAtMs !== undefined) this.frozenAtMs += ms;
    else this.offsetMs += ms;
  }

  /** Sets the clock to `ms`, frozen there or running on from it. */
  set(ms: number, frozen: boolean): void {
    if (frozen) {
      this.frozenAtMs = ms;
    } else {
      this.frozenAtMs = undefined;
      this.offsetMs = ms - this.base.now();
    }
  }
}

/** Unix seconds of a clock, rounded down. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
