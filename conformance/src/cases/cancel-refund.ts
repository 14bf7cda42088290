import { Code } from "@connectrpc/connect";
import { CancelAction, DeclineReason, PaymentStatus } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { balances, byId, refundRequest, walletAndMerchant } from "./common.js";

/** CancelPayment and RefundPayment move money back exactly once. */
export const cancelRefundCases: Case[] = [
  defineCase({
    id: "cancel-refund/cancel-succeeded-refunds",
    title: "CancelPayment of a succeeded payment refunds it in full (CANCEL_ACTION_REFUNDED)",
    requirements: ["REFUND-2", "PAY-5"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.succeeded(p, "Scan");
      const c = await merchant.client.cancelPayment(byId(p.paymentId));
      ctx.expect.equal(CancelAction[c.action], "REFUNDED", "CancelPayment.action");
      const after = ctx.expect.payment(c, "CancelPayment");
      ctx.expect.status(after, PaymentStatus.REFUNDED, "CancelPayment");
      ctx.expect.money(after.refunded, 3_000n, "Payment.refunded");
      await balances(ctx, wallet, merchant, 10_000n, 0n, "after cancel");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "cancel-refund/cancel-twice",
    title:
      "A second CancelPayment of a refunded payment does nothing (CANCEL_ACTION_NONE); money returns once",
    requirements: ["REFUND-3", "PAY-6"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.succeeded(p, "Scan");
      await merchant.client.cancelPayment(byId(p.paymentId));
      const c2 = await merchant.client.cancelPayment({
        lookup: { case: "outTradeNo", value: p.outTradeNo },
      });
      ctx.expect.equal(CancelAction[c2.action], "NONE", "second CancelPayment.action");
      ctx.expect.status(
        ctx.expect.payment(c2, "CancelPayment"),
        PaymentStatus.REFUNDED,
        "second CancelPayment",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "after two cancels");
    },
  }),
  defineCase({
    id: "cancel-refund/cancel-declined-noop",
    title: "CancelPayment of a declined payment leaves it DECLINED and reports CANCEL_ACTION_NONE",
    requirements: ["REFUND-3"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 100n });
      const p = await merchant.scan(wallet.onlineCode(), 1_000n);
      ctx.expect.declined(p, DeclineReason.INSUFFICIENT_FUNDS, "Scan");
      const c = await merchant.client.cancelPayment(byId(p.paymentId));
      ctx.expect.equal(CancelAction[c.action], "NONE", "CancelPayment.action");
      ctx.expect.declined(
        ctx.expect.payment(c, "CancelPayment"),
        DeclineReason.INSUFFICIENT_FUNDS,
        "CancelPayment",
      );
      await balances(ctx, wallet, merchant, 100n, 0n, "after cancel");
    },
  }),
  defineCase({
    id: "cancel-refund/partial-refund",
    title: "A partial refund returns the amount, keeps the payment SUCCEEDED and records refunded",
    requirements: ["REFUND-5", "REFUND-6", "RPC-7"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.succeeded(p, "Scan");
      const r = await merchant.client.refundPayment(
        refundRequest(ctx, p.paymentId, 1_000n, "partial"),
      );
      ctx.expect.that(r.refund?.refundId, "RefundPayment: no refund id");
      ctx.expect.money(r.refund.amount, 1_000n, "Refund.amount");
      const after = ctx.expect.payment(r, "RefundPayment");
      ctx.expect.succeeded(after, "payment after a partial refund");
      ctx.expect.money(after.refunded, 1_000n, "Payment.refunded");
      await balances(ctx, wallet, merchant, 8_000n, 2_000n, "after the partial refund");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "cancel-refund/refund-in-two-parts",
    title: "Two refunds adding up to the amount make the payment REFUNDED",
    requirements: ["REFUND-6", "REFUND-5"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.succeeded(p, "Scan");
      for (const amount of [1_000n, 2_000n]) {
        await merchant.client.refundPayment(refundRequest(ctx, p.paymentId, amount));
      }
      const g = ctx.expect.payment(
        await merchant.client.getPayment(byId(p.paymentId)),
        "GetPayment",
      );
      ctx.expect.status(g, PaymentStatus.REFUNDED, "payment after refunds totalling its amount");
      ctx.expect.money(g.refunded, 3_000n, "Payment.refunded");
      await balances(ctx, wallet, merchant, 10_000n, 0n, "after both refunds");
    },
  }),
  defineCase({
    id: "cancel-refund/refund-over-remaining",
    title: "A refund above the unrefunded remainder fails failed_precondition and moves nothing",
    requirements: ["REFUND-7"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.succeeded(p, "Scan");
      await merchant.client.refundPayment(refundRequest(ctx, p.paymentId, 2_000n));
      await ctx.expect.error(
        merchant.client.refundPayment(refundRequest(ctx, p.paymentId, 1_001n)),
        Code.FailedPrecondition,
        "RefundPayment of 1001 with 1000 left",
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after the refused refund");
    },
  }),
  defineCase({
    id: "cancel-refund/refund-not-succeeded",
    title: "Refunding a declined or a pending payment fails failed_precondition",
    requirements: ["REFUND-7"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 1_500n,
        limits: { perPaymentPasswordFree: 1_000n },
      });
      const declined = await merchant.scan(wallet.onlineCode(), 5_000n);
      ctx.expect.declined(declined, DeclineReason.INSUFFICIENT_FUNDS, "Scan above the balance");
      const pending = await merchant.scan(wallet.onlineCode(), 1_200n);
      ctx.expect.pending(pending, "Scan above the password-free limit");
      for (const [what, p] of [
        ["declined", declined],
        ["pending", pending],
      ] as const) {
        await ctx.expect.error(
          merchant.client.refundPayment(refundRequest(ctx, p.paymentId, 100n)),
          Code.FailedPrecondition,
          `RefundPayment of a ${what} payment`,
        );
      }
      await balances(ctx, wallet, merchant, 1_500n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "cancel-refund/refund-idempotent",
    title:
      "RefundPayment retried with the same out_refund_no and amount returns the same refund, refunding once",
    requirements: ["REFUND-8", "PAY-6"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.succeeded(p, "Scan");
      const req = refundRequest(ctx, p.paymentId, 500n);
      const a = await merchant.client.refundPayment(req);
      const b = await merchant.client.refundPayment(req);
      ctx.expect.equal(b.refund?.refundId, a.refund?.refundId, "refund_id of the retry");
      await balances(ctx, wallet, merchant, 7_500n, 2_500n, "after the retry");
    },
  }),
  defineCase({
    id: "cancel-refund/refund-conflict",
    title: "RefundPayment reusing out_refund_no with another amount fails already_exists",
    requirements: ["REFUND-9"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.succeeded(p, "Scan");
      const outRefundNo = ctx.fixtures.uniqueId("rf");
      await merchant.client.refundPayment({
        paymentId: p.paymentId,
        outRefundNo,
        amount: ctx.fixtures.money(500n),
        reason: "",
      });
      await ctx.expect.error(
        merchant.client.refundPayment({
          paymentId: p.paymentId,
          outRefundNo,
          amount: ctx.fixtures.money(600n),
          reason: "",
        }),
        Code.AlreadyExists,
        "RefundPayment with the same out_refund_no and another amount",
      );
      await balances(ctx, wallet, merchant, 7_500n, 2_500n, "after the conflict");
    },
  }),
  defineCase({
    id: "cancel-refund/cancel-after-partial-refund",
    title: "CancelPayment after a partial refund refunds exactly the remainder",
    requirements: ["REFUND-2", "PAY-6"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.succeeded(p, "Scan");
      await merchant.client.refundPayment(refundRequest(ctx, p.paymentId, 1_000n));
      const c = await merchant.client.cancelPayment(byId(p.paymentId));
      ctx.expect.equal(CancelAction[c.action], "REFUNDED", "CancelPayment.action");
      ctx.expect.money(ctx.expect.payment(c, "CancelPayment").refunded, 3_000n, "Payment.refunded");
      await balances(ctx, wallet, merchant, 10_000n, 0n, "after cancel");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "cancel-refund/refund-currency-mismatch",
    title: "A refund in another currency than the payment's fails invalid_argument",
    requirements: ["REFUND-11"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.succeeded(p, "Scan");
      const other = ctx.profile.currency === "USD" ? "EUR" : "USD";
      await ctx.expect.error(
        merchant.client.refundPayment({
          paymentId: p.paymentId,
          outRefundNo: ctx.fixtures.uniqueId("rf"),
          amount: ctx.fixtures.money(100n, other),
          reason: "",
        }),
        Code.InvalidArgument,
        `RefundPayment in ${other}`,
      );
      await balances(ctx, wallet, merchant, 7_000n, 3_000n, "nothing moved");
    },
  }),
];
