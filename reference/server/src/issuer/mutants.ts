/**
 * Deliberately broken variants of the issuer, one rule each, so the
 * conformance harness can prove that every requirement it certifies is
 * checked by a case that fails when the rule is broken. Each entry turns on
 * one switch of `RuleSwitches` (rule-switches.ts), which the rule it breaks
 * reads, and names the requirement IDs of spec/paycode.md it violates: the
 * mutant matrix runs a mutant against the cases that name those IDs. Never
 * enable one outside tests.
 */
export interface MutantDescription {
  /** Requirement IDs this mutant violates (its main failure mode). */
  readonly breaks: readonly string[];
  /** One sentence: what goes wrong. */
  readonly summary: string;
  /**
   * For a rule no certification run can observe: the reference's own test
   * that fails with this mutant on (the conformance matrix cannot run it).
   */
  readonly provenBy?: string;
}

export const ISSUER_MUTANTS = {
  "accept-reused-code": {
    breaks: ["SCAN-5"],
    summary: "A burned usage key is not refused: the same code pays twice.",
  },
  "never-expire": {
    breaks: ["VERIFY-4"],
    summary: "An expired code (online or offline) is accepted as valid.",
  },
  "no-burn-on-decline": {
    breaks: ["SCAN-4"],
    summary: "A declined scan un-burns its code, so it can be presented again.",
  },
  "ignore-password-free-limit": {
    breaks: ["LIMIT-1", "LIMIT-2", "LIMIT-3"],
    summary: "No step-up: every amount is paid password-free.",
  },
  "double-settle-duplicates": {
    breaks: ["SETTLE-14", "SETTLE-20"],
    summary:
      "Offline settlement settles a (wallet, counter) again from the payer: a terminal's second record instead of DUPLICATE, another terminal's instead of at the issuer's cost.",
  },
  "skip-offline-signature": {
    breaks: ["VERIFY-7"],
    summary: "Offline codes with a bad wallet or issuer signature (or unknown key) are accepted.",
  },
  "leak-other-merchant-order": {
    breaks: ["SCAN-15"],
    summary: "GetPayment by payment_id returns another merchant's payment.",
  },
  "ignore-revocation": {
    breaks: ["WALLET-6", "SETTLE-12"],
    summary: "Revoked wallets keep paying online and settle offline.",
  },
  "no-idempotency": {
    breaks: ["SCAN-2"],
    summary: "Scan ignores (merchant, out_trade_no): a retry is a new payment.",
  },
  "cancel-does-not-refund": {
    breaks: ["REFUND-2"],
    summary: "CancelPayment of a succeeded payment marks it refunded but moves no money.",
  },
  "ignore-insufficient-funds": {
    breaks: ["SCAN-10"],
    summary: "Payments succeed whatever the payer's balance.",
  },
  "ignore-offline-limit": {
    breaks: ["SCAN-9", "SETTLE-15"],
    summary: "Offline per-payment and cumulative limits are not enforced.",
  },
  "no-auto-close": {
    breaks: ["PAY-3"],
    summary: "Pending payments never close on their deadline.",
  },
  "confirm-without-password": {
    breaks: ["PAY-8"],
    summary: "ConfirmPayment accepts a wrong password.",
  },
  "refund-over-remaining": {
    breaks: ["REFUND-7"],
    summary: "RefundPayment may refund more than what remains.",
  },
  "accept-stale-keys": {
    breaks: ["SETTLE-11"],
    summary: "Offline records accepted with stale keys settle anyway.",
  },
  "set-clock-reports-only": {
    breaks: ["CTRL-7"],
    summary: "SetClock changes only the time test control reports; every rule keeps the old clock.",
  },
  "clock-ignores-freeze": {
    breaks: ["CTRL-8"],
    summary: "SetClock(frozen) sets the clock but leaves it running, while reporting it frozen.",
  },
  "unfreeze-stays-frozen": {
    breaks: ["CTRL-9"],
    summary: "SetClock(not frozen) leaves the clock standing at the time set.",
  },
  "online-verify-host-clock": {
    breaks: ["VERIFY-1"],
    summary: "The online verifier reads the host clock instead of the issuer clock.",
  },
  "reprovision-keeps-previous": {
    breaks: ["WALLET-4"],
    summary: "ProvisionSeed adds a wallet and leaves the account's previous wallet valid.",
  },
  "wallet-pending-ignores-deadline": {
    breaks: ["WALLET-9"],
    summary: "GetWallet lists pending payments without closing those past their deadline.",
  },
  "certificate-default-offline-limits": {
    breaks: ["QR-6"],
    summary: "Certificates carry the issuer's default offline limits, not the account's.",
  },
  "revoked-at-upload": {
    breaks: ["SETTLE-13"],
    summary:
      "Settlement rejects a record of any wallet revoked by upload time, also when revoked after the record's keys_synced_at.",
  },
  "offline-needs-funds": {
    breaks: ["SETTLE-16"],
    summary:
      "Settlement rejects (REJECTED_LIMIT) a record the payer's balance does not cover instead of settling it into debt.",
  },
  "settle-own-usage-keys": {
    breaks: ["SETTLE-17"],
    summary:
      "Settlement burns offline codes under its own usage keys, which Scan does not consult: a settled code pays again at a till.",
  },
  "offline-credit-without-debit": {
    breaks: ["PAY-5"],
    summary:
      "Offline settlement credits the merchant but leaves the payer's stored balance undebited: money is created.",
  },
  "prune-offline-burns": {
    breaks: ["SEC-9"],
    summary:
      "Usage keys of offline codes are pruned once the code's own validity (V + E) has passed, not the certificate's validity plus max_key_age_seconds.",
  },
  "burn-check-then-insert": {
    breaks: ["SCAN-6", "SEC-2"],
    summary:
      "The burn is a read of the usage key, then an insert that ignores conflicts: concurrent scans of one code all pass.",
  },
  "step-up-before-funds": {
    breaks: ["SCAN-7"],
    summary:
      "Step-up is decided before funds: a payment above limit and balance waits for a password.",
  },
  "ignore-currency": {
    breaks: ["SCAN-8"],
    summary: "Scan reads the amount in the account currency, whatever its currency: it is paid.",
  },
  "refund-moves-payment-amount": {
    breaks: ["REFUND-5"],
    summary: "A refund moves the payment's whole amount while recording the refund's amount.",
  },
  "refund-any-status": {
    breaks: ["REFUND-7"],
    summary: "RefundPayment refunds a declined or pending payment, as long as the amount fits.",
  },
  "confirm-cancelled": {
    breaks: ["PAY-1"],
    summary:
      "ConfirmPayment only refuses paid payments: a cancelled (CLOSED) payment confirms and pays.",
  },
  "deadline-in-milliseconds": {
    breaks: ["PAY-2"],
    summary: "confirm_deadline adds confirmation_timeout_seconds as milliseconds.",
  },
  "confirm-without-lock": {
    breaks: ["PAY-6"],
    summary:
      "ConfirmPayment checks the status before the password and pays without re-checking it: concurrent confirmations all debit.",
  },
  "confirm-trusts-scan-funds": {
    breaks: ["PAY-7"],
    summary: "ConfirmPayment does not check the balance again: the Scan's check is trusted.",
  },
  "confirm-moves-no-money": {
    breaks: ["PAY-7"],
    summary: "ConfirmPayment marks the payment SUCCEEDED without the transfer payer → merchant.",
  },
  "confirm-any-wallet": {
    breaks: ["PAY-9"],
    summary: "ConfirmPayment checks the password, not which wallet started the payment.",
  },
  "deadline-exclusive": {
    breaks: ["PAY-10"],
    summary: "A payment is past its deadline only after confirm_deadline, not at it.",
  },
  "confirm-by-revoked-wallet": {
    breaks: ["PAY-11"],
    summary: "A revoked wallet's token still confirms payments.",
  },
  "count-confirmed-payments": {
    breaks: ["LIMIT-4"],
    summary: "Confirmed payments count toward today's password-free total and count.",
  },
  "local-day": {
    breaks: ["LIMIT-5"],
    summary: "The password-free day starts at 00:00 UTC+8, not 00:00 UTC.",
  },
  // Multi-step and concurrency mutants: only the model-based and concurrent cases kill them.
  "refund-check-not-atomic": {
    breaks: ["REFUND-7", "SEC-2"],
    summary:
      "RefundPayment checks the remainder on a read of its own, waits, then writes: concurrent refunds exceed the amount.",
  },
  "confirm-check-not-atomic": {
    breaks: ["PAY-1", "PAY-6", "SEC-2"],
    summary:
      "ConfirmPayment does not re-check the status when it writes: a cancel in between is overwritten, money moves for a CLOSED payment.",
  },
  "daily-usage-per-wallet": {
    breaks: ["LIMIT-2", "LIMIT-3", "LIMIT-4"],
    summary:
      "Today's password-free usage is kept per wallet, not per account: re-provisioning resets it.",
  },
  "batch-check-not-atomic": {
    breaks: ["SETTLE-5", "SEC-2"],
    summary:
      "UploadOfflineBatch looks the batch id up on a read of its own: the same batch uploaded twice at once settles its records again and stores those results.",
  },
  // Rules no certification run can observe, proven by the reference's own tests.
  "test-control-on-by-default": {
    breaks: ["CTRL-1"],
    summary: "`paycode serve` serves ConformanceService without --enable-test-control.",
    provenBy: "reference/cli/src/cli.test.ts: serves without test control by default",
  },
  "ignore-issuer-key-validity": {
    breaks: ["VERIFY-8"],
    summary:
      "Offline verification accepts a certificate signed by a listed issuer key whose validity does not contain the certificate's not_before.",
    provenBy: "reference/server/src/issuer/issuer-key-validity.test.ts",
  },
  // Throttles of wrong passwords (§9.2) and of terminals' rejected records (§10.2).
  "password-count-never-resets": {
    breaks: ["SEC-3"],
    summary:
      "A right password does not clear the count of wrong ones, so later mistakes throttle early.",
  },
  "no-password-delay": {
    breaks: ["SEC-15"],
    summary:
      "No delay after the 5th to 9th consecutive wrong password: guesses go on at full speed until the lock.",
  },
  "password-delay-checks-password": {
    breaks: ["SEC-15"],
    summary:
      "During a password delay the password is still checked, and a right guess goes through.",
  },
  "no-password-lock": {
    breaks: ["SEC-16"],
    summary: "The 10th consecutive wrong password does not lock the account; delays go on instead.",
  },
  "password-throttle-early": {
    breaks: ["SEC-17"],
    summary: "Password delays start after the 4th consecutive wrong password instead of the 5th.",
  },
  "throttle-known-accounts-only": {
    breaks: ["SEC-18"],
    summary:
      "ProvisionSeed of an unknown account id is never throttled, which tells it apart from a real one.",
  },
  "no-terminal-throttle": {
    breaks: ["SEC-21"],
    summary:
      "UploadOfflineBatch is never throttled, however many invalid or malformed records a terminal sends.",
  },
  "terminal-throttle-counts-replays": {
    breaks: ["SEC-22"],
    summary:
      "A batch answered from its stored results counts its rejected records again toward the terminal throttle.",
  },
  // Offline liability (§10.3).
  "same-terminal-duplicate-paid": {
    breaks: ["SETTLE-14"],
    summary:
      "A terminal's second record of a code it recorded before settles at the issuer's cost instead of DUPLICATE.",
  },
  "duplicate-not-paid": {
    breaks: ["SETTLE-20"],
    summary:
      "A record of a code recorded before by another terminal or a Scan is DUPLICATE: the merchant whose terminal followed every rule is not paid.",
  },
  "duplicate-debits-payer-twice": {
    breaks: ["SETTLE-20"],
    summary:
      "An issuer-liable duplicate is paid by debiting the payer again instead of the issuer loss account.",
  },
  "scanned-code-debits-payer": {
    breaks: ["SETTLE-20"],
    summary:
      "A record of a code first presented at a Scan debits the payer, who already paid at the till.",
  },
  "issuer-liable-not-flagged": {
    breaks: ["SETTLE-21"],
    summary: "An issuer-liable record comes back SETTLED without issuer_liable.",
  },
  "duplicate-not-counted-in-cumulative": {
    breaks: ["SETTLE-22"],
    summary:
      "Issuer-liable duplicates do not count toward the certificate's cumulative offline limit.",
  },
  "loss-not-in-report": {
    breaks: ["SETTLE-23"],
    summary: "GetSettlementReport reports issuer_liable_count and issuer_liable_total as zero.",
  },
  "issuer-liable-refund-to-payer": {
    breaks: ["SETTLE-24"],
    summary:
      "A refund of an issuer-liable payment credits the payer, who never paid it, instead of the issuer loss account.",
  },
  // Scan throttles (issue 9, §12.3).
  "no-merchant-throttle": {
    breaks: ["SEC-4"],
    summary: "A merchant's verification failures are never throttled: guessing runs at full speed.",
  },
  "throttle-after-decide": {
    breaks: ["SEC-11"],
    summary:
      "A throttled Scan is decided, stored and burned before resource_exhausted is returned.",
  },
  "throttle-before-idempotency": {
    breaks: ["SCAN-2"],
    summary:
      "While the merchant is throttled, a retry of a stored order fails resource_exhausted instead of returning the payment.",
  },
  "throttle-without-retry-after": {
    breaks: ["SEC-12"],
    summary: "A throttled Scan carries no retry-after delay.",
  },
  "mac-failure-any-step": {
    breaks: ["SEC-5"],
    summary:
      "Every CODE_INVALID code of a held handle counts as a MAC failure, also one whose step4 names no step of the window.",
  },
  "no-mac-step-up": {
    breaks: ["SEC-6"],
    summary: "MAC failures never put the wallet in step-up: a guesser keeps paying password-free.",
  },
  "no-mac-block": {
    breaks: ["SEC-13"],
    summary: "MAC failures never block the wallet: guessing against one handle never ends.",
  },
  "accept-revoked-api-key": {
    breaks: ["KEY-1"],
    summary: "A revoked merchant or terminal API key still authenticates.",
  },
  "sign-with-new-key-at-once": {
    breaks: ["KEY-5"],
    summary:
      "A rotated-in issuer signing key signs certificates at once, before terminals that synced earlier can list it.",
  },
  "drop-retired-issuer-key": {
    breaks: ["SETTLE-1", "KEY-6"],
    summary:
      "Once a newer issuer signing key exists, the older one leaves GetIssuerKeys and offline verification, while certificates it signed are still valid.",
  },
  "issue-key-revokes-others": {
    breaks: ["KEY-2"],
    summary:
      "Issuing a further API key to a merchant or terminal makes its other keys stop working at once.",
  },
} as const satisfies Record<string, MutantDescription>;

export type MutantName = keyof typeof ISSUER_MUTANTS;

export const MUTANT_NAMES = Object.keys(ISSUER_MUTANTS) as readonly MutantName[];

export function isMutantName(name: string): name is MutantName {
  return Object.hasOwn(ISSUER_MUTANTS, name);
}
