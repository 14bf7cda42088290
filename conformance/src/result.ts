import type { Feature, HttpVersion, Protocol, Severity } from "./case.js";
import type { TargetProblem } from "./probe-codes.js";

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
  protocol: Protocol;
  httpVersion: HttpVersion;
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
