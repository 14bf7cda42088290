import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  allCases,
  formatMatrix,
  loadSpecRequirements,
  matchesAny,
  mutantCoverage,
  readKnownFailing,
  runMutantMatrix,
} from "@paycode/conformance";
import { describe, expect, it } from "vitest";
import { IDLE_CASES, MUTANT_GAPS } from "./mutant-gaps.js";
import { ALL_MUTANTS, startEmbeddedTarget } from "./reference-target.js";

// A kill needs no shrunk sequence: model-based cases report their first failing one.
process.env.PAYCODE_MODEL_SHRINKS ??= "0";

const KNOWN_FAILING = readKnownFailing(
  fileURLToPath(new URL("../../known-failing/reference.txt", import.meta.url)),
).map((k) => k.pattern);

const spec = loadSpecRequirements() ?? [];
const issuerMusts = spec
  .filter((r) => r.level.startsWith("MUST") && r.conformanceClass === "Issuer")
  .map((r) => r.id);

/** Mutants a certification run can catch; the others name the reference test that does. */
const BLACK_BOX_MUTANTS = ALL_MUTANTS.filter((m) => m.provenBy === undefined);

describe("the mutant catalogue", () => {
  it("names, for each mutant no certification run can catch, a test file that exists", () => {
    const root = new URL("../../../../", import.meta.url);
    const missing = ALL_MUTANTS.filter((m) => m.provenBy !== undefined).filter(
      (m) => !existsSync(new URL(m.provenBy!.split(":")[0]!, root)),
    );
    expect(missing.map((m) => `${m.name}: ${m.provenBy}`)).toEqual([]);
  });

  it("reads the spec's Issuer MUSTs", () => {
    expect(issuerMusts.length).toBeGreaterThan(100);
  });

  it("names only requirement IDs the spec defines, and every mutant breaks one", () => {
    const known = new Set(spec.map((r) => r.id));
    expect(ALL_MUTANTS.filter((m) => m.breaks.length === 0).map((m) => m.name)).toEqual([]);
    expect(
      ALL_MUTANTS.flatMap((m) =>
        m.breaks.filter((id) => !known.has(id)).map((id) => `${m.name}: ${id}`),
      ),
    ).toEqual([]);
  });

  it("has a mutant for every Issuer MUST not listed as a gap", () => {
    const c = mutantCoverage(issuerMusts, allCases, ALL_MUTANTS);
    expect(c.noMutant.filter((id) => !(id in MUTANT_GAPS))).toEqual([]);
  });
});

describe("the mutant matrix", () => {
  it("kills every mutant with a case naming its rule, and every case kills at least one mutant", async () => {
    const matrix = await runMutantMatrix({
      cases: allCases,
      mutants: BLACK_BOX_MUTANTS,
      selection: "named",
      start: (mutant) =>
        startEmbeddedTarget({
          fastPasswords: true,
          ...(mutant ? { mutant: mutant as never } : {}),
        }),
      parallel: 8,
      concurrency: 3,
      timeoutMs: 20_000,
    });
    console.log(formatMatrix(matrix));
    expect(matrix.mutants.filter((r) => r.error).map((r) => `${r.mutant}: ${r.error}`)).toEqual([]);
    expect(matrix.survivors).toEqual([]);
    expect(matrix.idleCases.filter((id) => !IDLE_CASES.includes(id))).toEqual([]);
    // Only the reference's listed known failures stay out of the matrix.
    expect(
      matrix.baselineFailures
        .filter((f) => !matchesAny(f.id, KNOWN_FAILING))
        .map((f) => `${f.id}: ${f.message}`),
    ).toEqual([]);
    expect(matrix.mutants).toHaveLength(BLACK_BOX_MUTANTS.length);

    // [every Issuer MUST] proven: a mutant breaking it is killed by a case naming it.
    const c = mutantCoverage(issuerMusts, allCases, ALL_MUTANTS, matrix);
    const unproven = c.requirements
      .filter((r) => r.killed.length === 0 && r.provenElsewhere.length === 0)
      .map((r) => r.id);
    expect(unproven.filter((id) => !(id in MUTANT_GAPS))).toEqual([]);
    expect(Object.keys(MUTANT_GAPS).filter((id) => !unproven.includes(id))).toEqual([]);
  }, 600_000);
});
