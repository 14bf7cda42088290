import type { MutantName } from "./mutants.js";

/**
 * The rules a mutant may break, one switch per entry of `MUTANT_NAMES`,
 * derived once when the issuer opens. Rule code reads
 * `breaks.acceptReusedCode` where it would otherwise enforce the rule, so
 * each switch sits at exactly the line that implements the requirement it
 * breaks. All switches are off except in conformance self-tests.
 */
export interface RuleSwitches {
  /** [SCAN-5] A burned usage key is not refused. */
  readonly acceptReusedCode: boolean;
  /** [VERIFY-4] / §6.2 expiry: expired codes verify. */
  readonly neverExpire: boolean;
  /** [SCAN-4] A declined scan un-burns its code. */
  readonly noBurnOnDecline: boolean;
  /** [LIMIT-1]..[LIMIT-3] No step-up. */
  readonly ignorePasswordFreeLimit: boolean;
  /** [SETTLE-14] A burned (wallet, counter) settles again. */
  readonly doubleSettleDuplicates: boolean;
  /** [VERIFY-7] Offline signatures are not checked. */
  readonly skipOfflineSignature: boolean;
  /** [SCAN-15] / [AUTH-2] GetPayment by id ignores the owner. */
  readonly leakOtherMerchantOrder: boolean;
  /** [WALLET-6] / [SETTLE-12] Revocation is ignored. */
  readonly ignoreRevocation: boolean;
  /** [SCAN-2] / [SCAN-3] (merchant, out_trade_no) names no payment. */
  readonly noIdempotency: boolean;
  /** [REFUND-2] CancelPayment of a succeeded payment moves no money. */
  readonly cancelDoesNotRefund: boolean;
  /** [SCAN-10] / [PAY-7] Funds are not checked. */
  readonly ignoreInsufficientFunds: boolean;
  /** [SCAN-9] / [SETTLE-15] Offline limits are not enforced. */
  readonly ignoreOfflineLimit: boolean;
  /** [PAY-3] Pending payments never close. */
  readonly noAutoClose: boolean;
  /** [PAY-8] Any password confirms. */
  readonly confirmWithoutPassword: boolean;
  /** [REFUND-7] Refunds may exceed the remainder. */
  readonly refundOverRemaining: boolean;
  /** [SETTLE-11] Stale key syncs settle. */
  readonly acceptStaleKeys: boolean;
  /** [CTRL-7] SetClock moves only the reported time. */
  readonly setClockReportsOnly: boolean;
  /** [CTRL-8] A frozen clock keeps running. */
  readonly clockIgnoresFreeze: boolean;
  /** [CTRL-9] An unfrozen clock stands still. */
  readonly unfreezeStaysFrozen: boolean;
  /** [VERIFY-1] Online codes are verified at the host clock. */
  readonly onlineVerifyHostClock: boolean;
  /** [WALLET-4] ProvisionSeed does not revoke the previous wallet. */
  readonly reprovisionKeepsPrevious: boolean;
  /** [WALLET-9] GetWallet does not apply confirmation deadlines. */
  readonly walletPendingIgnoresDeadline: boolean;
  /** [QR-6] Certificates carry the default offline limits. */
  readonly certificateDefaultOfflineLimits: boolean;
  /** [SETTLE-13] Revocation is checked at upload time, not against keys_synced_at. */
  readonly revokedAtUpload: boolean;
  /** [SETTLE-16] Offline records need funds to settle. */
  readonly offlineNeedsFunds: boolean;
  /** [SETTLE-17] Settlement burns under keys Scan does not read. */
  readonly settleOwnUsageKeys: boolean;
  /** [PAY-5] Offline settlement does not debit the payer's stored balance. */
  readonly offlineCreditWithoutDebit: boolean;
  /** [SEC-9] Offline usage keys are pruned after the code's validity. */
  readonly pruneOfflineBurns: boolean;
  /** [SCAN-6] / [SEC-2] The burn is a separate read, then an insert ignoring conflicts. */
  readonly burnCheckThenInsert: boolean;
  /** [SCAN-7] Step-up is decided before the funds check. */
  readonly stepUpBeforeFunds: boolean;
  /** [SCAN-8] The currency of a Scan is not compared with the account's. */
  readonly ignoreCurrency: boolean;
  /** [REFUND-5] A refund transfers the payment amount. */
  readonly refundMovesPaymentAmount: boolean;
  /** [REFUND-7] A payment of any status may be refunded. */
  readonly refundAnyStatus: boolean;
  /** [PAY-1] CLOSED and DECLINED payments confirm. */
  readonly confirmCancelled: boolean;
  /** [PAY-2] The confirmation timeout is added as milliseconds. */
  readonly deadlineInMilliseconds: boolean;
  /** [PAY-6] Confirmation does not re-check the status under the lock. */
  readonly confirmWithoutLock: boolean;
  /** [PAY-7] Confirmation does not check the balance. */
  readonly confirmTrustsScanFunds: boolean;
  /** [PAY-7] Confirmation moves no money. */
  readonly confirmMovesNoMoney: boolean;
  /** [PAY-9] Any wallet confirms any payment. */
  readonly confirmAnyWallet: boolean;
  /** [PAY-10] The deadline itself is not yet past it. */
  readonly deadlineExclusive: boolean;
  /** [PAY-11] Revoked wallets confirm. */
  readonly confirmByRevokedWallet: boolean;
  /** [LIMIT-4] Confirmed payments count as password-free. */
  readonly countConfirmedPayments: boolean;
  /** [LIMIT-5] The password-free day is the UTC+8 day. */
  readonly localDay: boolean;
  // --- Multi-step and concurrency mutants.
  /** [REFUND-7] / [SEC-2] The refund check reads in its own transaction, then writes later. */
  readonly refundCheckNotAtomic: boolean;
  /** [PAY-6] / [SEC-2] ConfirmPayment writes without re-checking the status under the lock. */
  readonly confirmCheckNotAtomic: boolean;
  /** [LIMIT-4] Password-free usage is counted per wallet instead of per account. */
  readonly dailyUsagePerWallet: boolean;
  /** [SETTLE-5] / [SEC-2] The batch id is looked up before, not in, the settling transaction. */
  readonly batchCheckNotAtomic: boolean;
  // --- end of multi-step and concurrency mutants.
  /** [CTRL-1] The server serves test control unless told not to. */
  readonly testControlOnByDefault: boolean;
  /** [VERIFY-8] Issuer key validity is not checked against a certificate's not_before. */
  readonly ignoreIssuerKeyValidity: boolean;
  /** [SEC-3] A right password leaves the count of wrong ones as it was. */
  readonly passwordCountNeverResets: boolean;
  /** [SEC-15] No delays after wrong passwords (the lock stays). */
  readonly noPasswordDelay: boolean;
  /** [SEC-15] During a delay the password is checked, and a right one goes through. */
  readonly passwordDelayChecksPassword: boolean;
  /** [SEC-16] No lock: after the 10th wrong password the delays go on. */
  readonly noPasswordLock: boolean;
  /** [SEC-17] The delays start after the 4th wrong password, not the 5th. */
  readonly passwordThrottleEarly: boolean;
  /** [SEC-18] ProvisionSeed of an unknown account id is never throttled. */
  readonly throttleKnownAccountsOnly: boolean;
  /** [SEC-21] UploadOfflineBatch is never throttled. */
  readonly noTerminalThrottle: boolean;
  /** [SEC-22] A batch answered from stored results counts its rejections again. */
  readonly terminalThrottleCountsReplays: boolean;
  /** [SETTLE-14] A terminal's second record of a code settles as an issuer-liable duplicate. */
  readonly sameTerminalDuplicatePaid: boolean;
  /** [SETTLE-20] A code recorded before by another terminal or a Scan is DUPLICATE (the old rule). */
  readonly duplicateNotPaid: boolean;
  /** [SETTLE-20] An issuer-liable duplicate is debited from the payer again. */
  readonly duplicateDebitsPayerTwice: boolean;
  /** [SETTLE-20] A record of a code a Scan presented first debits the payer. */
  readonly scannedCodeDebitsPayer: boolean;
  /** [SETTLE-21] Issuer-liable results are not flagged. */
  readonly issuerLiableNotFlagged: boolean;
  /** [SETTLE-22] Issuer-liable amounts do not count toward the cumulative offline limit. */
  readonly duplicateNotCountedInCumulative: boolean;
  /** [SETTLE-23] The settlement report leaves out the issuer-liable count and total. */
  readonly lossNotInReport: boolean;
  /** [SETTLE-24] Refunds of an issuer-liable payment credit the payer. */
  readonly issuerLiableRefundToPayer: boolean;
  /** [SEC-4] Verification failures of a merchant are never throttled. */
  readonly noMerchantThrottle: boolean;
  /** [SEC-11] A throttled Scan is decided, recorded and burned before it is refused. */
  readonly throttleAfterDecide: boolean;
  /** [SCAN-2] A retry of a stored order meets the merchant throttle as a new Scan does. */
  readonly throttleBeforeIdempotency: boolean;
  /** [SEC-12] A throttled Scan carries no retry delay. */
  readonly noRetryAfter: boolean;
  /** [SEC-5] Every CODE_INVALID of a held handle counts as a MAC failure, whatever its step4. */
  readonly macFailureAnyStep: boolean;
  /** [SEC-6] MAC failures never put a wallet in step-up. */
  readonly noMacStepUp: boolean;
  /** [SEC-13] MAC failures never block (revoke) a wallet. */
  readonly noMacBlock: boolean;
  /** [KEY-1] A revoked (or expired) merchant or terminal API key still authenticates. */
  readonly acceptRevokedApiKey: boolean;
  /** [KEY-5] A rotated-in issuer key signs certificates at once, before terminals can have it. */
  readonly signWithNewKeyAtOnce: boolean;
  /** [SETTLE-1] [KEY-6] Once a newer issuer key exists, the older one is neither listed nor verifies. */
  readonly dropRetiredIssuerKey: boolean;
  /** [KEY-2] Issuing a further API key retires the owner's other keys at once. */
  readonly issueKeyRevokesOthers: boolean;
}

