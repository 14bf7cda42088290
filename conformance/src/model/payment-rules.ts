/**
 * The rules of §7.2, §7.3 and §9 on the model: what a Scan, a
 * confirmation, a cancel, a refund, a revocation or a new provisioning
 * does to the state, and what it answers.
 */
import {
  applyDeadline,
  type ModelPayment,
  type ModelRefund,
  type ModelState,
  type ModelWallet,
  needsStepUp,
  newWallet,
  type Reason,
  stepOf,
  usageOf,
  utcDay,
} from "./state.js";

/**
 * §7.3.1 decision for a fresh, authentic code (verification passed) of
 * `wallet`: burn, revoked, currency (always the account's here), offline
 * per-payment limit, funds, step-up, success. Records the payment and
 * moves the money; returns it.
 */
export function scanFresh(
  s: ModelState,
  o: {
    wallet: number;
    amount: bigint;
    code: string;
    outTradeNo: string;
    subject: string;
    offline: boolean;
  },
): ModelPayment {
  const w = s.wallets[o.wallet]!;
  if (o.offline) {
    s.burnedOffline.add(o.code);
    s.scannedOffline.add(o.code);
  }
  const now = s.nowMs;
  const p: ModelPayment = {
    index: s.payments.length,
    kind: o.offline ? "offline-scan" : "online",
    wallet: o.wallet,
    amount: o.amount,
    outTradeNo: o.outTradeNo,
    subject: o.subject,
    code: o.code,
    codeAtMs: now,
    status: "DECLINED",
    reason: undefined,
    refunded: 0n,
    createdAtMs: now,
    updatedAtMs: [now],
    deadlineMs: undefined,
    settledAtMs: undefined,
    passwordFree: false,
  };
  s.payments.push(p);
  // Step 3: revocation takes effect at revoked_at ([WALLET-6]).
  if (w.revokedAtMs !== undefined && w.revokedAtMs <= now) {
    p.reason = "WALLET_REVOKED";
  } else if (o.offline && o.amount > w.certPerPayment) {
    p.reason = "LIMIT_EXCEEDED"; // step 5 ([SCAN-9])
  } else if (s.payerBalance < o.amount) {
    p.reason = "INSUFFICIENT_FUNDS"; // step 6 ([SCAN-10])
  } else if (needsStepUp(s, o.amount)) {
    p.status = "PENDING_CONFIRMATION"; // step 7 ([PAY-2])
    (p as { deadlineMs: number | undefined }).deadlineMs =
      now + s.confirmationTimeoutSeconds * 1000;
  } else {
    p.status = "SUCCEEDED"; // step 8 ([SCAN-11])
    p.passwordFree = true;
    s.payerBalance -= o.amount;
    s.merchantBalance += o.amount;
    const u = usageOf(s, utcDay(now));
    u.amount += o.amount;
    u.count += 1;
  }
  return p;
}

/**
 * §7.3.1 for a code shown before, under a new order number: step 1 (§6.1 /
 * §6.2 at the issuer clock, by the code's age) and, when it still
 * verifies, step 2 — its usage key is recorded, so CODE_REUSED.
 */
export function scanAgain(
  s: ModelState,
  o: {
    wallet: number;
    amount: bigint;
    code: string;
    codeAtMs: number;
    outTradeNo: string;
    subject: string;
    offline: boolean;
    window: { back: number; ahead: number; lookback: number; validity: number };
  },
): ModelPayment {
  let reason: Reason = "CODE_REUSED";
  if (o.offline) {
    // §6.2 step 7 (the certificate outlives every run).
    if (Math.floor(s.nowMs / 1000) - Math.floor(o.codeAtMs / 1000) > o.window.validity) {
      reason = "CODE_EXPIRED";
    }
  } else {
    const age = stepOf(s.nowMs) - stepOf(o.codeAtMs);
    if (age > o.window.lookback) reason = "CODE_INVALID";
    else if (age > o.window.back) reason = "CODE_EXPIRED";
  }
  const p: ModelPayment = {
    index: s.payments.length,
    kind: o.offline ? "offline-scan" : "online",
    wallet: o.wallet,
    amount: o.amount,
    outTradeNo: o.outTradeNo,
    subject: o.subject,
    code: o.code,
    codeAtMs: o.codeAtMs,
    status: "DECLINED",
    reason,
    refunded: 0n,
    createdAtMs: s.nowMs,
    updatedAtMs: [s.nowMs],
    deadlineMs: undefined,
    settledAtMs: undefined,
    passwordFree: false,
  };
  s.payments.push(p);
  return p;
}

