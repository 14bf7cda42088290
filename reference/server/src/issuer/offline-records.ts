import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { IssuerProfileConfig, OfflineCodeVerifier } from "@paycode/protocol";
import type { OfflineRecord, RecordOutcome } from "@paycode/protocol/v1";
import type { BatchResultRecord } from "../store/records.js";
import type { Tx } from "../store/store.js";
import { offlineUsageKey, verifyOffline } from "./code-decoder.js";
import { sha256 } from "./digest.js";
import { newId } from "./ids.js";
import type { TerminalPrincipal } from "./issuer-api.js";
import { transferOffline } from "./ledger.js";
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
  // Rule 7. [SETTLE-14] The usage key Scan burns too, so a code settles once from anywhere;
  // [SEC-9] burns are never deleted, so they outlive certificate validity + max key age;
  // [SEC-2] the burn is an atomic insert, so concurrent uploads of one record settle once.
  const paymentId = newId("pay");
  const usageKey = breaks.settleOwnUsageKeys
    ? `settle:${wallet.id}:${check.counter}`
    : offlineUsageKey(wallet.id, check.counter);
  const burned = await tx.burn({ usageKey, walletId: wallet.id, paymentId, createdAt: now });
  if (!burned && !breaks.doubleSettleDuplicates) return result("DUPLICATE");

  // Rule 8. [SETTLE-15] After the burn: a record over the limit stays spent.
  await tx.lockAccounts([wallet.accountId, merchantAccount]);
  const settled = await tx.offlineSettledTotal(wallet.id);
  if (settled + check.amount > check.cumulativeLimit && !breaks.ignoreOfflineLimit) {
    return result("REJECTED_LIMIT");
  }
  if (breaks.offlineNeedsFunds) {
    const payer = await tx.getAccount(wallet.accountId);
    if (!payer || payer.balance < check.amount) return result("REJECTED_LIMIT");
  }
  // Rule 9. [AUTH-4] The payment and the money belong to the terminal's merchant.
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
    payerAccountId: wallet.accountId,
    passwordFree: false,
    refundedAmount: 0n,
    confirmDeadline: null,
    source: "offline",
    terminalId: terminal.terminalId,
    recordId: record.recordId,
    createdAt: now,
    updatedAt: now,
  });
  const inserted = await tx.insertOfflineSettlement({
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
  });
  if (!inserted && !breaks.doubleSettleDuplicates && !breaks.pruneOfflineBurns) {
    throw new Error(`offline settlement of ${usageKey} exists without its burn`);
  }
  // [SETTLE-16] Settles even into debt: the terminal's acceptance is guaranteed up to the cumulative limit.
  // [PAY-5] One transfer of the whole amount from the payer, whatever its balance.
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
  return result("SETTLED", paymentId);
}
