import type { WrapperMutant } from "./wrapper-mutant.js";

/**
 * Wrapper mutants for the requirements of the payment area. Each violates the
 * requirement IDs in `breaks` in its main failure mode: the way a careful
 * vendor in another language could still get that rule wrong.
 */
export const PAYMENT_MUTANTS: Readonly<Record<string, WrapperMutant>> = {};
