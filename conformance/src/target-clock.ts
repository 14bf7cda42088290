import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type { Clock } from "@paycode/protocol";
import type { ConformanceService } from "@paycode/protocol/v1";
import { CaseFailure } from "./expect.js";

/** Waits `ms`, or rejects as soon as the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The target issuer's clock as the harness sees it. Like a wallet, the
 * harness keeps the offset between the issuer's clock (read over RPC) and
 * its own, so cases can make codes for "the issuer's current step" even when
 * the target's clock was moved forward.
 */
export class TargetClock implements Clock {
  private baseIssuerMs: number | undefined;
  private baseLocalMs = 0;
  private isFrozen = false;

  constructor(
    private readonly control: Client<typeof ConformanceService>,
    private readonly canAdvance: boolean,
    private readonly signal: AbortSignal,
    private readonly canSet = false,
  ) {}

  /** Whether the target claims "settable-clock": cases may set and freeze its clock. */
  get settable(): boolean {
    return this.canSet;
  }

  /** Whether the harness last saw the target's clock frozen. */
  get frozen(): boolean {
    return this.isFrozen;
  }

  /**
   * Records an issuer time read from any response (ProvisionSeed.server_time,
   * ...), and whether the clock is frozen when the response says so.
   */
  observe(t: Timestamp | undefined, frozen?: boolean): void {
    if (!t) return;
    this.baseIssuerMs = timestampMs(t);
    this.baseLocalMs = performance.now();
    if (frozen !== undefined) this.isFrozen = frozen;
  }

  /** Reads the issuer clock through GetCapabilities; returns Unix seconds. */
  async sync(): Promise<number> {
    const caps = await this.control.getCapabilities({});
    if (!caps.now) throw new CaseFailure("GetCapabilities returned no `now`");
    this.observe(caps.now, caps.clockFrozen);
    return this.nowSeconds();
  }

  /** Estimated issuer time, Unix milliseconds (exact while the clock is frozen). */
  nowMs(): number {
    if (this.baseIssuerMs === undefined) {
      throw new Error("harness bug: TargetClock used before sync()");
    }
    if (this.isFrozen) return this.baseIssuerMs;
    return this.baseIssuerMs + Math.round(performance.now() - this.baseLocalMs);
  }

  /**
   * Sets the issuer clock to `ms` (feature "settable-clock"), frozen there
   * unless `running`, and checks that it reads exactly that. The run puts
   * the clock back to running after an exclusive case.
   */
  async set(ms: number, o: { running?: boolean } = {}): Promise<number> {
    if (!this.canSet) {
      throw new CaseFailure(
        "case needs the settable-clock feature, which the target does not claim",
      );
    }
    const frozen = !o.running;
    const r = await this.control.setClock({ now: timestampFromMs(ms), frozen });
    if (!r.now) throw new CaseFailure("SetClock returned no `now`");
    const got = timestampMs(r.now);
    // A running clock may have moved on by the time the answer is made.
    const ok = frozen ? got === ms : got >= ms && got < ms + 10_000;
    if (!ok || r.frozen !== frozen) {
      throw new CaseFailure(
        `SetClock(${new Date(ms).toISOString()}, frozen=${frozen}) answered ${new Date(got).toISOString()}, frozen=${r.frozen}`,
      );
    }
    this.observe(r.now, r.frozen);
    return ms;
  }

  /**
   * Moves the issuer clock to `ms`: exactly and frozen with
   * "settable-clock", else forward with AdvanceClock to at least `ms` (to
   * the next second). Returns whether the clock is exactly at `ms`.
   */
  async moveTo(ms: number): Promise<boolean> {
    if (this.canSet) {
      await this.set(ms);
      return true;
    }
    await this.sync();
    const seconds = Math.max(1, Math.ceil((ms - this.nowMs()) / 1000));
    await this.advance(seconds);
    return false;
  }

