import { setMaxListeners } from "node:events";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import {
  ConformanceService,
  type GetCapabilitiesResponse,
  GetCapabilitiesResponseSchema,
  IssuerProfileSchema,
} from "@paycode/protocol/v1";
import { createPaycodeTransport, type PaycodeTransport } from "@paycode/sdk";
import type { Case, CaseContext, HttpVersion, Protocol } from "./case.js";
import { DEFAULT_PARALLEL, DEFAULT_TIMEOUT_MS } from "./defaults.js";
import { CaseFailure, Expect } from "./expect.js";
import { Fixtures } from "./fixtures/fixtures.js";
import { matchesAny, matchesGlob } from "./glob.js";
import type { KnownFailingEntry } from "./known-failing.js";
import { invalidTargetReason, probeTarget, type TargetProblem } from "./probe.js";
import type { CaseResult, CaseStatus, RunReport } from "./result.js";
import { summarize } from "./result.js";
import { controlClient, RpcFailure, RpcTracker, rawClients } from "./rpc.js";
import { RwLock } from "./rw-lock.js";
import { RunClock, TargetClock } from "./target-clock.js";
import { defaultHttpVersion } from "./transport.js";
import { SUITE_VERSION } from "./version.js";

/** Progress callbacks; reporters implement them. All are optional and must not throw. */
export interface RunListener {
  onStart?(info: {
    target: string;
    implementation: string;
    total: number;
    features: string[];
  }): void;
  onCaseStart?(c: Case): void;
  onCaseEnd?(r: CaseResult, soFar: RunReport): void;
  onEnd?(report: RunReport): void;
}

export interface RunOptions {
  /** Base URL of the implementation under test. */
  target: string;
  protocol?: Protocol;
  httpVersion?: HttpVersion;
  /** The catalog; defaults are supplied by the caller (see `allCases`). */
  cases: readonly Case[];
  /** Only cases matching one of these globs (all when empty). */
  run?: readonly string[];
  /** Minus cases matching one of these globs. */
  skip?: readonly string[];
  /** Cases running at once; default 8. */
  parallel?: number;
  /** Per-case timeout; default 30000 ms. A case may ask for more. */
  timeoutMs?: number;
  /** Recommended cases count like required ones. */
  strict?: boolean;
  knownFailing?: readonly KnownFailingEntry[];
  /** Aborting it stops the run; results so far are kept. */
  signal?: AbortSignal;
  listener?: RunListener;
}

export { DEFAULT_PARALLEL, DEFAULT_TIMEOUT_MS };

/** The pre-run probe waits at most this long per call (or the case timeout, if shorter). */
export const PROBE_TIMEOUT_MS = 10_000;

/** Cases chosen by --run / --skip, in catalog order. */
export function selectCases(
  cases: readonly Case[],
  run: readonly string[] = [],
  skip: readonly string[] = [],
): Case[] {
  return cases.filter(
    (c) => (run.length === 0 || matchesAny(c.id, run)) && !matchesAny(c.id, skip),
  );
}

class TimeoutError extends Error {}

function describeError(e: unknown): string {
  if (e instanceof CaseFailure) return e.message;
  if (e instanceof RpcFailure) return e.message;
  if (e instanceof TimeoutError) return e.message;
  if (e instanceof Error) {
    const where = e.stack?.split("\n")[1]?.trim() ?? "";
    return `unexpected ${e.name}: ${e.message}${where ? ` (${where})` : ""}`;
  }
  return `unexpected throw: ${String(e)}`;
}

/**
 * Runs the suite against a target. Never throws for anything the target
 * does. First it probes the target (`probeTarget`): a target that cannot be
 * tested at all (bad URL, unreachable, not a Paycode server, no test
 * control, wrong protocol) ends the run before any case, with
 * `report.targetProblem` saying why and no listener called. Otherwise a
 * hang is a timed-out case, a bad answer a failed one. Results are
 * reported to the listener as they come, so an interrupted run keeps them.
 */
