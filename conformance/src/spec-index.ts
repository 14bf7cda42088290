import { readFileSync } from "node:fs";
import type { Case } from "./case.js";
import type { RequirementRef } from "./report/html.js";
import { parseRequirementIndex, parseRequirements, type Requirement } from "./spec/requirements.js";

/** The spec this suite was written against: a copy of spec/paycode.md made by the build, shipped in the package. */
export const SPEC_PATH = new URL("../spec/paycode.md", import.meta.url);

export interface SpecRequirement extends Requirement {
  /** Conformance class from the requirement index (Issuer, Wallet, Terminal), when listed. */
  conformanceClass?: string;
}

/** The requirements of a spec text, with their conformance class from Appendix B. */
export function specRequirements(markdown: string): SpecRequirement[] {
  const classes = new Map(parseRequirementIndex(markdown).map((e) => [e.id, e.conformanceClass]));
  return parseRequirements(markdown).map((r) => {
    const conformanceClass = classes.get(r.id);
    return conformanceClass ? { ...r, conformanceClass } : r;
  });
}

/** Reads the repository's spec; undefined when it is absent (a copied harness). */
export function loadSpecRequirements(): SpecRequirement[] | undefined {
  try {
    return specRequirements(readFileSync(SPEC_PATH, "utf8"));
  } catch {
    return undefined;
  }
}

/** Anchors, sections, levels and texts for the HTML report, which embeds them. */
export function requirementRefs(reqs: readonly Requirement[]): Map<string, RequirementRef> {
  return new Map(
    reqs.map((r) => [
      r.id,
      {
        anchor: r.anchor,
        section: r.section,
        level: r.level,
        text: r.text,
        ...("conformanceClass" in r && typeof r.conformanceClass === "string"
          ? { conformanceClass: r.conformanceClass }
          : {}),
      },
    ]),
  );
}

export interface Coverage {
  /** MUST / MUST NOT requirements no case names. */
  uncoveredMust: SpecRequirement[];
  /** Requirement IDs cases name that the spec does not define. */
  unknownIds: { caseId: string; id: string }[];
  /** Cases per requirement ID. */
  byRequirement: Map<string, string[]>;
}

/** Which spec requirements the catalog covers. */
export function coverage(cases: readonly Case[], reqs: readonly SpecRequirement[]): Coverage {
  const known = new Set(reqs.map((r) => r.id));
  const byRequirement = new Map<string, string[]>();
  const unknownIds: Coverage["unknownIds"] = [];
  for (const c of cases) {
    for (const id of c.requirements) {
      if (!known.has(id)) unknownIds.push({ caseId: c.id, id });
      byRequirement.set(id, [...(byRequirement.get(id) ?? []), c.id]);
    }
  }
  const uncoveredMust = reqs.filter(
    (r) => (r.level === "MUST" || r.level === "MUST NOT") && !byRequirement.has(r.id),
  );
  return { uncoveredMust, unknownIds, byRequirement };
}
