import { DeclineReason, PaymentStatus } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { describePayment } from "../expect.js";
import { balances, walletAndMerchant } from "./common.js";

/** A code burns on first presentation, whatever happens next, at every merchant. */
export const reusedCodeCases: Case[] = [
  defineCase({
    id: "reused-code/second-scan-declined",
    title:
      "The same code scanned again under a new order is declined CODE_REUSED; money moves once",
    requirements: ["SCAN-5", "SCAN-4", "SEC-2"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      ctx.expect.succeeded(await merchant.scan(code, 1_000n), "first Scan");
      const again = await merchant.scan(code, 1_000n);
      ctx.expect.declined(again, DeclineReason.CODE_REUSED, "second Scan of the same code");
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after both scans");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "reused-code/across-merchants",
    title: "A code paid at one merchant is declined CODE_REUSED at another",
    requirements: ["SCAN-5"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const other = await ctx.fixtures.merchant();
      const code = wallet.onlineCode();
      ctx.expect.succeeded(await merchant.scan(code, 1_000n), "Scan at merchant A");
      ctx.expect.declined(
        await other.scan(code, 1_000n),
        DeclineReason.CODE_REUSED,
        "Scan at merchant B",
      );
      await ctx.expect.balance({ merchantId: other.merchantId }, 0n, "merchant B");
    },
  }),
  defineCase({
    id: "reused-code/after-insufficient-funds",
    title: "A code declined for insufficient funds is burned: presenting it again is CODE_REUSED",
    requirements: ["SCAN-4", "SCAN-5", "SCAN-10"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 300n });
      const code = wallet.onlineCode();
      ctx.expect.declined(
        await merchant.scan(code, 500n),
        DeclineReason.INSUFFICIENT_FUNDS,
        "first Scan above the balance",
      );
      ctx.expect.declined(
        await merchant.scan(code, 100n),
        DeclineReason.CODE_REUSED,
        "second Scan of the declined code for an affordable amount",
      );
      await balances(ctx, wallet, merchant, 300n, 0n, "after both scans");
    },
  }),
  defineCase({
    id: "reused-code/after-revoked-decline",
    title:
      "A revoked wallet's code is burned when declined WALLET_REVOKED: presented again it is CODE_REUSED",
    requirements: ["SCAN-4", "SCAN-7", "WALLET-6"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const code = wallet.onlineCode();
      await wallet.client.revokeSeed({ reason: "conformance" });
      ctx.expect.declined(
        await merchant.scan(code, 100n),
        DeclineReason.WALLET_REVOKED,
        "first Scan",
      );
      ctx.expect.declined(
        await merchant.scan(code, 100n),
        DeclineReason.CODE_REUSED,
        "second Scan",
      );
    },
  }),
  defineCase({
    id: "reused-code/while-pending",
    title:
      "A code whose payment waits for confirmation cannot start a second payment (CODE_REUSED)",
    requirements: ["SCAN-4", "SCAN-5"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { perPaymentPasswordFree: 1_000n },
      });
      const code = wallet.onlineCode();
      ctx.expect.pending(await merchant.scan(code, 2_000n), "Scan above the password-free limit");
      ctx.expect.declined(
        await merchant.scan(code, 500n),
        DeclineReason.CODE_REUSED,
        "second Scan",
      );
    },
  }),
  defineCase({
    id: "reused-code/after-cancel",
    title: "A code whose pending payment was cancelled stays spent (CODE_REUSED)",
    requirements: ["SCAN-4", "SCAN-5", "REFUND-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { perPaymentPasswordFree: 1_000n },
      });
      const code = wallet.onlineCode();
      const p = await merchant.scan(code, 2_000n);
      ctx.expect.pending(p, "Scan above the password-free limit");
      await merchant.client.cancelPayment({ lookup: { case: "paymentId", value: p.paymentId } });
      ctx.expect.declined(
        await merchant.scan(code, 500n),
        DeclineReason.CODE_REUSED,
        "Scan after cancel",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "no money moved");
    },
  }),
  defineCase({
    id: "reused-code/concurrent-two-merchants",
    title:
      "Two merchants scanning one code at the same time: exactly one succeeds, one is CODE_REUSED, one debit",
    requirements: ["SCAN-6", "SEC-2"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const other = await ctx.fixtures.merchant();
      const code = wallet.onlineCode();
      const ps = await Promise.all([merchant.scan(code, 1_000n), other.scan(code, 1_000n)]);
      const ok = ps.filter((p) => p.status === PaymentStatus.SUCCEEDED).length;
      const reused = ps.filter(
        (p) => p.status === PaymentStatus.DECLINED && p.declineReason === DeclineReason.CODE_REUSED,
      ).length;
      ctx.expect.that(
        ok === 1 && reused === 1,
        `concurrent Scans: expected one SUCCEEDED and one DECLINED (CODE_REUSED), got ${ps.map(describePayment).join(" and ")}`,
      );
      await ctx.expect.balance({ accountId: wallet.accountId }, 9_000n, "payer after the race");
      const a = await ctx.expect.readBalance({ merchantId: merchant.merchantId });
      const b = await ctx.expect.readBalance({ merchantId: other.merchantId });
      ctx.expect.equal(a + b, 1_000n, "sum of both merchants' balances");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "reused-code/concurrent-burst",
    title: "Six concurrent Scans of one code by six merchants: exactly one succeeds",
    requirements: ["SCAN-6", "SEC-2"],
    async run(ctx: CaseContext) {
      const wallet = await ctx.fixtures.wallet({ balance: 10_000n });
      const merchants = await Promise.all(Array.from({ length: 6 }, () => ctx.fixtures.merchant()));
      const code = wallet.onlineCode();
      const ps = await Promise.all(merchants.map((m) => m.scan(code, 700n)));
      const ok = ps.filter((p) => p.status === PaymentStatus.SUCCEEDED).length;
      ctx.expect.that(
        ok === 1,
        `expected exactly one SUCCEEDED, got ${ps.map(describePayment).join(", ")}`,
      );
      for (const p of ps.filter((x) => x.status !== PaymentStatus.SUCCEEDED)) {
        ctx.expect.declined(p, DeclineReason.CODE_REUSED, "a losing concurrent Scan");
      }
      await ctx.expect.balance({ accountId: wallet.accountId }, 9_300n, "payer after the burst");
    },
  }),
  defineCase({
    id: "reused-code/offline-code-twice",
    title: "An offline code paid at a till is declined CODE_REUSED when presented again",
    requirements: ["SCAN-5"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.offlineCode();
      ctx.expect.succeeded(await merchant.scan(code, 1_000n), "first Scan");
      ctx.expect.declined(
        await merchant.scan(code, 1_000n),
        DeclineReason.CODE_REUSED,
        "second Scan",
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after both scans");
    },
  }),
];
