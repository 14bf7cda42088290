import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { CancelAction, DeclineReason, PaymentStatus } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { describePayment } from "../expect.js";
import type { AccountSpec } from "../fixtures/fixtures.js";
import { balances, byId, walletAndMerchant } from "./common.js";

/** The account most step-up cases start from: balance 10 000, per-payment password-free limit 1 000. */
const PASSWORD_FREE_UP_TO_1000: AccountSpec = {
  balance: 10_000n,
  limits: { perPaymentPasswordFree: 1_000n },
};

/** Step-up: above the password-free limits a payment waits for the payer's password. */
export const overLimitCases: Case[] = [
  defineCase({
    id: "over-limit/above-per-payment-pending",
    title:
      "A payment above per_payment_password_free is PENDING_CONFIRMATION with deadline created_at + timeout; no money moves",
    requirements: ["LIMIT-1", "PAY-2", "SCAN-7"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const p = await merchant.scan(wallet.onlineCode(), 1_001n);
      ctx.expect.pending(p, "Scan above the per-payment password-free limit");
      ctx.expect.that(
        p.createdAt && p.confirmDeadline,
        "pending payment lacks created_at or confirm_deadline",
      );
      const timeout = BigInt(wallet.profile.confirmationTimeoutSeconds);
      ctx.expect.equal(
        p.confirmDeadline.seconds - p.createdAt.seconds,
        timeout,
        "confirm_deadline − created_at (seconds)",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "while pending");
      const g = await wallet.client.getWallet({});
      ctx.expect.equal(
        g.pendingPayments.map((x) => x.paymentId).join(","),
        p.paymentId,
        "GetWallet.pending_payments",
      );
    },
  }),
  defineCase({
    id: "over-limit/equal-to-limit-password-free",
    title: "A payment exactly at per_payment_password_free succeeds without confirmation",
    requirements: ["LIMIT-1", "SCAN-11"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      ctx.expect.succeeded(await merchant.scan(wallet.onlineCode(), 1_000n), "Scan at the limit");
    },
  }),
  defineCase({
    id: "over-limit/confirm-succeeds",
    title: "ConfirmPayment with the right password completes a pending payment with one transfer",
    requirements: ["PAY-7", "PAY-6", "PAY-5"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const p = await merchant.scan(wallet.onlineCode(), 4_000n);
      ctx.expect.pending(p, "Scan");
      const c = await wallet.client.confirmPayment({
        paymentId: p.paymentId,
        password: wallet.password,
      });
      ctx.expect.succeeded(ctx.expect.payment(c, "ConfirmPayment"), "ConfirmPayment");
      const g = ctx.expect.payment(
        await merchant.client.getPayment(byId(p.paymentId)),
        "GetPayment",
      );
      ctx.expect.succeeded(g, "GetPayment after confirmation");
      await ctx.expect.error(
        wallet.client.confirmPayment({ paymentId: p.paymentId, password: wallet.password }),
        Code.FailedPrecondition,
        "a second ConfirmPayment",
      );
      await balances(ctx, wallet, merchant, 6_000n, 4_000n, "after confirmation");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "over-limit/confirm-wrong-password",
    title:
      "ConfirmPayment with a wrong password fails permission_denied; the payment stays pending, unpaid",
    requirements: ["PAY-8"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.pending(p, "Scan");
      await ctx.expect.error(
        wallet.client.confirmPayment({ paymentId: p.paymentId, password: `${wallet.password}!` }),
        Code.PermissionDenied,
        "ConfirmPayment with a wrong password",
      );
      const g = ctx.expect.payment(
        await merchant.client.getPayment(byId(p.paymentId)),
        "GetPayment",
      );
      ctx.expect.pending(g, "GetPayment after the wrong password");
      ctx.expect.equal(
        g.confirmDeadline?.seconds,
        p.confirmDeadline?.seconds,
        "confirm_deadline after the wrong password",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "after the wrong password");
    },
  }),
  defineCase({
    id: "over-limit/cancel-pending-closes",
    title:
      "CancelPayment of a pending payment closes it (CANCEL_ACTION_CLOSED); no money moves; confirm then fails",
    requirements: ["REFUND-1", "PAY-10", "PAY-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.pending(p, "Scan");
      const c = await merchant.client.cancelPayment(byId(p.paymentId));
      ctx.expect.equal(CancelAction[c.action], "CLOSED", "CancelPayment.action");
      ctx.expect.status(
        ctx.expect.payment(c, "CancelPayment"),
        PaymentStatus.CLOSED,
        "CancelPayment",
      );
      await ctx.expect.error(
        wallet.client.confirmPayment({ paymentId: p.paymentId, password: wallet.password }),
        Code.FailedPrecondition,
        "ConfirmPayment of a closed payment",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "after cancel and confirm");
    },
  }),
  defineCase({
    id: "over-limit/auto-close-on-timeout",
    title:
      "A pending payment past its deadline reads as CLOSED; confirming it fails failed_precondition; no money moves",
    requirements: ["PAY-3", "PAY-10", "CTRL-6"],
    features: ["controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.pending(p, "Scan");
      await ctx.clock.advance(wallet.profile.confirmationTimeoutSeconds + 1);
      const g = ctx.expect.payment(
        await merchant.client.getPayment(byId(p.paymentId)),
        "GetPayment",
      );
      ctx.expect.status(g, PaymentStatus.CLOSED, "GetPayment after the deadline");
      await ctx.expect.error(
        wallet.client.confirmPayment({ paymentId: p.paymentId, password: wallet.password }),
        Code.FailedPrecondition,
        "ConfirmPayment after the deadline",
      );
      const w = await wallet.client.getWallet({});
      ctx.expect.equal(
        w.pendingPayments.length,
        0,
        "GetWallet.pending_payments after the deadline",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "after the deadline");
    },
  }),
  defineCase({
    id: "over-limit/confirm-at-deadline-closed",
    title:
      "ConfirmPayment exactly at confirm_deadline fails failed_precondition and the payment is CLOSED",
    requirements: ["PAY-10", "PAY-3"],
    features: ["controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.pending(p, "Scan");
      const now = await ctx.clock.sync();
      const deadline = Math.ceil(timestampMs(p.confirmDeadline!) / 1000);
      await ctx.clock.advance(Math.max(1, deadline - now + 1));
      await ctx.expect.error(
        wallet.client.confirmPayment({ paymentId: p.paymentId, password: wallet.password }),
        Code.FailedPrecondition,
        "ConfirmPayment at the deadline",
      );
      const c = await merchant.client.cancelPayment(byId(p.paymentId));
      ctx.expect.equal(CancelAction[c.action], "NONE", "CancelPayment.action after the deadline");
      await balances(ctx, wallet, merchant, 10_000n, 0n, "after the deadline");
    },
  }),
  defineCase({
    id: "over-limit/daily-amount",
    title:
      "When today's password-free total plus the amount exceeds daily_password_free_amount the payment is pending",
    requirements: ["LIMIT-2", "LIMIT-4"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { perPaymentPasswordFree: 2_000n, dailyPasswordFreeAmount: 3_000n },
      });
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 2_000n),
        "first Scan (2000 of 3000)",
      );
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 1_000n),
        "second Scan (reaches 3000)",
      );
      ctx.expect.pending(await merchant.scan(wallet.onlineCode(), 1n), "third Scan (3001 > 3000)");
    },
  }),
  defineCase({
    id: "over-limit/daily-count",
    title: "The payment after daily_password_free_count password-free payments is pending",
    requirements: ["LIMIT-3", "LIMIT-4"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { dailyPasswordFreeCount: 2 },
      });
      ctx.expect.succeeded(await merchant.scan(wallet.onlineCode(), 100n), "first Scan");
      ctx.expect.succeeded(await merchant.scan(wallet.onlineCode(), 100n), "second Scan");
      ctx.expect.pending(await merchant.scan(wallet.onlineCode(), 100n), "third Scan");
    },
  }),
  defineCase({
    id: "over-limit/only-password-free-counts",
    title: "Confirmed, declined and closed payments do not use up the daily password-free count",
    requirements: ["LIMIT-4"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { perPaymentPasswordFree: 1_000n, dailyPasswordFreeCount: 1 },
      });
      const big = await merchant.scan(wallet.onlineCode(), 2_000n);
      ctx.expect.pending(big, "Scan above the limit");
      ctx.expect.succeeded(
        ctx.expect.payment(
          await wallet.client.confirmPayment({
            paymentId: big.paymentId,
            password: wallet.password,
          }),
          "ConfirmPayment",
        ),
        "ConfirmPayment",
      );
      ctx.expect.declined(
        await merchant.scan(wallet.onlineCode(), 100_000n),
        DeclineReason.INSUFFICIENT_FUNDS,
        "Scan above the balance",
      );
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 100n),
        "first password-free Scan",
      );
      ctx.expect.pending(
        await merchant.scan(wallet.onlineCode(), 100n),
        "second password-free Scan (count 1 used)",
      );
    },
  }),
  defineCase({
    id: "over-limit/insufficient-funds",
    title: "A payment above the balance is declined INSUFFICIENT_FUNDS; no money moves",
    requirements: ["SCAN-10", "SEC-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 999n });
      const p = await merchant.scan(wallet.onlineCode(), 1_000n);
      ctx.expect.declined(p, DeclineReason.INSUFFICIENT_FUNDS, "Scan above the balance");
      await balances(ctx, wallet, merchant, 999n, 0n, "after the decline");
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 999n),
        "Scan of exactly the balance",
      );
      await balances(ctx, wallet, merchant, 0n, 999n, "after paying the whole balance");
    },
  }),
  defineCase({
    id: "over-limit/insufficient-funds-before-step-up",
    title:
      "A payment above both the password-free limit and the balance is declined at once, not made pending",
    requirements: ["SCAN-10", "SCAN-7"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 1_500n,
        limits: { perPaymentPasswordFree: 1_000n },
      });
      const p = await merchant.scan(wallet.onlineCode(), 2_000n);
      ctx.expect.declined(p, DeclineReason.INSUFFICIENT_FUNDS, "Scan above limit and balance");
    },
  }),
  defineCase({
    id: "over-limit/confirm-after-balance-dropped",
    title:
      "Confirming a pending payment the balance no longer covers declines it INSUFFICIENT_FUNDS",
    requirements: ["PAY-7"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 2_000n,
        limits: { perPaymentPasswordFree: 1_000n },
      });
      const p = await merchant.scan(wallet.onlineCode(), 1_500n);
      ctx.expect.pending(p, "Scan of 1500 (pending)");
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 1_000n),
        "Scan of 1000 (password-free)",
      );
      const c = await wallet.client.confirmPayment({
        paymentId: p.paymentId,
        password: wallet.password,
      });
      ctx.expect.declined(
        ctx.expect.payment(c, "ConfirmPayment"),
        DeclineReason.INSUFFICIENT_FUNDS,
        "ConfirmPayment",
      );
      await balances(ctx, wallet, merchant, 1_000n, 1_000n, "after the declined confirmation");
    },
  }),
  defineCase({
    id: "over-limit/confirm-other-wallet",
    title: "ConfirmPayment by a wallet that did not start the payment fails not_found",
    requirements: ["PAY-9", "AUTH-2"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const stranger = await ctx.fixtures.wallet({ password: wallet.password });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.pending(p, "Scan");
      await ctx.expect.error(
        stranger.client.confirmPayment({ paymentId: p.paymentId, password: wallet.password }),
        Code.NotFound,
        "ConfirmPayment by another wallet",
      );
      await ctx.expect.error(
        wallet.client.confirmPayment({ paymentId: `${p.paymentId}x`, password: wallet.password }),
        Code.NotFound,
        "ConfirmPayment of an unknown payment",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "over-limit/confirm-by-revoked-wallet",
    title: "ConfirmPayment with a revoked wallet's token fails permission_denied",
    requirements: ["PAY-11"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.pending(p, "Scan");
      await wallet.client.revokeSeed({ reason: "conformance" });
      await ctx.expect.error(
        wallet.client.confirmPayment({ paymentId: p.paymentId, password: wallet.password }),
        Code.PermissionDenied,
        "ConfirmPayment by a revoked wallet",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "over-limit/daily-reset-at-utc-midnight",
    title: "Password-free allowances start afresh at 00:00 UTC of the issuer clock",
    requirements: ["LIMIT-5", "LIMIT-3", "CTRL-6"],
    features: ["controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { dailyPasswordFreeCount: 1 },
      });
      ctx.expect.succeeded(await merchant.scan(wallet.onlineCode(), 100n), "first Scan of the day");
      const second = await merchant.scan(wallet.onlineCode(), 100n);
      ctx.expect.pending(second, "second Scan of the day (count 1 used)");
      await merchant.client.cancelPayment(byId(second.paymentId));
      const now = await ctx.clock.sync();
      await ctx.clock.advance(86_400 - (now % 86_400) + 5);
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 100n),
        "first Scan after midnight UTC",
      );
      await balances(ctx, wallet, merchant, 9_800n, 200n, "after the new day's payment");
    },
  }),
  defineCase({
    id: "over-limit/confirm-concurrent",
    title:
      "Three concurrent ConfirmPayment calls of one pending payment: one succeeds, the others fail failed_precondition; one debit",
    requirements: ["PAY-6", "SEC-2"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const p = await merchant.scan(wallet.onlineCode(), 4_000n);
      ctx.expect.pending(p, "Scan");
      const rs = await Promise.allSettled(
        [1, 2, 3].map(() =>
          wallet.client.confirmPayment({ paymentId: p.paymentId, password: wallet.password }),
        ),
      );
      const paid = rs.flatMap((r) =>
        r.status === "fulfilled" && r.value.payment ? [r.value.payment] : [],
      );
      ctx.expect.that(
        paid.length === 1,
        `concurrent ConfirmPayments: expected one to succeed and two to fail, ${paid.length} succeeded (${paid.map(describePayment).join(", ")})`,
      );
      ctx.expect.succeeded(paid[0]!, "the winning ConfirmPayment");
      for (const r of rs) {
        if (r.status === "rejected") {
          await ctx.expect.error(
            Promise.reject(r.reason),
            Code.FailedPrecondition,
            "a losing concurrent ConfirmPayment",
          );
        }
      }
      await balances(ctx, wallet, merchant, 6_000n, 4_000n, "after the concurrent confirmations");
      await ctx.expect.ledgerBalanced();
    },
  }),
];
