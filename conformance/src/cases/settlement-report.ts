import { Code } from "@connectrpc/connect";
import type { GetSettlementReportResponse } from "@paycode/protocol/v1";
import { RecordOutcome } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import type { Merchant } from "../fixtures/fixtures.js";
import { refundRequest, utcDay, walletAndMerchant } from "./common.js";

interface Totals {
  paymentCount: bigint;
  paymentTotal: bigint;
  refundCount: bigint;
  refundTotal: bigint;
  offlineCount: bigint;
  offlineTotal: bigint;
  issuerLiableCount: bigint;
  issuerLiableTotal: bigint;
}

async function report(
  ctx: CaseContext,
  m: Merchant,
  date: string,
): Promise<GetSettlementReportResponse> {
  return m.settlement.getSettlementReport({ date, currency: ctx.profile.currency });
}

function expectTotals(
  ctx: CaseContext,
  r: GetSettlementReportResponse,
  t: Totals,
  date: string,
): void {
  const what = `GetSettlementReport(${date})`;
  ctx.expect.equal(r.date, date, `${what}.date`);
  ctx.expect.equal(r.paymentCount, t.paymentCount, `${what}.payment_count`);
  ctx.expect.money(r.paymentTotal, t.paymentTotal, `${what}.payment_total`);
  ctx.expect.equal(r.refundCount, t.refundCount, `${what}.refund_count`);
  ctx.expect.money(r.refundTotal, t.refundTotal, `${what}.refund_total`);
  ctx.expect.equal(r.offlineCount, t.offlineCount, `${what}.offline_count`);
  ctx.expect.money(r.offlineTotal, t.offlineTotal, `${what}.offline_total`);
  ctx.expect.equal(r.issuerLiableCount, t.issuerLiableCount, `${what}.issuer_liable_count`);
  ctx.expect.money(r.issuerLiableTotal, t.issuerLiableTotal, `${what}.issuer_liable_total`);
  ctx.expect.money(
    r.netTotal,
    t.paymentTotal + t.offlineTotal - t.refundTotal,
    `${what}.net_total`,
  );
}

const ZERO: Totals = {
  paymentCount: 0n,
  paymentTotal: 0n,
  refundCount: 0n,
  refundTotal: 0n,
  offlineCount: 0n,
  offlineTotal: 0n,
  issuerLiableCount: 0n,
  issuerLiableTotal: 0n,
};

