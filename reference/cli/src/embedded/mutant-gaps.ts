/**
 * Issuer MUSTs that no mutant proves yet, each with why. The mutant matrix
 * fails when a MUST is unproven and not listed here, and when one listed
 * here is proven (drop it then). docs/certification.md lists these as gaps.
 */
export const MUTANT_GAPS: Readonly<Record<string, string>> = {};

/**
 * Cases that kill no mutant of a requirement they name, until their
 * requirement has one. The matrix fails when a case is idle and not listed;
 * a listed case that now kills a mutant should be dropped from the list.
 */
export const IDLE_CASES: readonly string[] = [];