export async function runSuite(o: RunOptions): Promise<RunReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const protocol = o.protocol ?? "connect";
  const httpVersion = o.httpVersion ?? defaultHttpVersion(protocol);
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const parallel = Math.max(1, o.parallel ?? DEFAULT_PARALLEL);
  const strict = o.strict ?? false;
  const known = o.knownFailing ?? [];
  const selected = selectCases(o.cases, o.run, o.skip);
  const results: CaseResult[] = [];
  const interruptSignal = o.signal ?? new AbortController().signal;
  setMaxListeners(0, interruptSignal);

  const report: RunReport = {
    suiteVersion: SUITE_VERSION,
    target: o.target,
    protocol,
    httpVersion,
    implementation: "",
    features: [],
    startedAt: startedAt.toISOString(),
    durationMs: 0,
    strict,
    interrupted: false,
    unmatchedKnownFailing: known
      .filter((k) => !selected.some((c) => matchesGlob(c.id, k.pattern)))
      .map((k) => k.pattern),
    summary: summarize([]),
    cases: results,
    ok: false,
  };
  const finish = (): RunReport => {
    report.durationMs = Math.round(performance.now() - t0);
    report.summary = summarize(results);
    report.ok =
      report.summary.blockingFailures === 0 && !report.interrupted && !report.targetProblem;
    return report;
  };

  // Nothing runs against a target that cannot be tested at all: one
  // problem, no cases, and no listener calls.
  const refuse = (problem: TargetProblem): RunReport => {
    report.targetProblem = problem;
    return finish();
  };
  const invalid = invalidTargetReason(o.target);
  if (invalid) return refuse({ kind: "invalid-target", message: invalid });
  let pt: PaycodeTransport;
  try {
    pt = createPaycodeTransport({ baseUrl: o.target, protocol, httpVersion });
  } catch (e) {
    return refuse({ kind: "invalid-target", message: (e as Error).message });
  }

  // With "settable-clock" the run owns the target's clock: it records it,
  // runs at a fixed time of day and leaves it where it found it, whatever
  // happens (interruption, failure, a harness error).
  let runClock: RunClock | undefined;
  try {
    const probed = await probeTarget({
      transport: pt.transport,
      target: o.target,
      protocol,
      httpVersion,
      timeoutMs: Math.min(timeoutMs, PROBE_TIMEOUT_MS),
      signal: interruptSignal,
    });
    if ("interrupted" in probed) {
      report.interrupted = true;
      return finish();
    }
    if ("problem" in probed) return refuse(probed.problem);
    const caps: GetCapabilitiesResponse = probed.capabilities;
    report.implementation = caps.implementation;
    report.features = [...caps.features];
    if (caps.features.includes("settable-clock")) {
      runClock = new RunClock(createClient(ConformanceService, pt.transport));
      await runClock.begin(caps.now, caps.clockFrozen);
    }
    o.listener?.onStart?.({
      target: o.target,
      implementation: report.implementation,
      total: selected.length,
      features: report.features,
    });

    const lock = new RwLock();
    // Exclusive (clock-moving) cases first: they run one at a time, then the
    // rest fill every worker.
    const queue = [...selected.filter((c) => c.exclusive), ...selected.filter((c) => !c.exclusive)];
    const emit = (r: CaseResult) => {
      results.push(r);
      try {
        if (o.listener?.onCaseEnd) o.listener.onCaseEnd(r, finish());
      } catch {
        // A reporter bug must not stop certification.
      }
    };

    const runOne = async (c: Case): Promise<void> => {
      const missing = c.features.filter((f) => !report.features.includes(f));
      if (missing.length > 0) {
        emit(
          result(
            c,
            "skipped",
            0,
            `target does not claim feature${missing.length > 1 ? "s" : ""} ${missing.map((f) => JSON.stringify(f)).join(", ")}`,
            strict,
          ),
        );
        return;
      }
      const release = await lock.acquire(c.exclusive ?? false);
      try {
        if (interruptSignal.aborted) return;
        o.listener?.onCaseStart?.(c);
        const r = await executeCase(c, {
          transport: pt,
          caps,
          protocol,
          httpVersion,
          target: o.target,
          timeoutMs: c.timeoutMs ?? timeoutMs,
          interrupt: interruptSignal,
        });
        // A case that froze the clock leaves it running for the next ones.
        if (c.exclusive) await runClock?.afterExclusiveCase();
        const listed = known.some((k) => matchesGlob(c.id, k.pattern));
        if (listed && r.status === "failed") {
          emit(result(c, "known-failing", r.durationMs, r.message, strict, r.notes));
        } else if (listed && r.status === "passed") {
          emit({
            ...result(
              c,
              "failed",
              r.durationMs,
              "stale known-failing entry: the case is listed as known-failing but passed; remove it from the list",
              strict,
            ),
            staleKnownFailing: true,
            blocking: true,
          });
        } else {
          emit(result(c, r.status, r.durationMs, r.message, strict, r.notes));
        }
      } finally {
        release();
      }
    };

    let next = 0;
    const worker = async () => {
      while (next < queue.length && !interruptSignal.aborted) {
        const c = queue[next++]!;
        await runOne(c);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, worker));
    report.interrupted = interruptSignal.aborted && results.length < selected.length;
  } finally {
    await runClock?.end();
    pt.close();
  }
  finish();
  o.listener?.onEnd?.(report);
  return report;
}

