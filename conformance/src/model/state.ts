/**
 * The executable model of an issuer's state, written from spec/paycode.md
 * alone: one payer account (with its wallets), one merchant (with one
 * terminal), their payments, refunds, settled offline records, the
 * password-free usage per UTC day and the issuer clock. The rules that
 * change it are in payment-rules.ts and settlement-rules.ts, pure
 * bookkeeping on plain data; the commands (*-commands.ts) call the target,
 * ask the model what the spec allows, and compare (compare.ts).
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
  /** A settled record the issuer paid (§10.3): its refunds go back to the issuer, not the payer. */
  readonly issuerLiable?: boolean;
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
  /** Which of the merchant's two terminals uploads it (0 or 1). */
  readonly terminal: number;
}

export interface ModelBatch {
  readonly batchId: string;
  readonly records: ModelRecordUpload[];
  /** Outcome names and the model payment each settled record created. */
  readonly results: RecordDecision[];
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
  /** Offline codes a Scan recorded first (§10.2 rule 7: their records are issuer-liable). */
  readonly scannedOffline: Set<string>;
  /** Per offline code, the terminals whose records of it reached §10.2 rule 7. */
  readonly offlineUses: Map<string, Set<number>>;
  /** Offline codes one of whose records settled debiting the payer. */
  readonly payerPaidOffline: Set<string>;
  /** What the issuer paid for duplicates (the issuer loss account, §8.2). */
  issuerLoss: bigint;
  readonly batches: ModelBatch[];
  /**
   * Wrong payment passwords in a row that reached the password check ([SEC-3]).
   * The commands stay at 4 or fewer, where [SEC-17] forbids any throttling,
   * so the delays of [SEC-15] never come into play.
   */
  wrongPasswordsInRow: number;
  /** generated_at of the terminal's latest GetIssuerKeys; undefined before the first sync. */
  terminalSyncedAtMs: number | undefined;
}

/** §10.2 for one record: the outcome name, the payment it created, who paid it. */
export interface RecordDecision {
  outcome: string;
  payment: number | undefined;
  issuerLiable: boolean;
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

export function usageOf(s: ModelState, day: string): { amount: bigint; count: number } {
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
