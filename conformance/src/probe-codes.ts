// What the pre-run probe (probe.ts) can find wrong with a target, and the
// exit status of each. Kept apart from probe.ts, which loads the RPC stack,
// so that `--help` can print the exit codes without loading it.

/**
 * Why the suite cannot run against a target at all. The runner checks the
 * target before any case (`probeTarget`) and stops on the first of these,
 * with one message instead of a failure per case.
 */
export type TargetProblemKind =
  /** The URL itself is unusable (no scheme, not http/https, garbage). */
  | "invalid-target"
  /** No connection: refused, unknown host, or no answer in time. */
  | "unreachable"
  /** Something answers HTTP, but HealthService.Ping fails over every protocol. */
  | "not-paycode"
  /** Ping answers, ConformanceService.GetCapabilities does not (test control off). */
  | "no-test-control"
  /** Ping fails over the requested protocol/HTTP version but answers over another. */
  | "wrong-protocol";

export interface TargetProblem {
  readonly kind: TargetProblemKind;
  /** One line, for people: what is wrong and what to do. */
  readonly message: string;
}

/**
 * Exit status of `conformance run` per problem; 0, 1, 2 and 130 keep their
 * usual meaning (pass, failures, usage, interrupted). The one place these
 * numbers are defined: `--help` and docs/certification.md list them.
 */
export const TARGET_PROBLEM_EXIT_CODES: Readonly<Record<TargetProblemKind, number>> = {
  "invalid-target": 2,
  unreachable: 3,
  "not-paycode": 4,
  "no-test-control": 5,
  "wrong-protocol": 6,
};

/** Why `target` is not a usable base URL, or undefined when it is. One line. */
export function invalidTargetReason(target: string): string | undefined {
  const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(target)
    ? ""
    : `; include the scheme, e.g. http://${target.replace(/^\/+/, "") || "127.0.0.1:8080"}`;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return `--target ${JSON.stringify(target)} is not a URL${hint}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `--target ${JSON.stringify(target)} must be an http:// or https:// URL${hint}`;
  }
  if (!url.hostname) return `--target ${JSON.stringify(target)} names no host`;
  return undefined;
}
