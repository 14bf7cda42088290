import { create } from "@bufbuild/protobuf";
import {
  CancelAction,
  type CancelPaymentRequest,
  type CancelPaymentResponse,
  CancelPaymentResponseSchema,
  type GetPaymentRequest,
  type GetPaymentResponse,
  GetPaymentResponseSchema,
  type RefundPaymentRequest,
  type RefundPaymentResponse,
  RefundPaymentResponseSchema,
} from "@paycode/protocol/v1";
import type { PaymentRecord, RefundRecord } from "../store/records.js";
import { TransactionRetry, type Tx } from "../store/store.js";
import { newTimeOrderedId } from "./ids.js";
import type { MerchantPrincipal } from "./issuer-api.js";
import type { Decision, IssuerContext } from "./issuer-context.js";
import { transferRefund } from "./ledger.js";
import { lazyClose, savePayment, setStatus } from "./payment-transitions.js";
import { paymentToProto, refundToProto } from "./to-proto.js";
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
  requireAmount,
  requireFreeText,
  requireId,
  requireReference,
} from "./validation.js";

type Lookup = { paymentId: string } | { outTradeNo: string };

const minBigint = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** MerchantService after Scan: GetPayment, CancelPayment, RefundPayment (§7.3.2–§7.3.4). */
export class MerchantService {
  constructor(private readonly ctx: IssuerContext) {}

  async getPayment(
    merchant: MerchantPrincipal,
    req: GetPaymentRequest,
  ): Promise<GetPaymentResponse> {
    const { ctx } = this;
    const lookup = lookupOf(req.lookup);
    const p = await ctx.store.transaction(async (tx) => {
      const found = await findPayment(tx, merchant, lookup, {
        anyMerchant: ctx.breaks.leakOtherMerchantOrder,
      });
      return found && lazyClose(ctx, tx, found, ctx.clock.now());
    });
    // [SCAN-15]
    if (!p) throw notFound("payment not found");
    return create(GetPaymentResponseSchema, { payment: paymentToProto(p) });
  }

  async cancelPayment(
    merchant: MerchantPrincipal,
    req: CancelPaymentRequest,
  ): Promise<CancelPaymentResponse> {
    const { ctx } = this;
    const lookup = lookupOf(req.lookup);
    const r = await ctx.decide(
      async (tx): Promise<Decision<{ p: PaymentRecord; action: CancelAction }>> => {
        const now = ctx.clock.now();
        const found = await findPayment(tx, merchant, lookup, { forUpdate: true });
        // [REFUND-4]
        if (!found) return { error: notFound("payment not found") };
        // A payment past its deadline was closed by the rule, not by this call: action NONE,
        // whether or not the sweep has run yet.
        const p = await lazyClose(ctx, tx, found, now);
        // [REFUND-1]
        if (p.status === "PENDING_CONFIRMATION") {
          return {
            ok: {
              p: await setStatus(ctx, tx, p, "CLOSED", { updatedAt: now }),
              action: CancelAction.CLOSED,
            },
          };
        }
        // [REFUND-2]
        if (p.status === "SUCCEEDED") {
          return { ok: { p: await this.refundRest(tx, p, now), action: CancelAction.REFUNDED } };
        }
        // [REFUND-3]
        return { ok: { p, action: CancelAction.NONE } };
      },
    );
    return create(CancelPaymentResponseSchema, { payment: paymentToProto(r.p), action: r.action });
  }

