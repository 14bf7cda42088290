import type { Case } from "./case.js";
import type { MutantMatrix, MutantSpec } from "./mutants.js";

/** How one requirement is proven: by which cases, and which mutants those cases kill. */
export interface RequirementProof {
  readonly id: string;
  /** Cases that name the requirement. */
  readonly cases: readonly string[];
  /** Mutants that declare they break the requirement. */
  readonly mutants: readonly string[];
  /**
   * Mutants breaking the requirement that a case naming it kills, with the
   * killing cases; empty in a static catalogue (no matrix run).
   */
  readonly killed: readonly { mutant: string; by: readonly string[] }[];
  /** Mutants breaking the requirement that the implementation's own tests kill (`provenBy`). */
  readonly provenElsewhere: readonly { mutant: string; by: string }[];
}

export interface MutantCoverage {
  readonly requirements: readonly RequirementProof[];
  /** Requirements no mutant declares to break. */
  readonly noMutant: readonly string[];
  /**
   * Requirements with a mutant but, in the matrix given, no case naming
   * the requirement that kills one of them (only with a matrix).
   */
  readonly notProven: readonly string[];
}

/**
 * Per requirement, the cases that check it and the mutants that prove
 * those cases can fail. A requirement is proven only when a mutant that
 * breaks it is killed by a case that names it; one merely covered by a case
 * is a gap.
 */
export function mutantCoverage(
  requirementIds: readonly string[],
  cases: readonly Case[],
  mutants: readonly MutantSpec[],
  matrix?: MutantMatrix,
): MutantCoverage {
  const killedBy = new Map(matrix?.mutants.map((r) => [r.mutant, new Set(r.killedBy)]) ?? []);
  const requirements = requirementIds.map((id): RequirementProof => {
    const naming = cases.filter((c) => c.requirements.includes(id)).map((c) => c.id);
    const breaking = mutants.filter((m) => m.breaks.includes(id)).map((m) => m.name);
    const killed = breaking
      .map((mutant) => ({
        mutant,
        by: naming.filter((c) => killedBy.get(mutant)?.has(c) === true),
      }))
      .filter((k) => k.by.length > 0);
    const provenElsewhere = mutants
      .filter((m) => m.breaks.includes(id) && m.provenBy !== undefined)
      .map((m) => ({ mutant: m.name, by: m.provenBy! }));
    return { id, cases: naming, mutants: breaking, killed, provenElsewhere };
  });
  return {
    requirements,
    noMutant: requirements.filter((r) => r.mutants.length === 0).map((r) => r.id),
    notProven: matrix
      ? requirements
          .filter(
            (r) => r.mutants.length > 0 && r.killed.length === 0 && r.provenElsewhere.length === 0,
          )
          .map((r) => r.id)
      : [],
  };
}
