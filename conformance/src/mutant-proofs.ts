import type { MutantSpec } from "./mutants.js";
import { REFERENCE_MUTANT_GAPS, REFERENCE_MUTANTS } from "./reference-mutants.js";

/** How the suite's self-test proves a requirement: the mutants its cases kill, or why none does. */
export interface MutantProof {
  /** Mutants of the reference that break the requirement and that its cases kill. */
  readonly mutants: readonly string[];
  /** Why no mutant proves it (then the requirement is a gap, not covered). */
  readonly gap?: string;
  /**
   * Set when no certification run can observe the rule: the reference's own
   * test that kills its mutant. Such a rule is proven for the reference,
   * and cannot be for a target.
   */
  readonly provenBy?: string;
}

/**
 * The suite proves itself on the reference: for each rule it certifies,
 * mutants of the reference break that rule and the cases naming it must
 * catch them (`paycode conformance mutants`). The catalogue is a snapshot
 * of the reference's, checked against it by the reference's tests.
 */
export function mutantProof(
  id: string,
  mutants: readonly MutantSpec[] = REFERENCE_MUTANTS,
  gaps: Readonly<Record<string, string>> = REFERENCE_MUTANT_GAPS,
): MutantProof {
  const breaking = mutants.filter((m) => m.breaks.includes(id));
  const names = breaking.map((m) => m.name);
  const gap = gaps[id] ?? (breaking.length === 0 ? "no mutant breaks it" : undefined);
  if (gap !== undefined) return { mutants: names, gap };
  const blackBox = breaking.filter((m) => m.provenBy === undefined);
  if (blackBox.length > 0) return { mutants: blackBox.map((m) => m.name) };
  return { mutants: names, provenBy: breaking[0]!.provenBy! };
}
