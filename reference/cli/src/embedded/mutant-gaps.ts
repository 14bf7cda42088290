/**
 * Issuer MUSTs that no mutant proves yet, each with why. The mutant matrix
 * fails when a MUST is unproven and not listed here, and when one listed
 * here is proven (drop it then). docs/certification.md lists these as gaps.
 */
export const MUTANT_GAPS: Readonly<Record<string, string>> = {
  "VERIFY-8":
    "a certificate whose not_before lies outside its signing key's validity needs the issuer's private key to sign; a conforming issuer never issues one ([QR-7]) and test control cannot rotate or add issuer keys, so no black-box case can present one",
  "CTRL-1":
    "not observable by a certification run: the run needs ConformanceService enabled, so it cannot see that it is off by default or what a deployment holding real money sets",
};

/**
 * Cases that kill no mutant of a requirement they name, until their
 * requirement has one. The matrix fails when a case is idle and not listed;
 * a listed case that now kills a mutant should be dropped from the list.
 */
export const IDLE_CASES: readonly string[] = [];
