import { readFileSync } from "node:fs";
import { REFERENCE_MUTANT_GAPS, REFERENCE_MUTANTS } from "@paycode/conformance";
import { describe, expect, it } from "vitest";
import { MUTANT_GAPS } from "../embedded/mutant-gaps.js";
import { ALL_MUTANTS } from "../embedded/reference-target.js";
import { coverageDocSection, replaceCoverageSection } from "./coverage-doc.js";

const DOC = new URL("../../../../docs/certification.md", import.meta.url);

describe("the mutant coverage published with the suite (run `npm run coverage-doc` to refresh)", () => {
  it("the conformance package's catalogue snapshot is the reference's catalogue", () => {
    expect(REFERENCE_MUTANTS).toEqual(
      ALL_MUTANTS.map((m) => ({
        name: m.name,
        breaks: [...m.breaks],
        summary: m.summary,
        ...(m.provenBy ? { provenBy: m.provenBy } : {}),
      })),
    );
    expect(REFERENCE_MUTANT_GAPS).toEqual(MUTANT_GAPS);
  });

  it("docs/certification.md states, per MUST, its cases and its mutants", () => {
    const doc = readFileSync(DOC, "utf8");
    expect(replaceCoverageSection(doc, coverageDocSection())).toBe(doc);
  });
});
