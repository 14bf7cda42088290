import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { IssuerProfileConfig, OfflineCodeVerifier } from "@paycode/protocol";
import type { OfflineRecord, RecordOutcome } from "@paycode/protocol/v1";
import type { BatchResultRecord } from "../store/records.js";
import type { Tx } from "../store/store.js";
import { offlineUsageKey, verifyOffline } from "./code-decoder.js";
import { sha256 } from "./digest.js";
import { newTimeOrderedId } from "./ids.js";
import type { TerminalPrincipal } from "./issuer-api.js";
import { issuerLossAccountId, transferIssuerLiable, transferOffline } from "./ledger.js";
import type { RuleSwitches } from "./rule-switches.js";
import { isCurrency, MAX_CODE_LENGTH } from "./validation.js";

/**
 * One uploaded offline record, decided by the rules of §10.2 in order
 * ([SETTLE-9]): rules 1–4 need no store (`checkRecord`, run before the
 * transaction), rules 5–9 do (`settleRecord`).
 */

export type OutcomeName = keyof typeof RecordOutcome;

/** An offline record after §10.2 rules 1–4. */
export type CheckedRecord =
  | { reject: OutcomeName }
  | {
      walletId: string;
      counter: bigint;
      amount: bigint;
      currency: string;
      acceptedAtMs: number;
      keysSyncedAtMs: number;
      cumulativeLimit: bigint;
    };

/** What the record rules need of the issuer. */
export interface RecordRules {
  readonly profile: IssuerProfileConfig;
  readonly offline: OfflineCodeVerifier;
  readonly breaks: RuleSwitches;
}

/** §10.2 rules 1–4, which need no store. */
export function checkRecord(rules: RecordRules, r: OfflineRecord, now: number): CheckedRecord {
  const { profile, breaks } = rules;
  const skewMs = profile.offlineClockSkewSeconds * 1000;
  const a = r.amount;
  // Rule 1.
  if (
    r.recordId.length === 0 ||
    r.recordId.length > 128 ||
    !a ||
    a.amountMinor <= 0n ||
    !isCurrency(a.currency) ||
    a.currency !== profile.currency ||
    !r.acceptedAt ||
    !r.keysSyncedAt
  ) {
    return { reject: "REJECTED_MALFORMED" };
  }
  const acceptedAtMs = timestampMs(r.acceptedAt);
  const keysSyncedAtMs = timestampMs(r.keysSyncedAt);
  // Neither time can lie in the issuer's future (beyond clock skew): the
  // terminal has not accepted it yet, and the issuer has not generated it.
  if (acceptedAtMs > now + skewMs || keysSyncedAtMs > now + skewMs)
    return { reject: "REJECTED_MALFORMED" };
  // Rule 2.
  if (r.code.length === 0 || r.code.length > MAX_CODE_LENGTH) return { reject: "REJECTED_INVALID" };

  // Rule 3. [SETTLE-10] Verified as of acceptance, not upload: a code valid when the terminal
  // took it stays valid. [VERIFY-9] Results mapped to outcomes by §6.3.
  const v = verifyOffline(
    rules.offline,
    r.code,
    {
      nowSeconds: Math.floor(acceptedAtMs / 1000),
      amountMinor: a.amountMinor,
      currency: a.currency,
    },
    breaks,
  );
  if (v.result === "malformed" || v.result === "invalid") return { reject: "REJECTED_INVALID" };
  if (v.result === "expired") return { reject: "REJECTED_EXPIRED" };
  if (v.result === "over-limit") {
    if (v.reason === "CURRENCY_MISMATCH") return { reject: "REJECTED_MALFORMED" };
    if (!breaks.ignoreOfflineLimit) return { reject: "REJECTED_LIMIT" };
  }
  // Rule 4. [SETTLE-11]
  if (acceptedAtMs - keysSyncedAtMs > profile.maxKeyAgeSeconds * 1000 && !breaks.acceptStaleKeys) {
    return { reject: "REJECTED_STALE_KEYS" };
  }
  return {
    walletId: v.walletId,
    counter: v.counter,
    amount: a.amountMinor,
    currency: a.currency,
    acceptedAtMs,
    keysSyncedAtMs,
    cumulativeLimit: v.body.cumulativeLimitMinor,
  };
}

