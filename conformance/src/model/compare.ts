import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  CodeKind,
  DeclineReason,
  type GetSettlementReportResponse,
  type Money,
  type Payment,
  PaymentStatus,
  type Refund,
} from "@paycode/protocol/v1";
import { CaseFailure } from "../expect.js";
import type { Real } from "./real.js";
import type { ReportTotals } from "./settlement-rules.js";
import { applyDeadline, type ModelPayment, type ModelRefund, type ModelState } from "./state.js";

/**
 * Server-made identifiers are not predicted: the first time the target
 * names a model object its id is bound to it, and from then on it must
 * name it the same way, and no other object the same way.
 */
export class IdMap {
  private readonly byIndex = new Map<string, string>();
  private readonly owner = new Map<string, string>();

  bind(kind: string, index: number, id: string, what: string): void {
    const key = `${kind}#${index}`;
    if (!id) throw new CaseFailure(`${what}: ${kind} id is empty`);
    const known = this.byIndex.get(key);
    if (known !== undefined && known !== id) {
      throw new CaseFailure(
        `${what}: ${kind} id is ${JSON.stringify(id)}, earlier ${JSON.stringify(known)}`,
      );
    }
    const other = this.owner.get(id);
    if (other !== undefined && other !== key) {
      throw new CaseFailure(`${what}: ${kind} id ${JSON.stringify(id)} already names ${other}`);
    }
    this.byIndex.set(key, id);
    this.owner.set(id, key);
  }

