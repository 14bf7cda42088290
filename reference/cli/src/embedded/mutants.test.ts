import { fileURLToPath } from "node:url";
import {
  allCases,
  formatMatrix,
  matchesAny,
  readKnownFailing,
  runMutantMatrix,
} from "@paycode/conformance";
import { describe, expect, it } from "vitest";
import { ALL_MUTANT_NAMES, startEmbeddedTarget } from "./reference-target.js";

// A kill needs no shrunk sequence: model-based cases report their first failing one.
process.env.PAYCODE_MODEL_SHRINKS ??= "0";

const KNOWN_FAILING = readKnownFailing(
  fileURLToPath(new URL("../../known-failing/reference.txt", import.meta.url)),
).map((k) => k.pattern);

describe("the mutant matrix", () => {
  it("kills every mutant, and every case kills at least one mutant", async () => {
    const matrix = await runMutantMatrix({
      cases: allCases,
      mutants: ALL_MUTANT_NAMES,
      start: (mutant) =>
        startEmbeddedTarget({
          fastPasswords: true,
          ...(mutant ? { mutant: mutant as (typeof ALL_MUTANT_NAMES)[number] } : {}),
        }),
      parallel: 8,
      concurrency: 3,
      timeoutMs: 20_000,
    });
    console.log(formatMatrix(matrix));
    expect(matrix.mutants.filter((r) => r.error).map((r) => `${r.mutant}: ${r.error}`)).toEqual([]);
    expect(matrix.survivors).toEqual([]);
    expect(matrix.idleCases).toEqual([]);
    // Only the reference's listed known failures stay out of the matrix.
    expect(
      matrix.baselineFailures
        .filter((f) => !matchesAny(f.id, KNOWN_FAILING))
        .map((f) => `${f.id}: ${f.message}`),
    ).toEqual([]);
    expect(matrix.mutants).toHaveLength(ALL_MUTANT_NAMES.length);
  }, 600_000);
});