function result(
  c: Case,
  status: CaseStatus,
  durationMs: number,
  message: string,
  strict: boolean,
  notes?: readonly string[],
): CaseResult {
  return {
    id: c.id,
    title: c.title,
    requirements: [...c.requirements],
    severity: c.severity,
    features: [...c.features],
    status,
    durationMs: Math.round(durationMs),
    message,
    ...(notes && notes.length > 0 && status !== "passed" ? { notes: [...notes] } : {}),
    blocking: status === "failed" && (c.severity === "required" || strict),
  };
}

interface ExecEnv {
  transport: PaycodeTransport;
  caps: GetCapabilitiesResponse | undefined;
  protocol: Protocol;
  httpVersion: HttpVersion;
  target: string;
  timeoutMs: number;
  interrupt: AbortSignal;
}

/** Runs one case under its timeout; whatever happens, returns a result. */
export async function executeCase(
  c: Case,
  env: ExecEnv,
): Promise<{ status: "passed" | "failed"; durationMs: number; message: string; notes: string[] }> {
  const t0 = performance.now();
  const ac = new AbortController();
  // Every in-flight RPC of a case listens on its signal; concurrent cases
  // legitimately have more than Node's default of 10.
  setMaxListeners(0, ac.signal);
  const tracker = new RpcTracker();
  const notes: string[] = [];
  const cleanups: (() => void | Promise<void>)[] = [];
  const onInterrupt = () => ac.abort(new TimeoutError(`run interrupted (${tracker.describe()})`));
  env.interrupt.addEventListener("abort", onInterrupt, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const caps = env.caps;
    const control = controlClient(env.transport.transport, ac.signal, tracker);
    const currency = caps?.profile?.currency || "CNY";
    const clock = new TargetClock(
      control,
      caps ? caps.features.includes("controllable-clock") : true,
      ac.signal,
      caps ? caps.features.includes("settable-clock") : false,
    );
    const ctx: CaseContext = {
      target: env.target,
      protocol: env.protocol,
      httpVersion: env.httpVersion,
      signal: ac.signal,
      // Without capabilities, cases still run (and fail on their own RPCs)
      // against an empty default profile rather than on undefined fields.
      capabilities: caps ?? create(GetCapabilitiesResponseSchema, {}),
      profile: caps?.profile ?? create(IssuerProfileSchema, { currency }),
      clock,
      fixtures: new Fixtures(
        c.id,
        env.transport.transport,
        control,
        ac.signal,
        tracker,
        clock,
        currency,
        {
          baseUrl: env.target,
          protocol: env.protocol,
          httpVersion: env.httpVersion,
          defer: (fn) => cleanups.push(fn),
        },
      ),
      control,
      raw: rawClients(env.transport.transport, ac.signal, tracker),
      expect: new Expect(control, () => currency),
      log: (m) => notes.push(m),
      defer: (fn) => cleanups.push(fn),
    };
    // The timer and an interrupt both abort the case's signal; that ends the race.
    const aborted = new Promise<never>((_, reject) => {
      ac.signal.addEventListener("abort", () => reject(ac.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    timer = setTimeout(() => {
      ac.abort(new TimeoutError(`timed out after ${env.timeoutMs} ms (${tracker.describe()})`));
    }, env.timeoutMs);
    if (env.interrupt.aborted) onInterrupt();
    const running = Promise.resolve().then(() => c.run(ctx));
    // A case still running after its timeout is abandoned; swallow its late rejection.
    running.catch(() => {});
    await Promise.race([running, aborted]);
    return { status: "passed", durationMs: performance.now() - t0, message: "", notes };
  } catch (e) {
    return {
      status: "failed",
      durationMs: performance.now() - t0,
      message: describeError(e),
      notes,
    };
  } finally {
    clearTimeout(timer);
    env.interrupt.removeEventListener("abort", onInterrupt);
    // Cancel anything the case left in flight (e.g. a racing duplicate call).
    if (!ac.signal.aborted) ac.abort(new TimeoutError("case finished"));
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // Cleanup is best effort; the verdict is already made.
      }
    }
  }
}
