import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampMs } from "@bufbuild/protobuf/wkt";
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

  constructor(
    private readonly control: Client<typeof ConformanceService>,
    private readonly canAdvance: boolean,
    private readonly signal: AbortSignal,
  ) {}

  /** Records an issuer time read from any response (ProvisionSeed.server_time, ...). */
  observe(t: Timestamp | undefined): void {
    if (!t) return;
    this.baseIssuerMs = timestampMs(t);
    this.baseLocalMs = Date.now();
  }

  /** Reads the issuer clock through GetCapabilities; returns Unix seconds. */
  async sync(): Promise<number> {
    const caps = await this.control.getCapabilities({});
    if (!caps.now) throw new CaseFailure("GetCapabilities returned no `now`");
    this.observe(caps.now);
    return this.nowSeconds();
  }

  /** Estimated issuer time, Unix milliseconds. */
  nowMs(): number {
    if (this.baseIssuerMs === undefined) {
      throw new Error("harness bug: TargetClock used before sync()");
    }
    return this.baseIssuerMs + (Date.now() - this.baseLocalMs);
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
    if (before !== undefined && this.nowMs() < before + seconds * 1000 - 5_000) {
      throw new CaseFailure(
        `AdvanceClock(${seconds}s) moved the clock to ${new Date(this.nowMs()).toISOString()}, expected at least ${new Date(before + seconds * 1000).toISOString()}`,
      );
    }
    return this.nowSeconds();
  }
}
