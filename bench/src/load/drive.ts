import { performance } from "node:perf_hooks";
import type { Histogram } from "hdr-histogram-js";
import { type CpuSnapshot, type CpuUse, cpuSnapshot, cpuUse } from "./cpu.js";
import {
  encodeHistogram,
  type LatencySummary,
  newLatencyHistogram,
  percentileCurve,
  recordMs,
  summarize,
} from "./latency.js";
import type { ProgressSink } from "./progress.js";

/** Closed loop: N calls always in flight. Open loop: calls sent at a fixed rate whatever happens. */
export type LoadMode =
  | { kind: "closed"; concurrency: number }
  | { kind: "open"; rate: number; maxInFlight: number };

/**
 * Where the calls come from. `start()` sends the next call and returns a
 * promise of `undefined` (answered) or an error label; `null` when there is
 * nothing left to send (for Scan: the pre-generated codes ran out).
 */
export interface RequestSource {
  start(): Promise<string | undefined> | null;
}

export interface PhaseResult {
  name: string;
  mode: LoadMode;
  warmupS: number;
  durationS: number;
  /** Seconds the measured calls actually spanned (≥ durationS when the server fell behind). */
  measuredS: number;
  /** "time" normally; "exhausted" when the source ran dry early. */
  ended: "time" | "exhausted";
  /** Measured calls that got an answer (any status) or failed. */
  calls: number;
  ok: number;
  /** ok answers per second over measuredS. */
  throughput: number;
  errors: Record<string, number>;
  /** Latency of answered measured calls, µs; open loop: from the intended send time. */
  latency: LatencySummary;
  /**
   * CPU over the measured part: the load generator (this process) and, with
   * a server pid on Linux, the server; percent of one core and µs per call.
   */
  cpu?: CpuUse;
  /** Open loop: how late calls left the generator (its own floor), µs. */
  sendLag?: LatencySummary;
  /** [percentile, µs] on the nines scale, for plots. */
  curve: [number, number][];
  /** The whole histogram, HdrHistogram compressed base64. */
  histogram: string;
}

export interface DriveOptions {
  name: string;
  mode: LoadMode;
  warmupS: number;
  durationS: number;
  source: RequestSource;
  progress?: ProgressSink;
  /** Server process id, to report its CPU use (Linux /proc; same machine only). */
  serverPid?: number;
}

interface PhaseState {
  histogram: Histogram;
  /** Open loop: actual send time minus intended send time, measured calls. */
  sendLag: Histogram;
  errors: Record<string, number>;
  calls: number;
  ok: number;
  lastDone: number;
  exhausted: boolean;
  // progress counters, all calls including warm-up
  intervalDone: number;
  intervalErrors: number;
}

function newState(): PhaseState {
  return {
    histogram: newLatencyHistogram(),
    sendLag: newLatencyHistogram(),
    errors: {},
    calls: 0,
    ok: 0,
    lastDone: 0,
    exhausted: false,
    intervalDone: 0,
    intervalErrors: 0,
  };
}

function settle(
  s: PhaseState,
  measured: boolean,
  error: string | undefined,
  from: number,
  now: number,
): void {
  s.intervalDone++;
  if (error !== undefined) s.intervalErrors++;
  if (!measured) return;
  s.calls++;
  s.lastDone = now;
  if (error === undefined) {
    s.ok++;
    recordMs(s.histogram, now - from);
  } else {
    s.errors[error] = (s.errors[error] ?? 0) + 1;
  }
}

function errorLabel(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  return `transport:${typeof code === "string" ? code : "error"}`;
}

