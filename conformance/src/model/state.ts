/**
 * The executable model of an issuer's state, written from spec/paycode.md
 * alone: one payer account (with its wallets), one merchant (with one
 * terminal), their payments, refunds, settled offline records, the
 * password-free usage per UTC day and the issuer clock. Every function here
 * is pure bookkeeping on plain data; the commands (commands.ts) call the
 * target, ask the model what the spec allows, and compare.
 */

/** §8.1 statuses, spelled as the proto enum names them. */
export type Status = "PENDING_CONFIRMATION" | "SUCCEEDED" | "DECLINED" | "CLOSED" | "REFUNDED";

/** §7.3.1 decline reasons the model can produce. */
export type Reason =
  | "CODE_EXPIRED"
  | "CODE_INVALID"
  | "CODE_REUSED"
  | "WALLET_REVOKED"
  | "LIMIT_EXCEEDED"
  | "INSUFFICIENT_FUNDS";

export interface Limits {
  perPaymentPasswordFree: bigint;
  dailyPasswordFreeAmount: bigint;
  dailyPasswordFreeCount: number;
  perPaymentOffline: bigint;
  cumulativeOffline: bigint;
}

export interface ModelWallet {
  /** Index in `ModelState.wallets`; the real SimWallet has the same index. */
  readonly index: number;
  /** Issuer clock at ProvisionSeed, ms; the certificate's validity derives from it (§5.6). */
  readonly provisionedAtMs: number;
  /** The certificate's limits: the account's at provisioning (§5.6). */
  readonly certPerPayment: bigint;
  readonly certCumulative: bigint;
  revokedAtMs: number | undefined;
  /** Offline total settled under this wallet's certificate (§10.2 rule 8). */
  settledOffline: bigint;
  /** Online codes shown per time step (a wallet has 8 counters per step, §4.3). */
  readonly codesPerStep: Map<number, number>;
}

export interface ModelPayment {
  /** Index in `ModelState.payments`; the target's payment_id is mapped to it on first sight. */
  readonly index: number;
  readonly kind: "online" | "offline-scan" | "settled";
  /** The wallet whose code started it (undefined for none, e.g. a declined unattributable code). */
  readonly wallet: number;
  readonly amount: bigint;
  /** Scan's out_trade_no and subject; unspecified for settled records (§10.2). */
  readonly outTradeNo: string | undefined;
  readonly subject: string | undefined;
  /** The code presented, for retries and reuse. */
  readonly code: string;
  /** Issuer time the code was made for (its step, or its issued_at), ms. */
  readonly codeAtMs: number;
  status: Status;
  reason: Reason | undefined;
  refunded: bigint;
  /** Issuer clock at Scan; unspecified for settled records. */
  readonly createdAtMs: number | undefined;
  /** The values `updated_at` may have ([SCAN-14]); more than one where the spec leaves it open. */
  updatedAtMs: number[];
  readonly deadlineMs: number | undefined;
  /** Issuer clock at the upload that settled it (settled records only); the report counts by it. */
  readonly settledAtMs: number | undefined;
  /** Succeeded at Scan without confirmation: counts toward the password-free day (§9.1). */
  passwordFree: boolean;
}

export interface ModelRefund {
  readonly payment: number;
  /** undefined for the refund a CancelPayment makes. */
  readonly outRefundNo: string | undefined;
  readonly amount: bigint;
  readonly createdAtMs: number;
  /** The target's refund_id, once seen. */
  refundId: string | undefined;
}

export interface ModelRecordUpload {
  readonly recordId: string;
  readonly code: string;
  readonly wallet: number;
  readonly amount: bigint;
  readonly acceptedAtMs: number;
  readonly keysSyncedAtMs: number;
}

export interface ModelBatch {
  readonly batchId: string;
  readonly records: ModelRecordUpload[];
  /** Outcome names and the model payment each settled record created. */
  readonly results: { outcome: string; payment: number | undefined }[];
}

export interface ModelState {
  nowMs: number;
  readonly currency: string;
  readonly confirmationTimeoutSeconds: number;
  readonly maxKeyAgeSeconds: number;
  readonly limits: Limits;
  payerBalance: bigint;
  merchantBalance: bigint;
  /** Password-free usage of the account per UTC day (§9.1). */
  readonly usage: Map<string, { amount: bigint; count: number }>;
  readonly wallets: ModelWallet[];
  /** The account's wallet that ProvisionSeed made last. */
  current: number;
  readonly payments: ModelPayment[];
  readonly refunds: ModelRefund[];
  /** Usage keys of offline codes recorded, by code text (§7.3.1 step 2, §10.2 rule 7). */
  readonly burnedOffline: Set<string>;
  readonly batches: ModelBatch[];
  /**
   * Wrong payment passwords in a row that reached the password check. The
   * commands stay below the throttling threshold [SEC-3] suggests, so an
   * issuer that throttles and one that does not answer alike.
   */
  wrongPasswordsInRow: number;
  /** generated_at of the terminal's latest GetIssuerKeys; undefined before the first sync. */
  terminalSyncedAtMs: number | undefined;
}

