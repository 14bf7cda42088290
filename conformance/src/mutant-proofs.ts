import type { MutantSpec } from "./mutants.js";
import { REFERENCE_MUTANT_GAPS, REFERENCE_MUTANTS } from "./reference-mutants.js";

/** How the suite's self-test proves a requirement: the mutants its cases kill, or why none does. */
export interface MutantProof {
  /** Mutants of the reference that break the requirement and that its cases kill. */
  readonly mutants: readonly string[];
  /** Why no mutant proves it (then the requirement is a gap, not covered). */
  readonly gap?: string;
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
  const breaking = mutants.filter((m) => m.breaks.includes(id)).map((m) => m.name);
  const gap = gaps[id] ?? (breaking.length === 0 ? "no mutant breaks it" : undefined);
  return gap === undefined ? { mutants: breaking } : { mutants: breaking, gap };
}