  get(kind: string, index: number): string | undefined {
    return this.byIndex.get(`${kind}#${index}`);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function field(what: string, name: string, got: unknown, want: unknown): void {
  if (got !== want) {
    const show = (v: unknown) => (typeof v === "bigint" ? v.toString() : JSON.stringify(v));
    throw new CaseFailure(`${what}: field ${name} is ${show(got)}, the model says ${show(want)}`);
  }
}

function money(
  what: string,
  name: string,
  got: Money | undefined,
  amount: bigint,
  currency: string,
) {
  if (!got)
    throw new CaseFailure(
      `${what}: field ${name} is not set, the model says ${amount} ${currency}`,
    );
  field(what, `${name}.currency`, got.currency, currency);
  field(what, `${name}.amount_minor`, got.amountMinor, amount);
}

function time(what: string, name: string, got: Timestamp | undefined, allowed: readonly number[]) {
  if (!got) throw new CaseFailure(`${what}: field ${name} is not set`);
  const ms = timestampMs(got);
  if (!allowed.includes(ms)) {
    throw new CaseFailure(
      `${what}: field ${name} is ${iso(ms)}, the model says ${allowed.map(iso).join(" or ")}`,
    );
  }
}

/**
 * Compares every field of a Payment the spec defines with the model's
 * payment: id (mapped), out_trade_no, amount, status, decline_reason,
 * code_kind, refunded, subject, created_at, updated_at, confirm_deadline.
 * Fields the spec leaves open for this payment (the order number and times
 * of a settled record, the deadline of a payment that is not pending) are
 * not compared. A value of updated_at the model allowed among several is
 * pinned, so later responses must agree with it.
 */
export function comparePayment(
  s: ModelState,
  ids: IdMap,
  got: Payment | undefined,
  p: ModelPayment,
  what: string,
): void {
  if (!got) throw new CaseFailure(`${what}: the response carries no payment`);
  const w = `${what} (model payment #${p.index})`;
  ids.bind("payment", p.index, got.paymentId, w);
  field(w, "status", PaymentStatus[got.status], p.status);
  field(
    w,
    "decline_reason",
    DeclineReason[got.declineReason],
    p.status === "DECLINED" ? p.reason : "UNSPECIFIED",
  );
  money(w, "amount", got.amount, p.amount, s.currency);
  money(w, "refunded", got.refunded, p.refunded, s.currency);
  field(w, "code_kind", CodeKind[got.codeKind], p.kind === "online" ? "ONLINE" : "OFFLINE");
  if (p.outTradeNo !== undefined) field(w, "out_trade_no", got.outTradeNo, p.outTradeNo);
  if (p.subject !== undefined) field(w, "subject", got.subject, p.subject);
  if (p.createdAtMs !== undefined) time(w, "created_at", got.createdAt, [p.createdAtMs]);
  if (p.updatedAtMs.length > 0) {
    time(w, "updated_at", got.updatedAt, p.updatedAtMs);
    p.updatedAtMs = [timestampMs(got.updatedAt!)];
  }
  if (p.status === "PENDING_CONFIRMATION" && p.deadlineMs !== undefined) {
    time(w, "confirm_deadline", got.confirmDeadline, [p.deadlineMs]);
  }
}

/** A Refund against the model's: id (mapped), payment_id, out_refund_no, amount, created_at. */
export function compareRefund(
  s: ModelState,
  ids: IdMap,
  got: Refund | undefined,
  r: ModelRefund,
  index: number,
  what: string,
): void {
  if (!got) throw new CaseFailure(`${what}: the response carries no refund`);
  ids.bind("refund", index, got.refundId, what);
  field(what, "refund.payment_id", got.paymentId, ids.get("payment", r.payment));
  field(what, "refund.out_refund_no", got.outRefundNo, r.outRefundNo ?? "");
  money(what, "refund.amount", got.amount, r.amount, s.currency);
  time(what, "refund.created_at", got.createdAt, [r.createdAtMs]);
}

/** Every field of a settlement report ([SETTLE-7]). */
export function compareReport(
  s: ModelState,
  got: GetSettlementReportResponse,
  want: ReportTotals,
  day: string,
): void {
  const what = `GetSettlementReport(${day})`;
  field(what, "date", got.date, day);
  field(what, "payment_count", got.paymentCount, want.paymentCount);
  money(what, "payment_total", got.paymentTotal, want.paymentTotal, s.currency);
  field(what, "refund_count", got.refundCount, want.refundCount);
  money(what, "refund_total", got.refundTotal, want.refundTotal, s.currency);
  field(what, "offline_count", got.offlineCount, want.offlineCount);
  money(what, "offline_total", got.offlineTotal, want.offlineTotal, s.currency);
  field(what, "issuer_liable_count", got.issuerLiableCount, want.issuerLiableCount);
  money(what, "issuer_liable_total", got.issuerLiableTotal, want.issuerLiableTotal, s.currency);
  money(what, "net_total", got.netTotal, want.netTotal, s.currency);
}

/** GetWallet of one wallet, every field ([WALLET-9], [LIMIT-6], [RPC-2]). */
export async function compareWallet(m: ModelState, r: Real, wi: number): Promise<void> {
  const got = await r.wallets[wi]!.client.getWallet({});
  const what = `GetWallet of wallet ${wi}`;
  field(what, "wallet_id", got.walletId, r.wallets[wi]!.walletId);
  field(what, "account_id", got.accountId, r.account.accountId);
  money(what, "balance", got.balance, m.payerBalance, m.currency);
  field(what, "revoked", got.revoked, m.wallets[wi]!.revokedAtMs !== undefined);
  time(what, "server_time", got.serverTime, [m.nowMs]);
  const l = got.limits;
  money(
    what,
    "limits.per_payment_password_free",
    l?.perPaymentPasswordFree,
    m.limits.perPaymentPasswordFree,
    m.currency,
  );
  money(
    what,
    "limits.daily_password_free_amount",
    l?.dailyPasswordFreeAmount,
    m.limits.dailyPasswordFreeAmount,
    m.currency,
  );
  field(
    what,
    "limits.daily_password_free_count",
    l?.dailyPasswordFreeCount,
    m.limits.dailyPasswordFreeCount,
  );
  money(
    what,
    "limits.per_payment_offline",
    l?.perPaymentOffline,
    m.limits.perPaymentOffline,
    m.currency,
  );
  money(
    what,
    "limits.cumulative_offline",
    l?.cumulativeOffline,
    m.limits.cumulativeOffline,
    m.currency,
  );
  const pending = m.payments.filter(
    (p) =>
      p.wallet === wi &&
      p.kind !== "settled" &&
      applyDeadline(m, p).status === "PENDING_CONFIRMATION",
  );
  const ids = got.pendingPayments.map((x) => x.paymentId).sort();
  const want = pending.map((p) => r.ids.get("payment", p.index) ?? `#${p.index}`).sort();
  field(what, "pending_payments (ids)", ids.join(","), want.join(","));
  for (const p of pending) {
    const g = got.pendingPayments.find(
      (x: Payment) => x.paymentId === r.ids.get("payment", p.index),
    );
    comparePayment(m, r.ids, g, p, `${what}: pending payment`);
  }
}

export { field as compareField, money as compareMoney, time as compareTime };
