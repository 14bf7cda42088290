import type { Feature, HttpVersion, Protocol, Severity } from "./case.js";
import type { TargetProblem } from "./probe-codes.js";
import type { Codec } from "./run-config.js";

/** How one case went on one config of the run. */
export interface ConfigOutcome {
  /** The config's name, e.g. "connect-http1.1-json" (see `configName`). */
  readonly config: string;
  readonly status: "passed" | "failed" | "known-failing";
  readonly durationMs: number;
  /** Why it failed; empty when it passed. */
  readonly message: string;
  readonly notes?: readonly string[];
  /** Listed as known-failing on this config but passed. */
  readonly staleKnownFailing?: boolean;
}

/** One config of a run and what the target made of it. */
export interface ConfigReport {
  readonly name: string;
  readonly protocol: Protocol;
  readonly httpVersion: HttpVersion;
  readonly codec: Codec;
  /** Mandatory by [RPC-3]: in every run, and its check fails the run when not served. */
  readonly mandatory: boolean;
  /** The target answers HealthService.Ping over it. */
  readonly served: boolean;
  /** Why it is not served. */
  readonly why?: string;
  /** Which cases ran on it: every selected case, the optional-config subset, or none (not served). */
  readonly cases: "all" | "subset" | "none";
  /** Whether the run has a `protocols/<name>` check for it (not for unclaimed configs of a "claimed" run). */
  readonly checked: boolean;
}

export type CaseStatus = "passed" | "failed" | "skipped" | "known-failing";

/** The outcome of one case, as every report shows it. */
export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly requirements: readonly string[];
  readonly severity: Severity;
  readonly features: readonly Feature[];
  readonly status: CaseStatus;
  readonly durationMs: number;
  /** Why it failed or was skipped; empty when it passed. */
  readonly message: string;
  /** Notes the case logged, kept for failures. */
  readonly notes?: readonly string[];
  /** True when a known-failing entry listed the case but it passed. */
  readonly staleKnownFailing?: boolean;
  /** True when the failure counts against the run (required, or --strict). */
  readonly blocking?: boolean;
  /**
   * The configs the case ran on, each with its own verdict; `status` and
   * `message` sum them up. Empty when it was skipped, and for the
   * `protocols/<config>` checks, whose id names their config.
   */
  readonly configs: readonly ConfigOutcome[];
}

export interface RunSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  knownFailing: number;
  /** Failures that make the run fail (required cases, or any with --strict, and stale entries). */
  blockingFailures: number;
  staleKnownFailing: number;
}

/** The whole run; `json.ts` writes exactly this. */
export interface RunReport {
  suiteVersion: string;
  target: string;
  /** The config the harness drove test control over (the first served config of the run). */
  protocol: Protocol;
  httpVersion: HttpVersion;
  /** Every config of the run, mandatory ones first, and which the target serves. */
  configs: ConfigReport[];
  /**
   * Mandatory configs the caller left out of the run (only a library
   * caller can); a run that did not exercise them cannot pass.
   */
  unexercisedMandatory: string[];
  implementation: string;
  features: string[];
  /**
   * Why the target could not be tested at all (checked before any case);
   * when set, no case ran and `cases` is empty.
   */
  targetProblem?: TargetProblem;
  startedAt: string;
  durationMs: number;
  strict: boolean;
  /** True when the run stopped early (interrupt); cases not run are absent. */
  interrupted: boolean;
  /** Known-failing patterns that matched no selected case. */
  unmatchedKnownFailing: string[];
  summary: RunSummary;
  cases: CaseResult[];
  /** Exit status the CLI returns: true when nothing blocking failed. */
  ok: boolean;
}

export function emptySummary(): RunSummary {
  return {
    total: 0,
    passed: 0,
    failed: 0,
    skipped: 0,
    knownFailing: 0,
    blockingFailures: 0,
    staleKnownFailing: 0,
  };
}

export function summarize(cases: readonly CaseResult[]): RunSummary {
  const s = emptySummary();
  for (const c of cases) {
    s.total++;
    if (c.status === "passed") s.passed++;
    else if (c.status === "failed") s.failed++;
    else if (c.status === "skipped") s.skipped++;
    else s.knownFailing++;
    if (c.blocking) s.blockingFailures++;
    if (c.staleKnownFailing) s.staleKnownFailing++;
  }
  return s;
}
