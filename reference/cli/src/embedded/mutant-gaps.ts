/**
 * Issuer MUSTs that no mutant proves yet, each with why. The mutant matrix
 * fails when a MUST is unproven and not listed here, and when one listed
 * here is proven (drop it then). docs/certification.md lists these as gaps.
 */
export const MUTANT_GAPS: Readonly<Record<string, string>> = {
  "CODE-1": "no mutant yet",
  "RPC-2": "no mutant yet",
  "CODE-5": "no mutant yet",
  "CODE-7": "no mutant yet",
  "QR-8": "no mutant yet",
  "QR-4": "no mutant yet",
  "QR-5": "no mutant yet",
  "QR-6": "no mutant yet",
  "QR-7": "no mutant yet",
  "VERIFY-1": "no mutant yet",
  "VERIFY-2": "no mutant yet",
  "VERIFY-8": "no mutant yet",
  "RPC-3": "no mutant yet",
  "RPC-5": "no mutant yet",
  "RPC-6": "no mutant yet",
  "WALLET-3": "no mutant yet",
  "WALLET-4": "no mutant yet",
  "WALLET-7": "no mutant yet",
  "WALLET-8": "no mutant yet",
  "WALLET-9": "no mutant yet",
  "SETTLE-1": "no mutant yet",
  "SETTLE-2": "no mutant yet",
  "SETTLE-4": "no mutant yet",
  "SETTLE-6": "no mutant yet",
  "AUTH-4": "no mutant yet",
  "PAY-5": "no mutant yet",
  "LIMIT-6": "no mutant yet",
  "SETTLE-13": "no mutant yet",
  "SETTLE-16": "no mutant yet",
  "SETTLE-17": "no mutant yet",
  "CTRL-1": "no mutant yet",
  "CTRL-6": "no mutant yet",
  "SEC-9": "no mutant yet",
};

/**
 * Cases that kill no mutant of a requirement they name, until their
 * requirement has one. The matrix fails when a case is idle and not listed;
 * a listed case that now kills a mutant should be dropped from the list.
 */
export const IDLE_CASES: readonly string[] = [
  "offline-wallet/clock-ahead-beyond-tolerance",
  "offline-wallet/get-wallet-balance",
  "offline-wallet/offline-validity-edges-frozen",
  "expired-code/tampered-digit",
  "expired-code/forged-mac",
  "expired-code/wrong-prefix",
  "double-offline/settles-once",
  "double-offline/batch-id-conflict",
  "double-offline/certificate-not-yet-valid",
  "double-offline/certificate-expired",
  "double-offline/code-too-old-at-acceptance",
  "double-offline/revoked-after-sync-settles",
  "double-offline/ledger-balanced-after-mixed-batch",
  "terminal/accept-journal-upload-settle",
  "auth-isolation/issuer-keys-need-key",
  "malformed-input/lookup-unset",
  "test-control/advance-clock",
];