/** The per-merchant, per-UTC-day settlement report adds up exactly. */
export const settlementReportCases: Case[] = [
  defineCase({
    id: "settlement-report/counts-online-payments",
    title:
      "The report counts today's succeeded payments of the merchant, not declined or pending ones",
    requirements: ["SETTLE-7"],
    features: ["settlement-report"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 5_000n,
        limits: { perPaymentPasswordFree: 2_500n },
      });
      await merchant.scan(wallet.onlineCode(), 1_000n);
      await merchant.scan(wallet.onlineCode(), 2_000n);
      await merchant.scan(wallet.onlineCode(), 9_000n); // declined: funds
      await merchant.scan(wallet.onlineCode(), 2_000n + 600n); // pending: above limit, not counted
      const day = await utcDay(ctx);
      expectTotals(
        ctx,
        await report(ctx, merchant, day),
        { ...ZERO, paymentCount: 2n, paymentTotal: 3_000n },
        day,
      );
      const before = await utcDay(ctx, -1);
      expectTotals(ctx, await report(ctx, merchant, before), ZERO, before);
    },
  }),
  defineCase({
    id: "settlement-report/counts-refunds",
    title: "The report counts refunds, CancelPayment refunds included, and nets them out",
    requirements: ["SETTLE-7", "REFUND-2"],
    features: ["settlement-report", "refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const a = await merchant.scan(wallet.onlineCode(), 3_000n);
      const b = await merchant.scan(wallet.onlineCode(), 1_000n);
      await merchant.client.refundPayment(refundRequest(ctx, a.paymentId, 500n));
      await merchant.client.cancelPayment({ lookup: { case: "paymentId", value: b.paymentId } });
      const day = await utcDay(ctx);
      expectTotals(
        ctx,
        await report(ctx, merchant, day),
        { ...ZERO, paymentCount: 2n, paymentTotal: 4_000n, refundCount: 2n, refundTotal: 1_500n },
        day,
      );
    },
  }),
  defineCase({
    id: "settlement-report/counts-offline",
    title: "The report counts offline records settled today, not rejected or duplicate ones",
    requirements: ["SETTLE-7", "AUTH-4"],
    features: ["settlement-report", "offline-settlement"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const terminal = await ctx.fixtures.terminal(merchant);
      await terminal.sync();
      const c = wallet.offlineCode();
      const r = await terminal.upload([
        terminal.record(c, 1_000n),
        terminal.record(c, 1_000n),
        terminal.record(wallet.offlineCode(), 700n),
      ]);
      ctx.expect.outcome(r.results[1], RecordOutcome.DUPLICATE, "the duplicate record");
      const day = await utcDay(ctx);
      expectTotals(
        ctx,
        await report(ctx, merchant, day),
        { ...ZERO, offlineCount: 2n, offlineTotal: 1_700n },
        day,
      );
    },
  }),
  defineCase({
    id: "settlement-report/counts-issuer-liable",
    title:
      "The report counts a duplicate the issuer paid among the settled records and flags it with the issuer-liable count and total",
    requirements: ["SETTLE-23", "SETTLE-7", "SETTLE-20"],
    features: ["settlement-report", "offline-settlement"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const [t1, t2] = [
        await ctx.fixtures.terminal(merchant),
        await ctx.fixtures.terminal(merchant),
      ];
      await t1.sync();
      await t2.sync();
      const c = wallet.offlineCode();
      await t1.upload([t1.record(c, 1_000n), t1.record(wallet.offlineCode(), 700n)]);
      const r = await t2.upload([t2.record(c, 900n)]);
      ctx.expect.outcome(r.results[0], RecordOutcome.SETTLED, "the other terminal's duplicate");
      ctx.expect.equal(r.results[0]!.issuerLiable, true, "the duplicate's issuer_liable");
      const day = await utcDay(ctx);
      expectTotals(
        ctx,
        await report(ctx, merchant, day),
        {
          ...ZERO,
          offlineCount: 3n,
          offlineTotal: 2_600n,
          issuerLiableCount: 1n,
          issuerLiableTotal: 900n,
        },
        day,
      );
    },
  }),
  defineCase({
    id: "settlement-report/empty-day",
    title: "A day without activity reports zeros in the requested currency",
    requirements: ["SETTLE-7"],
    features: ["settlement-report"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      await merchant.scan(wallet.onlineCode(), 1_000n);
      const day = await utcDay(ctx, -1);
      expectTotals(ctx, await report(ctx, merchant, day), ZERO, day);
    },
  }),
  defineCase({
    id: "settlement-report/own-merchant-only",
    title: "A merchant's report leaves out other merchants' payments",
    requirements: ["SETTLE-7", "AUTH-2"],
    features: ["settlement-report"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const other = await ctx.fixtures.merchant();
      await other.scan(wallet.onlineCode(), 4_000n);
      await merchant.scan(wallet.onlineCode(), 1_000n);
      const day = await utcDay(ctx);
      expectTotals(
        ctx,
        await report(ctx, merchant, day),
        { ...ZERO, paymentCount: 1n, paymentTotal: 1_000n },
        day,
      );
    },
  }),
  defineCase({
    id: "settlement-report/invalid-request",
    title: "GetSettlementReport fails invalid_argument for an impossible date or a bad currency",
    requirements: ["SETTLE-8", "RPC-5"],
    features: ["settlement-report"],
    async run(ctx: CaseContext) {
      const merchant = await ctx.fixtures.merchant();
      const today = await utcDay(ctx);
      for (const [date, currency] of [
        ["2025-02-30", ctx.profile.currency],
        ["2025-13-01", ctx.profile.currency],
        ["20250101", ctx.profile.currency],
        ["", ctx.profile.currency],
        [today, "cny"],
        [today, "CN"],
      ] as const) {
        await ctx.expect.error(
          merchant.settlement.getSettlementReport({ date, currency }),
          Code.InvalidArgument,
          `GetSettlementReport(${JSON.stringify(date)}, ${JSON.stringify(currency)})`,
        );
      }
    },
  }),
];
