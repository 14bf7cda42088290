import type { PaymentRecord } from "../store/records.js";
import { newTimeOrderedId } from "./ids.js";

/** What a new Scan's payment is made of before anything is decided. */
export type NewScanPayment = Pick<
  PaymentRecord,
  "merchantId" | "outTradeNo" | "amount" | "currency" | "codeKind" | "codeDigest" | "subject"
>;

/**
 * The payment a new Scan records, undecided: DECLINED with no reason, no
 * wallet or payer yet; the decision (issuer or store) fills those in.
 */
export function newScanPayment(p: NewScanPayment, now: number): PaymentRecord {
  return {
    id: newTimeOrderedId("pay", now),
    merchantId: p.merchantId,
    outTradeNo: p.outTradeNo,
    amount: p.amount,
    currency: p.currency,
    status: "DECLINED",
    declineReason: null,
    // [SCAN-13] From the code's shape, also for codes that fail verification.
    codeKind: p.codeKind,
    codeDigest: p.codeDigest,
    subject: p.subject,
    walletId: null,
    payerAccountId: null,
    passwordFree: false,
    refundedAmount: 0n,
    confirmDeadline: null,
    source: "scan",
    terminalId: null,
    recordId: null,
    // [SCAN-14] created_at is the issuer clock at the Scan.
    createdAt: now,
    updatedAt: now,
  };
}