/** Runs one phase (warm-up, then the measured part) and summarizes it. */
export async function drivePhase(o: DriveOptions): Promise<PhaseResult> {
  const s = newState();
  const start = performance.now();
  const measureStart = start + o.warmupS * 1000;
  const end = measureStart + o.durationS * 1000;
  const totalS = o.warmupS + o.durationS;

  let cpuStart: CpuSnapshot | undefined;
  let cpuEnd: CpuSnapshot | undefined;
  const cpuStartTimer = setTimeout(() => {
    cpuStart = cpuSnapshot(o.serverPid);
  }, o.warmupS * 1000);
  const cpuEndTimer = setTimeout(
    () => {
      cpuEnd = cpuSnapshot(o.serverPid);
    },
    (o.warmupS + o.durationS) * 1000,
  );

  let lastTick = start;
  const ticker = setInterval(() => {
    const now = performance.now();
    const elapsedS = (now - start) / 1000;
    o.progress?.tick({
      phase: o.name,
      warm: now < measureStart,
      elapsedS: Math.min(elapsedS, totalS),
      totalS,
      intervalRate: (s.intervalDone * 1000) / (now - lastTick),
      intervalErrors: s.intervalErrors,
      measuredOk: s.ok,
      p50Us: s.histogram.totalCount > 0 ? s.histogram.getValueAtPercentile(50) : 0,
      p99Us: s.histogram.totalCount > 0 ? s.histogram.getValueAtPercentile(99) : 0,
    });
    lastTick = now;
    s.intervalDone = 0;
    s.intervalErrors = 0;
  }, 500);

  try {
    if (o.mode.kind === "closed") {
      await closedLoop(o.mode.concurrency, o.source, s, measureStart, end);
    } else {
      await openLoop(o.mode.rate, o.mode.maxInFlight, o.source, s, start, measureStart, end);
    }
  } finally {
    clearInterval(ticker);
    clearTimeout(cpuStartTimer);
    clearTimeout(cpuEndTimer);
    o.progress?.done(o.name);
  }

  // Calls started in the measured window; the window may have ended early (exhausted).
  cpuEnd ??= cpuSnapshot(o.serverPid);
  const cpu = cpuStart !== undefined ? cpuUse(cpuStart, cpuEnd, s.calls) : undefined;
  const spanMs = Math.max(o.durationS * 1000, s.lastDone - measureStart);
  const measuredS = s.exhausted
    ? Math.max(0.001, (s.lastDone - measureStart) / 1000)
    : spanMs / 1000;
  return {
    name: o.name,
    mode: o.mode,
    warmupS: o.warmupS,
    durationS: o.durationS,
    measuredS: Math.round(measuredS * 1000) / 1000,
    ended: s.exhausted ? "exhausted" : "time",
    calls: s.calls,
    ok: s.ok,
    throughput: s.calls > 0 ? Math.round((s.ok / measuredS) * 10) / 10 : 0,
    errors: s.errors,
    latency: summarize(s.histogram),
    ...(cpu !== undefined ? { cpu } : {}),
    ...(o.mode.kind === "open" ? { sendLag: summarize(s.sendLag) } : {}),
    curve: percentileCurve(s.histogram),
    histogram: encodeHistogram(s.histogram),
  };
}

async function closedLoop(
  concurrency: number,
  source: RequestSource,
  s: PhaseState,
  measureStart: number,
  end: number,
): Promise<void> {
  const worker = async () => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      const p = source.start();
      if (p === null) {
        s.exhausted = true;
        return;
      }
      let error: string | undefined;
      try {
        error = await p;
      } catch (e) {
        error = errorLabel(e);
      }
      settle(s, t0 >= measureStart, error, t0, performance.now());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Call i is due at start + i/rate. Its latency runs from that intended time,
 * not from when it was actually sent, so a server stall counts against
 * every call that should have gone out during it (coordinated omission).
 * Calls beyond maxInFlight wait in a queue, and the wait is charged too.
 *
 * Node timers fire on a 1 ms clock and usually late, which alone would
 * add ~1 ms to every call. So the loop wakes up to LEAD_MS early and sends
 * what is due by then; a call sent early is timed from its real send time
 * (never from before it left), a call sent late from its intended time.
 * How late calls actually left is kept as `sendLag`, the generator's own floor.
 */
const LEAD_MS = 1;

function openLoop(
  rate: number,
  maxInFlight: number,
  source: RequestSource,
  s: PhaseState,
  start: number,
  measureStart: number,
  end: number,
): Promise<void> {
  const intervalMs = 1000 / rate;
  const total = Math.floor(((end - start) / 1000) * rate);
  let sent = 0;
  let inFlight = 0;
  let stopped = false;
  const queue: number[] = [];
  return new Promise<void>((resolve) => {
    const maybeResolve = () => {
      if ((stopped || sent >= total) && inFlight === 0 && queue.length === 0) resolve();
    };
    const launch = (intended: number) => {
      const sentAt = performance.now();
      const from = Math.min(sentAt, intended);
      if (intended >= measureStart) recordMs(s.sendLag, Math.max(0, sentAt - intended));
      const p = source.start();
      if (p === null) {
        s.exhausted = true;
        stopped = true;
        queue.length = 0;
        maybeResolve();
        return;
      }
      inFlight++;
      const measured = intended >= measureStart;
      p.then(
        (error) => done(measured, error, from),
        (e: unknown) => done(measured, errorLabel(e), from),
      );
    };
    const done = (measured: boolean, error: string | undefined, from: number) => {
      inFlight--;
      settle(s, measured, error, from, performance.now());
      while (!stopped && inFlight < maxInFlight && queue.length > 0) launch(queue.shift()!);
      maybeResolve();
    };
    const tick = () => {
      if (stopped) return;
      const now = performance.now();
      const due = Math.min(total, Math.floor((now + LEAD_MS - start) / intervalMs) + 1);
      while (sent < due && !stopped) {
        const intended = start + sent * intervalMs;
        sent++;
        if (inFlight < maxInFlight) launch(intended);
        else queue.push(intended);
      }
      if (sent < total && !stopped) {
        // Sleep until the next call is due; timers have ~1 ms resolution,
        // and calls that became due meanwhile go out together.
        setTimeout(tick, Math.max(0, start + sent * intervalMs - LEAD_MS - performance.now()));
      } else {
        maybeResolve();
      }
    };
    tick();
  });
}
