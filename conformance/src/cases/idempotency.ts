import { Code } from "@connectrpc/connect";
import { DeclineReason, PaymentStatus } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { balances, walletAndMerchant } from "./common.js";

/** Retries with the same idempotency key never move money twice. */
export const idempotencyCases: Case[] = [
  defineCase({
    id: "idempotency/scan-retry-same-payment",
    title:
      "Scan retried with the same out_trade_no, amount and code returns the same payment and debits once",
    requirements: ["SCAN-2", "PAY-6"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      const outTradeNo = ctx.fixtures.orderNo();
      const a = await merchant.scan(code, 2_500n, { outTradeNo });
      ctx.expect.succeeded(a, "first Scan");
      const b = await merchant.scan(code, 2_500n, { outTradeNo, subject: "a different subject" });
      ctx.expect.succeeded(b, "retried Scan");
      ctx.expect.equal(b.paymentId, a.paymentId, "payment_id of the retry");
      await balances(ctx, wallet, merchant, 7_500n, 2_500n, "after the retry");
    },
  }),
  defineCase({
    id: "idempotency/scan-retry-concurrent",
    title: "Concurrent retries of one Scan return one payment and debit once",
    requirements: ["SCAN-2", "PAY-6", "SEC-2"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      const outTradeNo = ctx.fixtures.orderNo();
      const ps = await Promise.all(
        [1, 2, 3].map(() => merchant.scan(code, 1_000n, { outTradeNo })),
      );
      const ids = new Set(ps.map((p) => p.paymentId));
      ctx.expect.equal(ids.size, 1, "distinct payment ids among concurrent retries");
      for (const p of ps) ctx.expect.succeeded(p, "a concurrent retry");
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after the retries");
    },
  }),
  defineCase({
    id: "idempotency/scan-retry-declined",
    title: "Retrying a declined Scan returns the stored decline, not CODE_REUSED",
    requirements: ["SCAN-2", "SCAN-12"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 100n });
      const code = wallet.onlineCode();
      const outTradeNo = ctx.fixtures.orderNo();
      const a = await merchant.scan(code, 500n, { outTradeNo });
      ctx.expect.declined(a, DeclineReason.INSUFFICIENT_FUNDS, "first Scan");
      const b = await merchant.scan(code, 500n, { outTradeNo });
      ctx.expect.declined(b, DeclineReason.INSUFFICIENT_FUNDS, "retried Scan");
      ctx.expect.equal(b.paymentId, a.paymentId, "payment_id of the retry");
    },
  }),
  defineCase({
    id: "idempotency/scan-retry-pending-current-state",
    title:
      "Retrying a Scan whose payment was confirmed meanwhile returns it SUCCEEDED, debiting once",
    requirements: ["SCAN-2", "PAY-6"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { perPaymentPasswordFree: 1_000n },
      });
      const code = wallet.onlineCode();
      const outTradeNo = ctx.fixtures.orderNo();
      const a = await merchant.scan(code, 2_000n, { outTradeNo });
      ctx.expect.pending(a, "first Scan");
      await wallet.client.confirmPayment({ paymentId: a.paymentId, password: wallet.password });
      const b = await merchant.scan(code, 2_000n, { outTradeNo });
      ctx.expect.equal(b.paymentId, a.paymentId, "payment_id of the retry");
      ctx.expect.succeeded(b, "retried Scan after confirmation");
      await balances(ctx, wallet, merchant, 8_000n, 2_000n, "after the retry");
    },
  }),
  defineCase({
    id: "idempotency/scan-different-amount",
    title: "Scan reusing an out_trade_no with a different amount fails already_exists",
    requirements: ["SCAN-3"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      const outTradeNo = ctx.fixtures.orderNo();
      ctx.expect.succeeded(await merchant.scan(code, 1_000n, { outTradeNo }), "first Scan");
      await ctx.expect.error(
        merchant.scan(code, 1_001n, { outTradeNo }),
        Code.AlreadyExists,
        "Scan with the same out_trade_no and another amount",
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after the conflict");
    },
  }),
  defineCase({
    id: "idempotency/scan-different-code",
    title:
      "Scan reusing an out_trade_no with a different code fails already_exists and does not burn the new code",
    requirements: ["SCAN-3", "SCAN-2"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const outTradeNo = ctx.fixtures.orderNo();
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 1_000n, { outTradeNo }),
        "first Scan",
      );
      const second = wallet.onlineCode();
      await ctx.expect.error(
        merchant.scan(second, 1_000n, { outTradeNo }),
        Code.AlreadyExists,
        "Scan with the same out_trade_no and another code",
      );
      ctx.expect.succeeded(
        await merchant.scan(second, 1_000n),
        "the second code under a new order",
      );
      await balances(ctx, wallet, merchant, 8_000n, 2_000n, "after both payments");
    },
  }),
  defineCase({
    id: "idempotency/out-trade-no-per-merchant",
    title: "Two merchants using the same out_trade_no get two independent payments",
    requirements: ["AUTH-3"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const other = await ctx.fixtures.merchant();
      const outTradeNo = ctx.fixtures.orderNo();
      const a = await merchant.scan(wallet.onlineCode(), 1_000n, { outTradeNo });
      const b = await other.scan(wallet.onlineCode(), 2_000n, { outTradeNo });
      ctx.expect.succeeded(a, "Scan at merchant A");
      ctx.expect.succeeded(b, "Scan at merchant B with the same out_trade_no");
      ctx.expect.that(a.paymentId !== b.paymentId, "both merchants got the same payment_id");
      await ctx.expect.balance({ accountId: wallet.accountId }, 7_000n, "payer");
      await ctx.expect.balance({ merchantId: other.merchantId }, 2_000n, "merchant B");
    },
  }),
  defineCase({
    id: "idempotency/get-payment-by-out-trade-no",
    title:
      "GetPayment by out_trade_no and by payment_id return the stored payment, declines included",
    requirements: ["SCAN-12", "RPC-7", "SCAN-14", "RPC-6"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 500n });
      const ok = await merchant.scan(wallet.onlineCode(), 200n);
      const bad = await merchant.scan(wallet.onlineCode(), 5_000n);
      ctx.expect.succeeded(ok, "Scan within the balance");
      ctx.expect.declined(bad, DeclineReason.INSUFFICIENT_FUNDS, "Scan above the balance");
      for (const p of [ok, bad]) {
        for (const lookup of [
          { case: "paymentId" as const, value: p.paymentId },
          { case: "outTradeNo" as const, value: p.outTradeNo },
        ]) {
          const g = ctx.expect.payment(await merchant.client.getPayment({ lookup }), "GetPayment");
          const what = `GetPayment by ${lookup.case}`;
          ctx.expect.equal(g.paymentId, p.paymentId, `${what}: payment_id`);
          ctx.expect.equal(g.status, p.status, `${what}: status`);
          ctx.expect.equal(g.declineReason, p.declineReason, `${what}: decline_reason`);
          ctx.expect.money(g.refunded, 0n, `${what}: refunded`);
          ctx.expect.money(g.amount, p.amount?.amountMinor ?? -1n, `${what}: amount`);
          ctx.expect.that(g.createdAt && g.updatedAt, `${what}: created_at or updated_at not set`);
        }
      }
      ctx.expect.equal(ok.status, PaymentStatus.SUCCEEDED, "status");
    },
  }),
];
