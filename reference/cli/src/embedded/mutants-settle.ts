import type { WrapperMutant } from "./wrapper-mutant.js";

/**
 * Wrapper mutants for the requirements of the settle area. Each violates the
 * requirement IDs in `breaks` in its main failure mode: the way a careful
 * vendor in another language could still get that rule wrong.
 */
export const SETTLE_MUTANTS: Readonly<Record<string, WrapperMutant>> = {};
