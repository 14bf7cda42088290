/** §10.2 settlement of offline records and §7.4.3 reports on the model. */
import {
  applyAllDeadlines,
  type ModelPayment,
  type ModelRecordUpload,
  type ModelState,
  type RecordDecision,
  utcDay,
} from "./state.js";

/** §10.2 for one record, in order; updates the model and returns the decision. */
export function settleRecord(s: ModelState, r: ModelRecordUpload): RecordDecision {
  const w = s.wallets[r.wallet]!;
  const notBefore = w.provisionedAtMs - (w.provisionedAtMs % 1000) - 300_000;
  const notAfter = w.provisionedAtMs - (w.provisionedAtMs % 1000) + 2_592_000_000;
  const acceptedS = Math.floor(r.acceptedAtMs / 1000);
  const no = (outcome: string): RecordDecision => ({
    outcome,
    payment: undefined,
    issuerLiable: false,
  });
  // Rule 3: §6.2 at accepted_at (the code was made at accepted_at, so its age is 0).
  if (acceptedS < notBefore / 1000 || acceptedS >= notAfter / 1000) {
    return no("REJECTED_EXPIRED");
  }
  if (r.amount > w.certPerPayment) return no("REJECTED_LIMIT");
  // Rule 4 ([SETTLE-11]).
  if (r.acceptedAtMs - r.keysSyncedAtMs > s.maxKeyAgeSeconds * 1000) {
    return no("REJECTED_STALE_KEYS");
  }
  // Rule 6 ([SETTLE-12]).
  if (w.revokedAtMs !== undefined && w.revokedAtMs <= r.keysSyncedAtMs) {
    return no("REJECTED_REVOKED");
  }
  // Rule 7 ([SETTLE-14]): the same terminal presenting a code again.
  const uses = s.offlineUses.get(r.code) ?? new Set<number>();
  s.offlineUses.set(r.code, uses);
  if (uses.has(r.terminal)) return no("DUPLICATE");
  uses.add(r.terminal);
  s.burnedOffline.add(r.code);
  // [SETTLE-20] A Scan had it first, or a record of it already debited the payer.
  const issuerLiable = s.scannedOffline.has(r.code) || s.payerPaidOffline.has(r.code);
  // Rule 8 ([SETTLE-15], [SETTLE-22]: issuer-liable records count too).
  if (w.settledOffline + r.amount > w.certCumulative) return no("REJECTED_LIMIT");
  // Rule 9 ([SETTLE-16]): even when the payer goes negative; or from the issuer loss account.
  w.settledOffline += r.amount;
  if (issuerLiable) {
    s.issuerLoss += r.amount;
  } else {
    s.payerBalance -= r.amount;
    s.payerPaidOffline.add(r.code);
  }
  s.merchantBalance += r.amount;
  const p: ModelPayment = {
    index: s.payments.length,
    kind: "settled",
    wallet: r.wallet,
    amount: r.amount,
    outTradeNo: undefined,
    subject: undefined,
    code: r.code,
    codeAtMs: r.acceptedAtMs,
    status: "SUCCEEDED",
    reason: undefined,
    refunded: 0n,
    createdAtMs: undefined,
    updatedAtMs: [],
    deadlineMs: undefined,
    settledAtMs: s.nowMs,
    passwordFree: false,
    issuerLiable,
  };
  s.payments.push(p);
  return { outcome: "SETTLED", payment: p.index, issuerLiable };
}

export interface ReportTotals {
  paymentCount: bigint;
  paymentTotal: bigint;
  refundCount: bigint;
  refundTotal: bigint;
  offlineCount: bigint;
  offlineTotal: bigint;
  issuerLiableCount: bigint;
  issuerLiableTotal: bigint;
  netTotal: bigint;
}

/** §7.4.3 for the model's one merchant and `day`. */
export function report(s: ModelState, day: string): ReportTotals {
  applyAllDeadlines(s);
  const t: ReportTotals = {
    paymentCount: 0n,
    paymentTotal: 0n,
    refundCount: 0n,
    refundTotal: 0n,
    offlineCount: 0n,
    offlineTotal: 0n,
    issuerLiableCount: 0n,
    issuerLiableTotal: 0n,
    netTotal: 0n,
  };
  for (const p of s.payments) {
    if (p.kind === "settled") {
      if (p.settledAtMs !== undefined && utcDay(p.settledAtMs) === day) {
        t.offlineCount += 1n;
        t.offlineTotal += p.amount;
        if (p.issuerLiable) {
          t.issuerLiableCount += 1n;
          t.issuerLiableTotal += p.amount;
        }
      }
    } else if (
      p.createdAtMs !== undefined &&
      utcDay(p.createdAtMs) === day &&
      (p.status === "SUCCEEDED" || p.status === "REFUNDED")
    ) {
      t.paymentCount += 1n;
      t.paymentTotal += p.amount;
    }
  }
  for (const r of s.refunds) {
    if (utcDay(r.createdAtMs) === day) {
      t.refundCount += 1n;
      t.refundTotal += r.amount;
    }
  }
  t.netTotal = t.paymentTotal + t.offlineTotal - t.refundTotal;
  return t;
}

/** Every UTC day on which the model saw something happen, for the final audit. */
export function activeDays(s: ModelState): string[] {
  const days = new Set<string>([utcDay(s.nowMs)]);
  for (const p of s.payments) {
    if (p.createdAtMs !== undefined) days.add(utcDay(p.createdAtMs));
    if (p.settledAtMs !== undefined) days.add(utcDay(p.settledAtMs));
  }
  for (const r of s.refunds) days.add(utcDay(r.createdAtMs));
  return [...days].sort();
}