/** §10.2 rules 5–9: wallet, revocation, duplicate, cumulative limit, then money. */
export async function settleRecord(
  breaks: RuleSwitches,
  tx: Tx,
  record: OfflineRecord,
  check: CheckedRecord,
  terminal: TerminalPrincipal,
  merchantAccount: string,
  now: number,
): Promise<BatchResultRecord> {
  const result = (outcome: OutcomeName, paymentId = ""): BatchResultRecord => ({
    recordId: record.recordId,
    outcome,
    paymentId,
  });
  if ("reject" in check) return result(check.reject);
  // Rule 5.
  const wallet = await tx.getWallet(check.walletId);
  if (!wallet) return result("REJECTED_INVALID");
  // Rule 6. [SETTLE-12] Refused only if the terminal's list should have had the wallet;
  // [SETTLE-13] a later revocation is the issuer's risk (the merchant followed every rule it could).
  if (
    wallet.revokedAt !== null &&
    (breaks.revokedAtUpload || wallet.revokedAt <= check.keysSyncedAtMs) &&
    !breaks.ignoreRevocation
  ) {
    return result("REJECTED_REVOKED");
  }
  // Rule 7. [SETTLE-14] A terminal that presents a code twice broke [TERM-4]: DUPLICATE.
  // [SEC-2] Both records below are atomic inserts: concurrent uploads of one code by one
  // terminal find each other, and of two terminals exactly one is first (its burn wins).
  const firstHere = await tx.recordOfflineUse(wallet.id, check.counter, terminal.terminalId, now);
  if (!firstHere && !breaks.sameTerminalDuplicatePaid && !breaks.doubleSettleDuplicates) {
    return result("DUPLICATE");
  }
  // [SETTLE-17] The usage key Scan burns too, so Scan and settlement see each other;
  // [SEC-9] burns are never deleted, so they outlive certificate validity + max key age.
  const paymentId = newTimeOrderedId("pay");
  const usageKey = breaks.settleOwnUsageKeys
    ? `settle:${wallet.id}:${check.counter}`
    : offlineUsageKey(wallet.id, check.counter);
  const burned = await tx.burn({ usageKey, walletId: wallet.id, paymentId, createdAt: now });
  // The duplicate-not-paid mutant keeps the old rule: a code recorded anywhere before is DUPLICATE.
  if (!burned && breaks.duplicateNotPaid) return result("DUPLICATE");
  // [SETTLE-20] A Scan presented the code first: the payer met it at the till (paid or declined).
  const scannedFirst = !burned && (await tx.burnedByScan(usageKey));

  // Rule 8. [SETTLE-15] After the burn: a record over the limit stays spent.
  // [SETTLE-22] Issuer-liable duplicates count toward the cumulative limit like any settlement.
  await tx.lockAccounts([wallet.accountId, merchantAccount]);
  const totals = await tx.offlineSettledTotals(wallet.id);
  const settled = breaks.duplicateNotCountedInCumulative
    ? totals.payer
    : totals.payer + totals.issuer;
  if (settled + check.amount > check.cumulativeLimit && !breaks.ignoreOfflineLimit) {
    return result("REJECTED_LIMIT");
  }
  if (breaks.offlineNeedsFunds) {
    const payer = await tx.getAccount(wallet.accountId);
    if (!payer || payer.balance < check.amount) return result("REJECTED_LIMIT");
  }
  // Rule 9. [SETTLE-20] The payer pays for the first record of a code that settles, unless a
  // Scan presented the code first; the issuer pays for every other one (§10.3).
  const settlement = {
    walletId: wallet.id,
    counter: check.counter,
    paymentId,
    terminalId: terminal.terminalId,
    merchantId: terminal.merchantId,
    recordId: record.recordId,
    amount: check.amount,
    currency: check.currency,
    acceptedAt: check.acceptedAtMs,
    settledAt: now,
  };
  let issuerLiable = scannedFirst && !breaks.scannedCodeDebitsPayer;
  if (!issuerLiable && !(await tx.insertOfflineSettlement(settlement))) {
    // A record of this code settled before and debited the payer (the double-settle-duplicates
    // mutant debits the payer again).
    issuerLiable = !breaks.doubleSettleDuplicates;
  }
  if (issuerLiable) await tx.insertIssuerLiableSettlement(settlement);
  // [AUTH-4] The payment and the money belong to the terminal's merchant. [SETTLE-24] An
  // issuer-liable payment's payer side is the issuer loss account, so its refunds go back there.
  const payerSide =
    issuerLiable && !breaks.issuerLiableRefundToPayer
      ? issuerLossAccountId(check.currency)
      : wallet.accountId;
  await tx.insertPayment({
    id: paymentId,
    merchantId: terminal.merchantId,
    outTradeNo: null,
    amount: check.amount,
    currency: check.currency,
    status: "SUCCEEDED",
    declineReason: null,
    codeKind: "OFFLINE",
    codeDigest: sha256(record.code),
    subject: "",
    walletId: wallet.id,
    payerAccountId: payerSide,
    passwordFree: false,
    refundedAmount: 0n,
    confirmDeadline: null,
    source: "offline",
    terminalId: terminal.terminalId,
    recordId: record.recordId,
    createdAt: now,
    updatedAt: now,
  });
  if (issuerLiable && !breaks.duplicateDebitsPayerTwice) {
    // [SETTLE-20] / [PAY-5] One transfer from the issuer loss account; the payer is not debited.
    await transferIssuerLiable(tx, paymentId, merchantAccount, check.amount, check.currency, now);
  } else {
    // [SETTLE-16] Settles even into debt: the terminal's acceptance is guaranteed up to the
    // cumulative limit. [PAY-5] One transfer of the whole amount from the payer, whatever its balance.
    await transferOffline(
      tx,
      paymentId,
      wallet.accountId,
      merchantAccount,
      check.amount,
      check.currency,
      now,
    );
    if (breaks.offlineCreditWithoutDebit)
      await tx.mutantRestorePayerBalance(wallet.accountId, check.amount);
  }
  // [SETTLE-21] The result says who paid.
  if (issuerLiable && !breaks.issuerLiableNotFlagged) {
    return { ...result("SETTLED", paymentId), issuerLiable: true };
  }
  return result("SETTLED", paymentId);
}
