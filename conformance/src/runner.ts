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
import { aggregate, protocolCheck, skippedResult } from "./case-outcome.js";
import { planConfigs } from "./config-plan.js";
import { DEFAULT_PARALLEL, DEFAULT_TIMEOUT_MS } from "./defaults.js";
import { CaseFailure, Expect } from "./expect.js";
import { Fixtures } from "./fixtures/fixtures.js";
import { matchesAny } from "./glob.js";
import { type KnownFailingEntry, listsCase } from "./known-failing.js";
import { invalidTargetReason, probeTarget, servesConfig, type TargetProblem } from "./probe.js";
import type { CaseResult, ConfigOutcome, ConfigReport, RunReport } from "./result.js";
import { summarize } from "./result.js";
import { controlClient, RpcFailure, RpcTracker, rawClients } from "./rpc.js";
import {
  type Codec,
  type ConfigSelection,
  configName,
  OPTIONAL_CONFIG_CASES,
  type RunConfig,
  sameConfig,
} from "./run-config.js";
import { RwLock } from "./rw-lock.js";
import { RunClock, TargetClock } from "./target-clock.js";
import { SUITE_VERSION } from "./version.js";

export { PROTOCOL_CHECK_FAMILY } from "./case-outcome.js";
export { planConfigs } from "./config-plan.js";

/** Progress callbacks; reporters implement them. All are optional and must not throw. */
export interface RunListener {
  onStart?(info: {
    target: string;
    implementation: string;
    /** Results to come: one per selected case, plus one `protocols/…` check per checked config. */
    total: number;
    features: string[];
    /** The configs of the run and which the target serves. */
    configs?: readonly ConfigReport[];
  }): void;
  /** Called once per case, when it starts on its first config. */
  onCaseStart?(c: Case): void;
  /** Called once per case, when it has run on every config of the run. */
  onCaseEnd?(r: CaseResult, soFar: RunReport): void;
  onEnd?(report: RunReport): void;
}

export interface RunOptions {
  /** Base URL of the implementation under test. */
  target: string;
  /**
   * Narrows the optional part of the run to this one protocol (with
   * `httpVersion`, default per `defaultHttpVersion`), on which every case
   * runs; the target must serve it (else "wrong-protocol"). The mandatory
   * configs run anyway. Overrides `configs`.
   */
  protocol?: Protocol;
  httpVersion?: HttpVersion;
  /**
   * Which configs to exercise (see `ConfigSelection`); default "mandatory".
   * A list runs exactly those configs, every case on each: a run whose list
   * leaves out a mandatory config cannot pass (`unexercisedMandatory`); the
   * mutant matrix runs on `[PRIMARY_CONFIG]` alone this way.
   */
  configs?: ConfigSelection | readonly RunConfig[];
  /** Every case on the optional configs too, not only `OPTIONAL_CONFIG_CASES`. */
  fullMatrix?: boolean;
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

/** Finding out which other configs the target serves waits at most this long per config. */
export const CONFIG_PROBE_TIMEOUT_MS = 3_000;

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
 * control, a protocol asked for that it does not speak) ends the run
 * before any case, with `report.targetProblem` saying why and no listener
 * called. Then it finds which configs of the run the target serves: each
 * gets a `protocols/<config>` check (a mandatory one not served fails the
 * run, [RPC-3]) and the cases run on every served config, each case once
 * per config. A hang is a timed-out case, a bad answer a failed one.
 * Results are reported to the listener as they come, so an interrupted
 * run keeps them.
 */
