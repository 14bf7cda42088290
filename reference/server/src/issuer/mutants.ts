/**
 * Deliberately broken variants of the issuer, one rule each, so the
 * conformance harness can prove every case fails against at least one
 * mutant. Each name turns on one switch of `RuleSwitches`
 * (rule-switches.ts), which the rule it breaks reads. Never enable one
 * outside tests.
 */
export const MUTANT_NAMES = [
  /** A burned usage key is not refused: the same code pays twice. */
  "accept-reused-code",
  /** An expired code (online or offline) is accepted as valid. */
  "never-expire",
  /** A declined scan un-burns its code, so it can be presented again. */
  "no-burn-on-decline",
  /** No step-up: every amount is paid password-free. */
  "ignore-password-free-limit",
  /** Offline settlement settles a (wallet, counter) again instead of DUPLICATE. */
  "double-settle-duplicates",
  /** Offline codes with a bad wallet or issuer signature (or unknown key) are accepted. */
  "skip-offline-signature",
  /** GetPayment by payment_id returns another merchant's payment. */
  "leak-other-merchant-order",
  /** Revoked wallets keep paying online and settle offline. */
  "ignore-revocation",
  /** Scan ignores (merchant, out_trade_no): a retry is a new payment. */
  "no-idempotency",
  /** CancelPayment of a succeeded payment marks it refunded but moves no money. */
  "cancel-does-not-refund",
  /** Payments succeed whatever the payer's balance. */
  "ignore-insufficient-funds",
  /** Offline per-payment and cumulative limits are not enforced. */
  "ignore-offline-limit",
  /** Pending payments never close on their deadline. */
  "no-auto-close",
  /** ConfirmPayment accepts a wrong password. */
  "confirm-without-password",
  /** RefundPayment may refund more than what remains. */
  "refund-over-remaining",
  /** Offline records accepted with stale keys settle anyway. */
  "accept-stale-keys",
  /** [CTRL-7] SetClock changes only the time test control reports; every rule keeps the old clock. */
  "set-clock-reports-only",
  /** [CTRL-8] SetClock(frozen) sets the clock but leaves it running, while reporting it frozen. */
  "clock-ignores-freeze",
  /** [CTRL-9] SetClock(not frozen) leaves the clock standing at the time set. */
  "unfreeze-stays-frozen",
  // --- Multi-step and concurrency mutants: only the model-based and concurrent cases kill them.
  /** [REFUND-7] [SEC-2] RefundPayment checks the remainder on a read of its own, waits, then writes: concurrent refunds exceed the amount. */
  "refund-check-not-atomic",
  /** [PAY-1] [PAY-6] [SEC-2] ConfirmPayment does not re-check the status when it writes: a cancel in between is overwritten, money moves for a CLOSED payment. */
  "confirm-check-not-atomic",
  /** [LIMIT-2] [LIMIT-3] [LIMIT-4] Today's password-free usage is kept per wallet, not per account: re-provisioning resets it. */
  "daily-usage-per-wallet",
  /** [SETTLE-5] [SEC-2] UploadOfflineBatch looks the batch id up on a read of its own: the same batch uploaded twice at once settles its records again (as DUPLICATE) and stores those results. */
  "batch-check-not-atomic",
  // --- end of multi-step and concurrency mutants.
] as const;

export type MutantName = (typeof MUTANT_NAMES)[number];

export function isMutantName(name: string): name is MutantName {
  return (MUTANT_NAMES as readonly string[]).includes(name);
}
