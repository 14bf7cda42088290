import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CancelAction,
  CancelPaymentResponseSchema,
  GetPaymentRequestSchema,
  type Payment,
  PaymentStatus,
  type RefundPaymentResponse,
  RefundPaymentResponseSchema,
  ScanResponseSchema,
} from "@paycode/protocol/v1";
import type { IssuerApi } from "@paycode/server";
import { mapPayment, override } from "./api-override.js";
import type { WrapperMutant } from "./wrapper-mutant.js";

const isAlreadyExists = (e: unknown) => e instanceof ConnectError && e.code === Code.AlreadyExists;

/** Every payment an answer carries, so a mutant can rewrite a field wherever it is reported. */
function mapEveryPayment(issuer: IssuerApi, f: (p: Payment) => void): IssuerApi {
  return override(issuer, {
    scan: async (m, req) => {
      const r = await issuer.scan(m, req);
      mapPayment(r.payment, f);
      return r;
    },
    getPayment: async (m, req) => {
      const r = await issuer.getPayment(m, req);
      mapPayment(r.payment, f);
      return r;
    },
    cancelPayment: async (m, req) => {
      const r = await issuer.cancelPayment(m, req);
      mapPayment(r.payment, f);
      return r;
    },
    refundPayment: async (m, req) => {
      const r = await issuer.refundPayment(m, req);
      mapPayment(r.payment, f);
      return r;
    },
    confirmPayment: async (w, req) => {
      const r = await issuer.confirmPayment(w, req);
      mapPayment(r.payment, f);
      return r;
    },
    getWallet: async (w) => {
      const r = await issuer.getWallet(w);
      r.pendingPayments.forEach(f);
      return r;
    },
  });
}

/**
 * Wrapper mutants for the requirements of the payment area. Each violates the
 * requirement IDs in `breaks` in its main failure mode: the way a careful
 * vendor in another language could still get that rule wrong.
 */
export const PAYMENT_MUTANTS: Readonly<Record<string, WrapperMutant>> = {
  "scan-conflict-as-retry": {
    breaks: ["SCAN-3"],
    summary:
      "out_trade_no alone is the idempotency key: a Scan with another amount or code gets the stored payment.",
    wrap: (issuer) =>
      override(issuer, {
        scan: async (m, req) => {
          try {
            return await issuer.scan(m, req);
          } catch (e) {
            if (!isAlreadyExists(e)) throw e;
            const lookup = { case: "outTradeNo" as const, value: req.outTradeNo };
            const g = await issuer.getPayment(m, create(GetPaymentRequestSchema, { lookup }));
            return create(ScanResponseSchema, g.payment ? { payment: g.payment } : {});
          }
        },
      }),
  },
  "forget-declined-payments": {
    breaks: ["SCAN-12"],
    summary: "Declined Scans are answered but not stored: GetPayment does not find them.",
    wrap: (issuer) =>
      override(issuer, {
        getPayment: async (m, req) => {
          const r = await issuer.getPayment(m, req);
          if (r.payment?.status === PaymentStatus.DECLINED) {
            throw new ConnectError("payment not found", Code.NotFound);
          }
          return r;
        },
      }),
  },
  "updated-at-never-moves": {
    breaks: ["SCAN-14"],
    summary: "updated_at is written once, at the Scan, and does not follow status changes.",
    wrap: (issuer) =>
      mapEveryPayment(issuer, (p) => {
        if (p.createdAt) p.updatedAt = { ...p.createdAt };
      }),
  },
  "cancel-only-succeeded": {
    breaks: ["REFUND-1"],
    summary:
      "CancelPayment acts on SUCCEEDED payments only: a pending one stays pending (CANCEL_ACTION_NONE).",
    wrap: (issuer) =>
      override(issuer, {
        cancelPayment: async (m, req) => {
          const g = await issuer.getPayment(
            m,
            create(GetPaymentRequestSchema, { lookup: req.lookup }),
          );
          if (g.payment?.status === PaymentStatus.PENDING_CONFIRMATION) {
            return create(CancelPaymentResponseSchema, {
              payment: g.payment,
              action: CancelAction.NONE,
            });
          }
          return issuer.cancelPayment(m, req);
        },
      }),
  },
  "cancel-closes-final": {
    breaks: ["REFUND-3"],
    summary:
      "CancelPayment closes whatever it does not refund: a DECLINED or REFUNDED payment comes back CLOSED (CANCEL_ACTION_CLOSED).",
    wrap: (issuer) =>
      override(issuer, {
        cancelPayment: async (m, req) => {
          const r = await issuer.cancelPayment(m, req);
          if (
            r.action === CancelAction.NONE &&
            r.payment &&
            r.payment.status !== PaymentStatus.CLOSED
          ) {
            r.payment.status = PaymentStatus.CLOSED;
            r.payment.declineReason = 0;
            r.action = CancelAction.CLOSED;
          }
          return r;
        },
      }),
  },
  "refund-key-without-amount": {
    breaks: ["REFUND-9"],
    summary:
      "out_refund_no alone is the idempotency key: a refund with another amount gets the stored refund.",
    wrap: (issuer) => {
      // An idempotency layer keyed by the key alone, as many HTTP middlewares are.
      const seen = new Map<string, RefundPaymentResponse>();
      return override(issuer, {
        refundPayment: async (m, req) => {
          const key = `${m.merchantId}\n${req.paymentId}\n${req.outRefundNo}`;
          try {
            const r = await issuer.refundPayment(m, req);
            seen.set(key, r);
            return r;
          } catch (e) {
            const stored = seen.get(key);
            if (!isAlreadyExists(e) || !stored) throw e;
            const lookup = { case: "paymentId" as const, value: req.paymentId };
            const g = await issuer.getPayment(m, create(GetPaymentRequestSchema, { lookup }));
            return create(RefundPaymentResponseSchema, {
              ...(stored.refund ? { refund: stored.refund } : {}),
              ...(g.payment ? { payment: g.payment } : {}),
            });
          }
        },
      });
    },
  },
};