export const DAY_MS = 86_400_000;

/** The UTC day (YYYY-MM-DD) of a time, as §1.3 defines it. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The full time step of §4.3. */
export function stepOf(ms: number): number {
  return Math.floor(ms / 60_000);
}

export function newWallet(s: ModelState): ModelWallet {
  const w: ModelWallet = {
    index: s.wallets.length,
    provisionedAtMs: s.nowMs,
    certPerPayment: s.limits.perPaymentOffline,
    certCumulative: s.limits.cumulativeOffline,
    revokedAtMs: undefined,
    settledOffline: 0n,
    codesPerStep: new Map(),
  };
  s.wallets.push(w);
  return w;
}

/**
 * §8.1 deadline rule: a pending payment at or past its deadline is CLOSED,
 * dated at the deadline. Every read and action applies it first, so the
 * model applies it whenever it touches a payment.
 */
export function applyDeadline(s: ModelState, p: ModelPayment): ModelPayment {
  if (
    p.status === "PENDING_CONFIRMATION" &&
    p.deadlineMs !== undefined &&
    s.nowMs >= p.deadlineMs
  ) {
    p.status = "CLOSED";
    p.updatedAtMs = [p.deadlineMs];
  }
  return p;
}

export function applyAllDeadlines(s: ModelState): void {
  for (const p of s.payments) applyDeadline(s, p);
}

function usageOf(s: ModelState, day: string): { amount: bigint; count: number } {
  let u = s.usage.get(day);
  if (!u) {
    u = { amount: 0n, count: 0 };
    s.usage.set(day, u);
  }
  return u;
}

/** §9.1: whether a payment of `amount` needs the password today. Equality does not. */
export function needsStepUp(s: ModelState, amount: bigint): boolean {
  const u = s.usage.get(utcDay(s.nowMs)) ?? { amount: 0n, count: 0 };
  return (
    amount > s.limits.perPaymentPasswordFree ||
    u.amount + amount > s.limits.dailyPasswordFreeAmount ||
    u.count + 1 > s.limits.dailyPasswordFreeCount
  );
}

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
  if (o.offline) s.burnedOffline.add(o.code);
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
    s.payerBalance += rest;
    s.merchantBalance -= rest;
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
  s.payerBalance += amount;
  s.merchantBalance -= amount;
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

/** §10.2 for one record, in order; updates the model and returns the outcome name. */
export function settleRecord(
  s: ModelState,
  r: ModelRecordUpload,
): { outcome: string; payment: number | undefined } {
  const w = s.wallets[r.wallet]!;
  const notBefore = w.provisionedAtMs - (w.provisionedAtMs % 1000) - 300_000;
  const notAfter = w.provisionedAtMs - (w.provisionedAtMs % 1000) + 2_592_000_000;
  const acceptedS = Math.floor(r.acceptedAtMs / 1000);
  // Rule 3: §6.2 at accepted_at (the code was made at accepted_at, so its age is 0).
  if (acceptedS < notBefore / 1000 || acceptedS >= notAfter / 1000) {
    return { outcome: "REJECTED_EXPIRED", payment: undefined };
  }
  if (r.amount > w.certPerPayment) return { outcome: "REJECTED_LIMIT", payment: undefined };
  // Rule 4 ([SETTLE-11]).
  if (r.acceptedAtMs - r.keysSyncedAtMs > s.maxKeyAgeSeconds * 1000) {
    return { outcome: "REJECTED_STALE_KEYS", payment: undefined };
  }
  // Rule 6 ([SETTLE-12]).
  if (w.revokedAtMs !== undefined && w.revokedAtMs <= r.keysSyncedAtMs) {
    return { outcome: "REJECTED_REVOKED", payment: undefined };
  }
  // Rule 7 ([SETTLE-14]).
  if (s.burnedOffline.has(r.code)) return { outcome: "DUPLICATE", payment: undefined };
  s.burnedOffline.add(r.code);
  // Rule 8 ([SETTLE-15]).
  if (w.settledOffline + r.amount > w.certCumulative) {
    return { outcome: "REJECTED_LIMIT", payment: undefined };
  }
  // Rule 9 ([SETTLE-16]): even when the payer goes negative.
  w.settledOffline += r.amount;
  s.payerBalance -= r.amount;
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
  };
  s.payments.push(p);
  return { outcome: "SETTLED", payment: p.index };
}

export interface ReportTotals {
  paymentCount: bigint;
  paymentTotal: bigint;
  refundCount: bigint;
  refundTotal: bigint;
  offlineCount: bigint;
  offlineTotal: bigint;
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
    netTotal: 0n,
  };
  for (const p of s.payments) {
    if (p.kind === "settled") {
      if (p.settledAtMs !== undefined && utcDay(p.settledAtMs) === day) {
        t.offlineCount += 1n;
        t.offlineTotal += p.amount;
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
