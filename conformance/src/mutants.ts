import type { Case } from "./case.js";
import type { RunReport } from "./result.js";
import { PRIMARY_CONFIG } from "./run-config.js";
import { runSuite } from "./runner.js";
import { SUITE_VERSION } from "./version.js";

/** A running target for one mutant (or the clean reference when `mutant` is undefined). */
export interface MutantTarget {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A mutant of the implementation under self-test: its name and the
 * requirement IDs it violates. Cases are matched to it by those IDs.
 */
export interface MutantSpec {
  readonly name: string;
  readonly breaks: readonly string[];
  readonly summary?: string;
  /**
   * Set for a mutant of a rule no certification run can observe: the
   * implementation's own test that kills it. The matrix does not run it.
   */
  readonly provenBy?: string;
}

/**
 * Which cases run against a mutant: `"named"` only those naming one of the
 * requirements the mutant breaks (a mutant must be caught by a case about
 * its own rule, and the matrix stays fast); `"all"` every case.
 */
export type MutantCaseSelection = "named" | "all";

export interface MutantRun {
  readonly mutant: string;
  /** The requirement IDs the mutant breaks. */
  readonly breaks: readonly string[];
  /** How many cases ran against it. */
  readonly casesRun: number;
  /** Cases that passed against the clean target and failed against this mutant. */
  readonly killedBy: string[];
  readonly survived: boolean;
  readonly durationMs: number;
  /** Why the mutant could not be run at all (a harness or startup problem). */
  readonly error?: string;
  /**
   * The pre-run probe refused the mutant (e.g. its Ping or test control is
   * broken): no case ran, yet the suite caught it, so it counts as killed.
   */
  readonly refusedByProbe?: string;
}

export interface MutantMatrix {
  suiteVersion: string;
  startedAt: string;
  durationMs: number;
  /** Cases that failed against the clean reference: they cannot prove kills. */
  baselineFailures: { id: string; message: string }[];
  mutants: MutantRun[];
  /** Per case, the mutants it kills. */
  cases: { id: string; kills: string[] }[];
  /** Mutants no case kills. */
  survivors: string[];
  /** Cases (that pass on the clean target) that kill no mutant. */
  idleCases: string[];
  selection: MutantCaseSelection;
}

export interface MutantMatrixOptions {
  cases: readonly Case[];
  mutants: readonly MutantSpec[];
  /** Default `"named"`. */
  selection?: MutantCaseSelection;
  /** Starts a target; `undefined` is the clean reference. */
  start(mutant: string | undefined): Promise<MutantTarget>;
  /** Cases in flight per target. */
  parallel?: number;
  /** Targets run at once. */
  concurrency?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  onBaseline?(report: RunReport): void;
  onMutant?(run: MutantRun, done: number, total: number): void;
}

async function runAgainst(
  o: MutantMatrixOptions,
  mutant: string | undefined,
  cases: readonly Case[],
): Promise<RunReport> {
  const target = await o.start(mutant);
  try {
    return await runSuite({
      target: target.url,
      // One config: a mutant breaks a rule, not a protocol, and the matrix
      // runs the suite dozens of times (certification runs take them all).
      configs: [PRIMARY_CONFIG],
      cases,
      parallel: o.parallel ?? 8,
      timeoutMs: o.timeoutMs ?? 15_000,
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } finally {
    await target.close();
  }
}

/** The cases a mutant runs against under `selection`. */
export function casesFor(
  mutant: MutantSpec,
  cases: readonly Case[],
  selection: MutantCaseSelection,
): Case[] {
  if (selection === "all") return [...cases];
  const broken = new Set(mutant.breaks);
  return cases.filter((c) => c.requirements.some((id) => broken.has(id)));
}

/**
 * Runs the suite against the clean reference, then against each mutant, and
 * records which case kills which mutant. A case kills a mutant when it
 * passes against the clean reference and fails against the mutant.
 */
export async function runMutantMatrix(o: MutantMatrixOptions): Promise<MutantMatrix> {
  const startedAt = new Date();
  const t0 = performance.now();
  const baseline = await runAgainst(o, undefined, o.cases);
  if (baseline.targetProblem) {
    throw new Error(`the clean reference cannot be tested: ${baseline.targetProblem.message}`);
  }
  o.onBaseline?.(baseline);
  const passing = new Set(baseline.cases.filter((c) => c.status === "passed").map((c) => c.id));
  const eligible = o.cases.filter((c) => passing.has(c.id));
  const selection = o.selection ?? "named";

  const runs: MutantRun[] = new Array(o.mutants.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < o.mutants.length && !o.signal?.aborted) {
      const i = next++;
      const spec = o.mutants[i]!;
      const mutant = spec.name;
      const selected = casesFor(spec, eligible, selection);
      const m0 = performance.now();
      const base = { mutant, breaks: spec.breaks, casesRun: selected.length };
      let run: MutantRun;
      if (selected.length === 0) {
        runs[i] = {
          ...base,
          killedBy: [],
          survived: true,
          durationMs: 0,
          error: `no case that passes on the clean target names ${spec.breaks.join(", ") || "any of its requirements"}`,
        };
        o.onMutant?.(runs[i]!, ++done, o.mutants.length);
        continue;
      }
      try {
        const r = await runAgainst(o, mutant, selected);
        if (r.targetProblem) {
          runs[i] = {
            ...base,
            killedBy: [],
            survived: false,
            durationMs: Math.round(performance.now() - m0),
            refusedByProbe: r.targetProblem.message,
          };
          o.onMutant?.(runs[i]!, ++done, o.mutants.length);
          continue;
        }
        const killedBy = r.cases.filter((c) => c.status === "failed").map((c) => c.id);
        run = {
          ...base,
          killedBy,
          survived: killedBy.length === 0,
          durationMs: Math.round(performance.now() - m0),
        };
      } catch (e) {
        run = {
          ...base,
          killedBy: [],
          survived: true,
          durationMs: Math.round(performance.now() - m0),
          error: e instanceof Error ? e.message : String(e),
        };
      }
      runs[i] = run;
      o.onMutant?.(run, ++done, o.mutants.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 1) }, worker));
  const finished = runs.filter(Boolean);

  const kills = new Map<string, string[]>(eligible.map((c) => [c.id, []]));
  for (const r of finished) for (const id of r.killedBy) kills.get(id)?.push(r.mutant);
  return {
    suiteVersion: SUITE_VERSION,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    baselineFailures: baseline.cases
      .filter((c) => c.status === "failed")
      .map((c) => ({ id: c.id, message: c.message })),
    mutants: finished,
    cases: [...kills.entries()].map(([id, k]) => ({ id, kills: k })),
    survivors: finished.filter((r) => r.survived).map((r) => r.mutant),
    idleCases: [...kills.entries()].filter(([, k]) => k.length === 0).map(([id]) => id),
    selection,
  };
}

/** The kill matrix as text: one line per mutant, then survivors and idle cases. */
export function formatMatrix(m: MutantMatrix): string {
  const lines: string[] = [];
  const width = Math.max(...m.mutants.map((r) => r.mutant.length), 8);
  const ran = m.selection === "all" ? "every case" : "the cases naming its requirements";
  lines.push(
    `Mutant kill matrix (suite ${m.suiteVersion}, ${(m.durationMs / 1000).toFixed(1)} s; each mutant against ${ran})`,
  );
  for (const r of m.mutants) {
    const name = `${r.mutant.padEnd(width)}  ${`[${r.breaks.join(" ")}]`.padEnd(24)}`;
    if (r.error) lines.push(`  ${name}  ERROR    ${r.error}`);
    else if (r.refusedByProbe) lines.push(`  ${name}  killed by the probe: ${r.refusedByProbe}`);
    else if (r.survived) lines.push(`  ${name}  SURVIVED  no case fails against it`);
    else {
      const shown = r.killedBy.slice(0, 4).join(", ");
      const more = r.killedBy.length > 4 ? `, +${r.killedBy.length - 4} more` : "";
      lines.push(
        `  ${name}  killed by ${String(r.killedBy.length).padStart(3)}/${String(r.casesRun).padEnd(3)}: ${shown}${more}`,
      );
    }
  }
  if (m.baselineFailures.length > 0) {
    lines.push(
      `Cases failing against the clean reference (excluded): ${m.baselineFailures.map((f) => f.id).join(", ")}`,
    );
  }
  lines.push(
    m.survivors.length === 0
      ? `Every mutant is killed (${m.mutants.length} mutants).`
      : `SURVIVED: ${m.survivors.join(", ")}`,
  );
  lines.push(
    m.idleCases.length === 0
      ? `Every case kills at least one mutant (${m.cases.length} cases).`
      : `Cases killing no mutant (${m.idleCases.length}): ${m.idleCases.join(", ")}`,
  );
  return `${lines.join("\n")}\n`;
}
