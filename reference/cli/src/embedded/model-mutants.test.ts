import { allCases, formatMatrix, runMutantMatrix } from "@paycode/conformance";
import { describe, expect, it } from "vitest";
import { ALL_MUTANTS, type AnyMutantName, startEmbeddedTarget } from "./reference-target.js";

// A kill needs no shrunk sequence: model-based cases report their first failing one.
process.env.PAYCODE_MODEL_SHRINKS ??= "0";

/** The model-based and concurrent cases, and the mutants written for them. */
const MODEL_CASES = allCases.filter(
  (c) => c.id.startsWith("model-based/") || c.id.startsWith("concurrent/"),
);
const MODEL_MUTANT_NAMES: readonly AnyMutantName[] = [
  "refund-check-not-atomic",
  "confirm-check-not-atomic",
  "daily-usage-per-wallet",
  "report-cancel-after-partial",
  "stale-lookup-after-refund",
  "batch-check-not-atomic",
];
const MODEL_MUTANTS = ALL_MUTANTS.filter((m) => MODEL_MUTANT_NAMES.includes(m.name));

/**
 * The focused part of the mutant matrix: the clean reference passes every
 * model-based and concurrent case, and each mutant made for them is killed
 * by at least one. That the single-rule cases let these mutants survive
 * was measured once (docs/certification.md); the full matrix,
 * mutants.test.ts, runs everything against everything.
 */
describe("model-based and concurrent cases against their mutants", () => {
  it("pass on the clean reference and kill every mutant made for them", async () => {
    const matrix = await runMutantMatrix({
      cases: MODEL_CASES,
      mutants: MODEL_MUTANTS,
      // Every model-based and concurrent case against each mutant, whatever it names.
      selection: "all",
      start: (mutant) =>
        startEmbeddedTarget({
          fastPasswords: true,
          ...(mutant ? { mutant: mutant as AnyMutantName } : {}),
        }),
      parallel: 4,
      concurrency: 2,
      timeoutMs: 120_000,
    });
    console.log(formatMatrix(matrix));
    expect(matrix.baselineFailures.map((f) => `${f.id}: ${f.message}`)).toEqual([]);
    expect(matrix.mutants.filter((r) => r.error).map((r) => `${r.mutant}: ${r.error}`)).toEqual([]);
    expect(matrix.survivors).toEqual([]);
    expect(matrix.mutants).toHaveLength(MODEL_MUTANT_NAMES.length);
  }, 600_000);
});