  /** `Clock` for reference peers (terminal, wallet) that live on the issuer's time. */
  now(): number {
    return this.nowMs();
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** The issuer's current online-code time step (60 s). */
  step(): number {
    return Math.floor(this.nowSeconds() / 60);
  }

  /**
   * Makes sure at least `marginSeconds` remain in the current time step, so
   * a case that places a code exactly at the edge of the window does not race
   * the minute boundary. Waits for the next step when too close.
   */
  async awayFromStepBoundary(marginSeconds = 2): Promise<number> {
    await this.sync();
    const intoStep = this.nowMs() % 60_000;
    if (intoStep > 60_000 - marginSeconds * 1000) {
      await sleep(60_000 - intoStep + 250, this.signal);
      await this.sync();
    }
    return this.step();
  }

  /** Moves the issuer clock forward (feature "controllable-clock"). */
  async advance(seconds: number): Promise<number> {
    if (!this.canAdvance) {
      throw new CaseFailure(
        "case needs the controllable-clock feature, which the target does not claim",
      );
    }
    const before = this.baseIssuerMs === undefined ? undefined : this.nowMs();
    const r = await this.control.advanceClock({ seconds });
    if (!r.now) throw new CaseFailure("AdvanceClock returned no `now`");
    this.observe(r.now);
    if (this.isFrozen) await this.sync();
    if (before !== undefined && this.nowMs() < before + seconds * 1000 - 5_000) {
      throw new CaseFailure(
        `AdvanceClock(${seconds}s) moved the clock to ${new Date(this.nowMs()).toISOString()}, expected at least ${new Date(before + seconds * 1000).toISOString()}`,
      );
    }
    return this.nowSeconds();
  }
}

/** Start of the UTC day of `ms`, Unix milliseconds. */
export function utcDayStartMs(ms: number): number {
  return Math.floor(ms / 86_400_000) * 86_400_000;
}

/**
 * The target's clock over one run (feature "settable-clock"): `begin`
 * records the clock as found and sets it to noon UTC of the next day, so
 * no case meets a day or minute boundary it did not ask for, whatever the
 * time of day of the run; `afterExclusiveCase` sets a clock a case froze
 * running again; `end` puts it back where it was found: the time found
 * plus the real time elapsed, running (or the time found, frozen, if it
 * was frozen). Every call is best effort and never throws.
 */
export class RunClock {
  private found: { ms: number; frozen: boolean; at: number } | undefined;

  constructor(private readonly control: Client<typeof ConformanceService>) {}

  /** Call with the capabilities read at the start of the run. */
  async begin(now: Timestamp | undefined, frozen: boolean): Promise<void> {
    if (!now) return;
    const ms = timestampMs(now);
    this.found = { ms, frozen, at: performance.now() };
    await this.setQuietly(utcDayStartMs(ms) + 86_400_000 + 12 * 3_600_000, false);
  }

  /** The clock as found at the start of the run, Unix milliseconds. */
  get foundMs(): number | undefined {
    return this.found?.ms;
  }

  async afterExclusiveCase(): Promise<void> {
    if (!this.found) return;
    try {
      const caps = await this.control.getCapabilities({}, { signal: AbortSignal.timeout(10_000) });
      if (caps.clockFrozen && caps.now) await this.setQuietly(timestampMs(caps.now), false);
    } catch {
      // The next case sees whatever the target does; the verdicts say so.
    }
  }

  async end(): Promise<void> {
    const f = this.found;
    if (!f) return;
    this.found = undefined;
    const elapsed = Math.round(performance.now() - f.at);
    await this.setQuietly(f.frozen ? f.ms : f.ms + elapsed, f.frozen);
  }

  private async setQuietly(ms: number, frozen: boolean): Promise<void> {
    try {
      await this.control.setClock(
        { now: timestampFromMs(ms), frozen },
        { signal: AbortSignal.timeout(10_000) },
      );
    } catch {
      // Best effort: a target whose SetClock fails is failed by its own cases.
    }
  }
}