export type ConfirmOutcome =
  | { error: "permission_denied" | "failed_precondition" }
  | { payment: ModelPayment };

/** §9.2 for the wallet that started the payment. */
export function confirm(s: ModelState, p: ModelPayment, rightPassword: boolean): ConfirmOutcome {
  const w = s.wallets[p.wallet]!;
  // 2. A revoked wallet cannot confirm; the payment is left as it is ([PAY-11]).
  if (w.revokedAtMs !== undefined) return { error: "permission_denied" };
  applyDeadline(s, p);
  // 3./4. [PAY-10]
  if (p.status !== "PENDING_CONFIRMATION") return { error: "failed_precondition" };
  // 5. [PAY-8]
  if (!rightPassword) {
    s.wrongPasswordsInRow++;
    return { error: "permission_denied" };
  }
  s.wrongPasswordsInRow = 0;
  p.updatedAtMs = [s.nowMs];
  // 6./7. [PAY-7]
  if (s.payerBalance < p.amount) {
    p.status = "DECLINED";
    p.reason = "INSUFFICIENT_FUNDS";
  } else {
    p.status = "SUCCEEDED";
    s.payerBalance -= p.amount;
    s.merchantBalance += p.amount;
  }
  return { payment: p };
}

/** A refund goes back to whoever paid ([SETTLE-24]: the issuer for an issuer-liable record). */
function refundTo(s: ModelState, p: ModelPayment, amount: bigint): void {
  if (p.issuerLiable) s.issuerLoss -= amount;
  else s.payerBalance += amount;
  s.merchantBalance -= amount;
}

export type CancelAction = "CLOSED" | "REFUNDED" | "NONE";

/** §7.3.3. */
export function cancel(s: ModelState, p: ModelPayment): CancelAction {
  applyDeadline(s, p);
  if (p.status === "PENDING_CONFIRMATION") {
    p.status = "CLOSED";
    p.updatedAtMs = [s.nowMs];
    return "CLOSED";
  }
  if (p.status === "SUCCEEDED") {
    const rest = p.amount - p.refunded;
    s.refunds.push({
      payment: p.index,
      outRefundNo: undefined,
      amount: rest,
      createdAtMs: s.nowMs,
      refundId: undefined,
    });
    refundTo(s, p, rest);
    p.refunded = p.amount;
    p.status = "REFUNDED";
    p.updatedAtMs = [s.nowMs];
    return "REFUNDED";
  }
  return "NONE";
}

export type RefundOutcome =
  | { error: "failed_precondition" | "already_exists" }
  | { refund: ModelRefund; payment: ModelPayment };

/** §7.3.4, steps 2–6 (the payment exists and is the merchant's). */
export function refund(
  s: ModelState,
  p: ModelPayment,
  outRefundNo: string,
  amount: bigint,
): RefundOutcome {
  applyDeadline(s, p);
  const prior = s.refunds.find((r) => r.payment === p.index && r.outRefundNo === outRefundNo);
  if (prior) {
    return prior.amount === amount ? { refund: prior, payment: p } : { error: "already_exists" };
  }
  if (p.status !== "SUCCEEDED") return { error: "failed_precondition" };
  if (amount > p.amount - p.refunded) return { error: "failed_precondition" };
  const r: ModelRefund = {
    payment: p.index,
    outRefundNo,
    amount,
    createdAtMs: s.nowMs,
    refundId: undefined,
  };
  s.refunds.push(r);
  refundTo(s, p, amount);
  p.refunded += amount;
  if (p.refunded === p.amount) {
    p.status = "REFUNDED";
    p.updatedAtMs = [s.nowMs];
  } else {
    // A partial refund keeps SUCCEEDED. Whether that is a "status change"
    // for updated_at ([SCAN-14]) the spec leaves open (§8.1 draws it as a
    // SUCCEEDED → SUCCEEDED transition), so both values are allowed.
    p.updatedAtMs = [...new Set([...p.updatedAtMs, s.nowMs])];
  }
  return { refund: r, payment: p };
}

/** Revokes a wallet now (§7.2.2); a revoked wallet keeps its original time ([WALLET-8]). */
export function revoke(s: ModelState, wallet: number): number {
  const w = s.wallets[wallet]!;
  if (w.revokedAtMs === undefined) w.revokedAtMs = s.nowMs;
  return w.revokedAtMs;
}

/** §7.2.1: ProvisionSeed revokes the account's previous wallet and makes a new one ([WALLET-4]). */
export function reprovision(s: ModelState): ModelWallet {
  s.wrongPasswordsInRow = 0;
  revoke(s, s.current);
  const w = newWallet(s);
  s.current = w.index;
  return w;
}