/** The switch each mutant turns on; exhaustive over `MutantName` by type. */
export const SWITCH_OF_MUTANT: Readonly<Record<MutantName, keyof RuleSwitches>> = {
  "accept-reused-code": "acceptReusedCode",
  "never-expire": "neverExpire",
  "no-burn-on-decline": "noBurnOnDecline",
  "ignore-password-free-limit": "ignorePasswordFreeLimit",
  "double-settle-duplicates": "doubleSettleDuplicates",
  "skip-offline-signature": "skipOfflineSignature",
  "leak-other-merchant-order": "leakOtherMerchantOrder",
  "ignore-revocation": "ignoreRevocation",
  "no-idempotency": "noIdempotency",
  "cancel-does-not-refund": "cancelDoesNotRefund",
  "ignore-insufficient-funds": "ignoreInsufficientFunds",
  "ignore-offline-limit": "ignoreOfflineLimit",
  "no-auto-close": "noAutoClose",
  "confirm-without-password": "confirmWithoutPassword",
  "refund-over-remaining": "refundOverRemaining",
  "accept-stale-keys": "acceptStaleKeys",
  "set-clock-reports-only": "setClockReportsOnly",
  "clock-ignores-freeze": "clockIgnoresFreeze",
  "unfreeze-stays-frozen": "unfreezeStaysFrozen",
  "online-verify-host-clock": "onlineVerifyHostClock",
  "reprovision-keeps-previous": "reprovisionKeepsPrevious",
  "wallet-pending-ignores-deadline": "walletPendingIgnoresDeadline",
  "certificate-default-offline-limits": "certificateDefaultOfflineLimits",
  "revoked-at-upload": "revokedAtUpload",
  "offline-needs-funds": "offlineNeedsFunds",
  "settle-own-usage-keys": "settleOwnUsageKeys",
  "offline-credit-without-debit": "offlineCreditWithoutDebit",
  "prune-offline-burns": "pruneOfflineBurns",
  "burn-check-then-insert": "burnCheckThenInsert",
  "step-up-before-funds": "stepUpBeforeFunds",
  "ignore-currency": "ignoreCurrency",
  "refund-moves-payment-amount": "refundMovesPaymentAmount",
  "refund-any-status": "refundAnyStatus",
  "confirm-cancelled": "confirmCancelled",
  "deadline-in-milliseconds": "deadlineInMilliseconds",
  "confirm-without-lock": "confirmWithoutLock",
  "confirm-trusts-scan-funds": "confirmTrustsScanFunds",
  "confirm-moves-no-money": "confirmMovesNoMoney",
  "confirm-any-wallet": "confirmAnyWallet",
  "deadline-exclusive": "deadlineExclusive",
  "confirm-by-revoked-wallet": "confirmByRevokedWallet",
  "count-confirmed-payments": "countConfirmedPayments",
  "local-day": "localDay",
  // --- Multi-step and concurrency mutants.
  "refund-check-not-atomic": "refundCheckNotAtomic",
  "confirm-check-not-atomic": "confirmCheckNotAtomic",
  "daily-usage-per-wallet": "dailyUsagePerWallet",
  "batch-check-not-atomic": "batchCheckNotAtomic",
  // --- end of multi-step and concurrency mutants.
  "test-control-on-by-default": "testControlOnByDefault",
  "ignore-issuer-key-validity": "ignoreIssuerKeyValidity",
  "password-count-never-resets": "passwordCountNeverResets",
  "no-password-delay": "noPasswordDelay",
  "password-delay-checks-password": "passwordDelayChecksPassword",
  "no-password-lock": "noPasswordLock",
  "password-throttle-early": "passwordThrottleEarly",
  "throttle-known-accounts-only": "throttleKnownAccountsOnly",
  "no-terminal-throttle": "noTerminalThrottle",
  "terminal-throttle-counts-replays": "terminalThrottleCountsReplays",
  "same-terminal-duplicate-paid": "sameTerminalDuplicatePaid",
  "duplicate-not-paid": "duplicateNotPaid",
  "duplicate-debits-payer-twice": "duplicateDebitsPayerTwice",
  "scanned-code-debits-payer": "scannedCodeDebitsPayer",
  "issuer-liable-not-flagged": "issuerLiableNotFlagged",
  "duplicate-not-counted-in-cumulative": "duplicateNotCountedInCumulative",
  "loss-not-in-report": "lossNotInReport",
  "issuer-liable-refund-to-payer": "issuerLiableRefundToPayer",
  "no-merchant-throttle": "noMerchantThrottle",
  "throttle-after-decide": "throttleAfterDecide",
  "throttle-before-idempotency": "throttleBeforeIdempotency",
  "throttle-without-retry-after": "noRetryAfter",
  "mac-failure-any-step": "macFailureAnyStep",
  "no-mac-step-up": "noMacStepUp",
  "no-mac-block": "noMacBlock",
  "accept-revoked-api-key": "acceptRevokedApiKey",
  "sign-with-new-key-at-once": "signWithNewKeyAtOnce",
  "drop-retired-issuer-key": "dropRetiredIssuerKey",
  "issue-key-revokes-others": "issueKeyRevokesOthers",
};

/** Every rule enforced: the issuer as the spec wants it. */
export const NO_BREAKS: RuleSwitches = Object.freeze(
  Object.fromEntries(
    Object.values(SWITCH_OF_MUTANT).map((k) => [k, false]),
  ) as unknown as RuleSwitches,
);

/** The switches of an issuer opened with `mutant` (none broken when undefined). */
export function ruleSwitches(mutant: MutantName | undefined): RuleSwitches {
  if (mutant === undefined) return NO_BREAKS;
  return Object.freeze({ ...NO_BREAKS, [SWITCH_OF_MUTANT[mutant]]: true });
}
