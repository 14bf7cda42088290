import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  CodeKind,
  DeclineReason,
  type Money,
  MoneySchema,
  type Payment,
  PaymentSchema,
  PaymentStatus,
  type Refund,
  RefundSchema,
} from "@paycode/protocol/v1";
import type { PaymentRecord, RefundRecord } from "../store/records.js";

export function money(amountMinor: bigint, currency: string): Money {
  return create(MoneySchema, { currency, amountMinor });
}

export function timestamp(ms: number): Timestamp {
  return timestampFromMs(ms);
}

export function paymentToProto(p: PaymentRecord): Payment {
  return create(PaymentSchema, {
    paymentId: p.id,
    outTradeNo: p.outTradeNo ?? "",
    amount: money(p.amount, p.currency),
    status: PaymentStatus[p.status],
    declineReason: p.declineReason ? DeclineReason[p.declineReason] : DeclineReason.UNSPECIFIED,
    codeKind: CodeKind[p.codeKind],
    // [RPC-7] Always set, zero when nothing was refunded.
    refunded: money(p.refundedAmount, p.currency),
    subject: p.subject,
    createdAt: timestamp(p.createdAt),
    updatedAt: timestamp(p.updatedAt),
    confirmDeadline:
      p.status === "PENDING_CONFIRMATION" && p.confirmDeadline !== null
        ? timestamp(p.confirmDeadline)
        : undefined,
  });
}

export function refundToProto(r: RefundRecord): Refund {
  return create(RefundSchema, {
    refundId: r.id,
    paymentId: r.paymentId,
    outRefundNo: r.outRefundNo ?? "",
    amount: money(r.amount, r.currency),
    createdAt: timestamp(r.createdAt),
  });
}