  async refundPayment(
    merchant: MerchantPrincipal,
    req: RefundPaymentRequest,
  ): Promise<RefundPaymentResponse> {
    const { ctx } = this;
    requireId("payment_id", req.paymentId);
    requireReference("out_refund_no", req.outRefundNo);
    requireAmount("amount", req.amount);
    requireFreeText("reason", req.reason, 256);
    const amount = req.amount.amountMinor;
    const stale = await staleRefundRead(ctx, merchant, req.paymentId);
    const r = await ctx.decide(
      async (tx): Promise<Decision<{ refund: RefundRecord; p: PaymentRecord }>> => {
        const now = ctx.clock.now();
        const found = await findPayment(
          tx,
          merchant,
          { paymentId: req.paymentId },
          { forUpdate: true },
        );
        // [REFUND-10]
        if (!found) return { error: notFound("payment not found") };
        const locked = await lazyClose(ctx, tx, found, now);
        // The refund-check-not-atomic mutant decides on what it read before this transaction.
        const p = stale
          ? { ...locked, status: stale.status, refundedAmount: stale.refundedAmount }
          : locked;
        const prior = await tx.getRefund(p.id, req.outRefundNo);
        if (prior) {
          // [REFUND-8] Checked before the status: a retry of the refund that made it REFUNDED.
          if (prior.amount === amount && prior.currency === req.amount!.currency)
            return { ok: { refund: prior, p } };
          // [REFUND-9]
          return {
            error: alreadyExists(
              `out_refund_no "${req.outRefundNo}" was already used with a different amount`,
            ),
          };
        }
        // [REFUND-7]
        if (p.status !== "SUCCEEDED" && !ctx.breaks.refundAnyStatus) {
          return {
            error: failedPrecondition(
              `only a SUCCEEDED payment can be refunded; this one is ${p.status}`,
            ),
          };
        }
        // [REFUND-11]
        if (req.amount!.currency !== p.currency) {
          return {
            error: invalidArgument(`amount.currency must be the payment currency ${p.currency}`),
          };
        }
        const remaining = p.amount - p.refundedAmount;
        // [REFUND-7]
        if (amount > remaining && !ctx.breaks.refundOverRemaining) {
          return {
            error: failedPrecondition(
              `refund of ${amount} exceeds the ${remaining} not yet refunded`,
            ),
          };
        }
        const merchantAccount = await ctx.merchantAccountId(p.merchantId, tx);
        await tx.lockAccounts([merchantAccount, p.payerAccountId!]);
        const refund: RefundRecord = {
          id: newTimeOrderedId("ref", now),
          paymentId: p.id,
          merchantId: p.merchantId,
          outRefundNo: req.outRefundNo,
          amount,
          currency: p.currency,
          reason: req.reason,
          createdAt: now,
        };
        if (!(await tx.insertRefund(refund)))
          throw new TransactionRetry("concurrent refund with the same out_refund_no");
        // [REFUND-5] The refund's amount (the refund-moves-payment-amount mutant moves the payment's).
        const moved = ctx.breaks.refundMovesPaymentAmount ? p.amount : amount;
        await transferRefund(tx, p, refund.id, moved, merchantAccount, now);
        // The cap only matters for the refund-over-remaining mutant (the schema forbids refunded > amount).
        const refunded = minBigint(p.refundedAmount + amount, p.amount);
        // [REFUND-6] REFUNDED exactly when the refunds add up to the amount.
        const next =
          refunded === p.amount
            ? await setStatus(ctx, tx, p, "REFUNDED", { refundedAmount: refunded, updatedAt: now })
            : await savePayment(tx, { ...p, refundedAmount: refunded, updatedAt: now });
        return { ok: { refund, p: next } };
      },
    );
    return create(RefundPaymentResponseSchema, {
      refund: refundToProto(r.refund),
      payment: paymentToProto(r.p),
    });
  }

  /** [REFUND-2] CancelPayment of a succeeded payment: one refund of all that remains. */
  private async refundRest(tx: Tx, p: PaymentRecord, now: number): Promise<PaymentRecord> {
    const { ctx } = this;
    if (ctx.breaks.cancelDoesNotRefund) {
      return setStatus(ctx, tx, p, "REFUNDED", { refundedAmount: p.amount, updatedAt: now });
    }
    const rest = p.amount - p.refundedAmount;
    const merchantAccount = await ctx.merchantAccountId(p.merchantId, tx);
    await tx.lockAccounts([merchantAccount, p.payerAccountId!]);
    const refund: RefundRecord = {
      id: newTimeOrderedId("ref", now),
      paymentId: p.id,
      merchantId: p.merchantId,
      outRefundNo: null,
      amount: rest,
      currency: p.currency,
      reason: "cancelled",
      createdAt: now,
    };
    if (!(await tx.insertRefund(refund))) throw new TransactionRetry("concurrent cancel");
    await transferRefund(tx, p, refund.id, rest, merchantAccount, now);
    return setStatus(ctx, tx, p, "REFUNDED", { refundedAmount: p.amount, updatedAt: now });
  }
}

/**
 * The refund-check-not-atomic mutant ([REFUND-7], [SEC-2]): the payment is
 * read in a transaction of its own and the refund decided on that read
 * after a pause, so concurrent refunds each see the whole remainder. Off
 * (undefined) in the issuer as the spec wants it, which reads, checks and
 * writes under one row lock.
 */
async function staleRefundRead(
  ctx: IssuerContext,
  merchant: MerchantPrincipal,
  paymentId: string,
): Promise<PaymentRecord | undefined> {
  if (!ctx.breaks.refundCheckNotAtomic) return undefined;
  const p = await ctx.store.transaction((tx) => findPayment(tx, merchant, { paymentId }));
  // The pause stands for any slow step between check and write (a fraud check, a remote call).
  await new Promise((resolve) => setTimeout(resolve, 50));
  return p;
}

function lookupOf(lookup: CancelPaymentRequest["lookup"] | GetPaymentRequest["lookup"]): Lookup {
  if (lookup.case === "paymentId") {
    requireId("payment_id", lookup.value);
    return { paymentId: lookup.value };
  }
  if (lookup.case === "outTradeNo") {
    requireReference("out_trade_no", lookup.value);
    return { outTradeNo: lookup.value };
  }
  throw invalidArgument("payment_id or out_trade_no is required");
}

async function findPayment(
  tx: Tx,
  merchant: MerchantPrincipal,
  lookup: Lookup,
  options: { forUpdate?: boolean; anyMerchant?: boolean } = {},
): Promise<PaymentRecord | undefined> {
  const p =
    "paymentId" in lookup
      ? await tx.getPayment(lookup.paymentId, options)
      : await tx.getPaymentByOutTradeNo(merchant.merchantId, lookup.outTradeNo, options);
  // [AUTH-2] Another merchant's payment is indistinguishable from none.
  if (!p || (p.merchantId !== merchant.merchantId && !options.anyMerchant)) return undefined;
  return p;
}
