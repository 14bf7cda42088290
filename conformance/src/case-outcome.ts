import type { Case } from "./case.js";
import type { CaseResult, CaseStatus, ConfigOutcome, ConfigReport } from "./result.js";
import { configLabel } from "./run-config.js";

/** The family of the per-config checks the runner adds to every run. */
export const PROTOCOL_CHECK_FAMILY = "protocols";

/** The `protocols/<config>` check of one config: passed when the target serves it. */
export function protocolCheck(c: ConfigReport, strict: boolean): CaseResult {
  const label = configLabel(c);
  const message = c.served
    ? ""
    : c.mandatory
      ? `the target does not serve ${label} (${c.why ?? "no answer"}): [RPC-3] makes it mandatory, so no case could run on it and the run cannot pass`
      : `the target does not serve ${label} (${c.why ?? "no answer"}), which [RPC-4] recommends`;
  const status = c.served ? "passed" : "failed";
  const severity = c.mandatory ? "required" : "recommended";
  return {
    id: `${PROTOCOL_CHECK_FAMILY}/${c.name}`,
    title: `Serves ${label}${c.served ? `; ${c.cases === "all" ? "every case" : "the optional-config subset of cases"} ran on it` : ""}`,
    requirements: [c.mandatory ? "RPC-3" : "RPC-4"],
    severity,
    features: [],
    status,
    durationMs: 0,
    message,
    blocking: status === "failed" && (severity === "required" || strict),
    // The id names the config; the check runs no case on it.
    configs: [],
  };
}

export function skippedResult(c: Case, message: string): CaseResult {
  return {
    id: c.id,
    title: c.title,
    requirements: [...c.requirements],
    severity: c.severity,
    features: [...c.features],
    status: "skipped",
    durationMs: 0,
    message,
    blocking: false,
    configs: [],
  };
}

/**
 * One case's result from its configs: failed if it failed on any, known
 * failing if it failed only where listed, passed if it passed on all. The
 * message names the configs when the case did not fail the same way on
 * every config it ran on.
 */
export function aggregate(
  c: Case,
  outcomes: readonly ConfigOutcome[],
  strict: boolean,
): CaseResult {
  const failed = outcomes.filter((x) => x.status === "failed");
  const kf = outcomes.filter((x) => x.status === "known-failing");
  const status: CaseStatus =
    failed.length > 0 ? "failed" : kf.length > 0 ? "known-failing" : "passed";
  const shown = failed.length > 0 ? failed : kf;
  const messages = new Set(shown.map((x) => x.message));
  const message =
    shown.length === 0
      ? ""
      : messages.size === 1 && shown.length === outcomes.length
        ? shown[0]!.message
        : shown.map((x) => `${x.config}: ${x.message}`).join("; ");
  const notes = shown.flatMap((x) =>
    (x.notes ?? []).map((n) => (outcomes.length > 1 ? `[${x.config}] ${n}` : n)),
  );
  const stale = failed.some((x) => x.staleKnownFailing);
  return {
    id: c.id,
    title: c.title,
    requirements: [...c.requirements],
    severity: c.severity,
    features: [...c.features],
    status,
    durationMs: outcomes.reduce((t, x) => t + x.durationMs, 0),
    message,
    ...(notes.length > 0 && status !== "passed" ? { notes } : {}),
    ...(stale ? { staleKnownFailing: true } : {}),
    blocking: stale || (status === "failed" && (c.severity === "required" || strict)),
    configs: outcomes,
  };
}
