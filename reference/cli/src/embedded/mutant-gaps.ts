/**
 * Issuer MUSTs that no mutant proves yet, each with why. The mutant matrix
 * fails when a MUST is unproven and not listed here, and when one listed
 * here is proven (drop it then). docs/certification.md lists these as gaps.
 */
export const MUTANT_GAPS: Readonly<Record<string, string>> = {
  "SEC-2": "no mutant yet",
  "VERIFY-8":
    "a certificate whose not_before lies outside its signing key's validity needs the issuer's private key to sign; a conforming issuer never issues one ([QR-7]) and test control cannot rotate or add issuer keys, so no black-box case can present one",
  "SCAN-3": "no mutant yet",
  "SCAN-6": "no mutant yet",
  "SCAN-7": "no mutant yet",
  "SCAN-8": "no mutant yet",
  "SCAN-12": "no mutant yet",
  "SCAN-14": "no mutant yet",
  "REFUND-1": "no mutant yet",
  "REFUND-3": "no mutant yet",
  "REFUND-5": "no mutant yet",
  "REFUND-9": "no mutant yet",
  "PAY-1": "no mutant yet",
  "PAY-2": "no mutant yet",
  "PAY-6": "no mutant yet",
  "LIMIT-4": "no mutant yet",
  "LIMIT-5": "no mutant yet",
  "PAY-7": "no mutant yet",
  "PAY-9": "no mutant yet",
  "PAY-10": "no mutant yet",
  "PAY-11": "no mutant yet",
  "CTRL-1":
    "not observable by a certification run: the run needs ConformanceService enabled, so it cannot see that it is off by default or what a deployment holding real money sets",
};

/**
 * Cases that kill no mutant of a requirement they name, until their
 * requirement has one. The matrix fails when a case is idle and not listed;
 * a listed case that now kills a mutant should be dropped from the list.
 */
export const IDLE_CASES: readonly string[] = [
  "reused-code/concurrent-two-merchants",
  "reused-code/concurrent-burst",
  "over-limit/confirm-succeeds",
  "over-limit/cancel-pending-closes",
  "over-limit/only-password-free-counts",
  "over-limit/confirm-after-balance-dropped",
  "over-limit/confirm-other-wallet",
  "over-limit/confirm-by-revoked-wallet",
  "idempotency/scan-different-amount",
  "idempotency/get-payment-by-out-trade-no",
  "cancel-refund/cancel-twice",
  "cancel-refund/cancel-declined-noop",
  "cancel-refund/refund-not-succeeded",
  "cancel-refund/refund-conflict",
  "auth-isolation/issuer-keys-need-key",
];