export async function runSuite(o: RunOptions): Promise<RunReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const plan = planConfigs(o);
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
    protocol: plan.requested.protocol,
    httpVersion: plan.requested.httpVersion,
    configs: [],
    unexercisedMandatory: plan.unexercisedMandatory,
    implementation: "",
    features: [],
    startedAt: startedAt.toISOString(),
    durationMs: 0,
    strict,
    interrupted: false,
    unmatchedKnownFailing: [],
    summary: summarize([]),
    cases: results,
    ok: false,
  };
  const finish = (): RunReport => {
    report.durationMs = Math.round(performance.now() - t0);
    report.summary = summarize(results);
    report.ok =
      report.summary.blockingFailures === 0 &&
      !report.interrupted &&
      !report.targetProblem &&
      report.unexercisedMandatory.length === 0;
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
  const transports = new Map<string, PaycodeTransport>();
  const transportFor = (c: RunConfig): PaycodeTransport => {
    const name = configName(c);
    let pt = transports.get(name);
    if (!pt) {
      pt = createPaycodeTransport({ baseUrl: o.target, ...c });
      transports.set(name, pt);
    }
    return pt;
  };
  try {
    transportFor(plan.requested);
  } catch (e) {
    return refuse({ kind: "invalid-target", message: (e as Error).message });
  }

  // With "settable-clock" the run owns the target's clock: it records it,
  // runs at a fixed time of day and leaves it where it found it, whatever
  // happens (interruption, failure, a harness error).
  let runClock: RunClock | undefined;
  try {
    const probeTimeout = Math.min(timeoutMs, PROBE_TIMEOUT_MS);
    const probed = await probeTarget({
      transport: transportFor(plan.requested).transport,
      target: o.target,
      ...plan.requested,
      timeoutMs: probeTimeout,
      signal: interruptSignal,
      fallback: plan.fallback,
    });
    if ("interrupted" in probed) {
      report.interrupted = true;
      return finish();
    }
    if ("problem" in probed) return refuse(probed.problem);
    const caps: GetCapabilitiesResponse = probed.capabilities;
    const controlConfig = probed.via ?? plan.requested;
    report.protocol = controlConfig.protocol;
    report.httpVersion = controlConfig.httpVersion;
    report.implementation = caps.implementation;
    report.features = [...caps.features];

    // Which configs of the run the target serves: the one the probe got
    // an answer on, and a Ping over each of the others.
    const served = await Promise.all(
      plan.configs.map(async (p) => {
        if (sameConfig(p.config, controlConfig)) return { served: true as const };
        if (probed.via && sameConfig(p.config, plan.requested)) {
          return { served: false as const, why: `HealthService.Ping: ${probed.requestedFailure}` };
        }
        return servesConfig(
          o.target,
          p.config,
          Math.min(probeTimeout, CONFIG_PROBE_TIMEOUT_MS),
          interruptSignal,
        );
      }),
    );
    if (served.some((s) => "interrupted" in s)) {
      report.interrupted = true;
      return finish();
    }
    const isServed = (i: number) => "served" in served[i]! && served[i]!.served;
    // A target serving no mandatory config fails the run anyway; the whole
    // catalog then runs on what it serves, so the report says all it can.
    const noMandatory = !plan.configs.some((p, i) => p.mandatory && isServed(i));
    report.configs = plan.configs.map((p, i) => {
      const s = served[i] as { served: true } | { served: false; why: string };
      return {
        name: configName(p.config),
        ...p.config,
        mandatory: p.mandatory,
        served: s.served,
        ...(s.served ? {} : { why: s.why }),
        cases: s.served ? (noMandatory ? "all" : p.cases) : "none",
        checked: s.served || p.mandatory || p.checkUnserved,
      };
    });
    const runOn = plan.configs
      .map((p, i) => ({ config: p.config, cases: report.configs[i]!.cases }))
      .filter((p) => p.cases !== "none");
    report.unmatchedKnownFailing = known
      .filter(
        (k) =>
          !selected.some((c) =>
            runOn.some(
              (p) =>
                (p.cases === "all" || OPTIONAL_CONFIG_CASES.includes(c.id)) &&
                listsCase(k.pattern, c.id, configName(p.config)),
            ),
          ),
      )
      .map((k) => k.pattern);

    if (caps.features.includes("settable-clock")) {
      runClock = new RunClock(
        createClient(ConformanceService, transportFor(controlConfig).transport),
      );
      await runClock.begin(caps.now, caps.clockFrozen);
    }
    const checks = report.configs.filter((c) => c.checked);
    const total = checks.length + selected.length;
    o.listener?.onStart?.({
      target: o.target,
      implementation: report.implementation,
      total,
      features: report.features,
      configs: report.configs,
    });

    const emit = (r: CaseResult) => {
      results.push(r);
      try {
        if (o.listener?.onCaseEnd) o.listener.onCaseEnd(r, finish());
      } catch {
        // A reporter bug must not stop certification.
      }
    };
    // [RPC-3] and [RPC-4]: one check per config, before any case. No
    // known-failing entry applies to them: a run that could not exercise
    // a MUST cannot pass.
    for (const c of checks) emit(protocolCheck(c, strict));

    // Every case on every served config that takes it; a case's result is
    // reported once it has run on all of them.
    interface Job {
      readonly c: Case;
      readonly config: RunConfig;
    }
    const pending = new Map<string, { expected: number; outcomes: ConfigOutcome[] }>();
    const started = new Set<string>();
    const jobs: Job[] = [];
    // Exclusive (clock-moving) cases first: they run one at a time, then the
    // rest fill every worker.
    const ordered = [
      ...selected.filter((c) => c.exclusive),
      ...selected.filter((c) => !c.exclusive),
    ];
    for (const c of ordered) {
      const missing = c.features.filter((f) => !report.features.includes(f));
      if (missing.length > 0) {
        emit(
          skippedResult(
            c,
            `target does not claim feature${missing.length > 1 ? "s" : ""} ${missing.map((f) => JSON.stringify(f)).join(", ")}`,
          ),
        );
        continue;
      }
      const configs = runOn.filter(
        (p) => p.cases === "all" || OPTIONAL_CONFIG_CASES.includes(c.id),
      );
      if (configs.length === 0) {
        emit(
          skippedResult(
            c,
            "not run: the target serves none of this run's configs (see the protocols/ checks)",
          ),
        );
        continue;
      }
      pending.set(c.id, { expected: configs.length, outcomes: [] });
      for (const p of configs) jobs.push({ c, config: p.config });
    }
    const configOrder = (name: string) => report.configs.findIndex((c) => c.name === name);
    const settle = (c: Case, force = false) => {
      const p = pending.get(c.id);
      if (!p || (p.outcomes.length < p.expected && !force) || p.outcomes.length === 0) return;
      pending.delete(c.id);
      p.outcomes.sort((a, b) => configOrder(a.config) - configOrder(b.config));
      emit(aggregate(c, p.outcomes, strict));
    };

    const lock = new RwLock();
    const runOne = async ({ c, config }: Job): Promise<void> => {
      const release = await lock.acquire(c.exclusive ?? false);
      try {
        if (interruptSignal.aborted) return;
        if (!started.has(c.id)) {
          started.add(c.id);
          o.listener?.onCaseStart?.(c);
        }
        const name = configName(config);
        const r = await executeCase(c, {
          transport: transportFor(config),
          caps,
          ...config,
          target: o.target,
          timeoutMs: c.timeoutMs ?? timeoutMs,
          interrupt: interruptSignal,
        });
        // A case that froze the clock leaves it running for the next ones.
        if (c.exclusive) await runClock?.afterExclusiveCase();
        const listed = known.some((k) => listsCase(k.pattern, c.id, name));
        const notes = r.notes.length > 0 ? { notes: [...r.notes] } : {};
        let outcome: ConfigOutcome;
        if (listed && r.status === "failed") {
          outcome = {
            config: name,
            status: "known-failing",
            durationMs: r.durationMs,
            message: r.message,
            ...notes,
          };
        } else if (listed && r.status === "passed") {
          outcome = {
            config: name,
            status: "failed",
            durationMs: r.durationMs,
            message:
              "stale known-failing entry: the case is listed as known-failing but passed; remove it from the list",
            staleKnownFailing: true,
          };
        } else {
          outcome = {
            config: name,
            status: r.status,
            durationMs: r.durationMs,
            message: r.message,
            ...(r.status === "passed" ? {} : notes),
          };
        }
        pending
          .get(c.id)
          ?.outcomes.push({ ...outcome, durationMs: Math.round(outcome.durationMs) });
        settle(c);
      } finally {
        release();
      }
    };

    let next = 0;
    const worker = async () => {
      while (next < jobs.length && !interruptSignal.aborted) {
        const job = jobs[next++]!;
        await runOne(job);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
    // An interrupted run keeps every case that ran on some of its configs.
    for (const c of ordered) settle(c, true);
    report.interrupted = interruptSignal.aborted && results.length < total;
  } finally {
    await runClock?.end();
    for (const pt of transports.values()) pt.close();
  }
  finish();
  o.listener?.onEnd?.(report);
  return report;
}

interface ExecEnv {
  transport: PaycodeTransport;
  caps: GetCapabilitiesResponse | undefined;
  protocol: Protocol;
  httpVersion: HttpVersion;
  codec: Codec;
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
      codec: env.codec,
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
          codec: env.codec,
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
