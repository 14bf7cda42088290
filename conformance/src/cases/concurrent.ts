import { Code, ConnectError } from "@connectrpc/connect";
import {
  CancelAction,
  DeclineReason,
  type Payment,
  PaymentStatus,
  RecordOutcome,
} from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { codeName, describePayment } from "../expect.js";
import { RpcFailure } from "../rpc.js";
import { sleep } from "../target-clock.js";
import { balances, byId, OFFLINE, refundRequest, walletAndMerchant } from "./common.js";

/**
 * Conflicting requests fired at once at one payment, wallet or batch. A
 * conforming issuer serialises them ([SEC-2]): the responses and the final
 * state must be those of some serial order of the same requests, and the
 * invariants hold (refunded ≤ amount, balances moved once, ledger sums to
 * zero, limits not exceeded). Each case repeats its race a few times so an
 * interleaving that breaks atomicity gets its chance; no verdict depends
 * on timing, only the chance of meeting a broken interleaving does.
 */

type Settled<T> = { ok: T } | { code: Code; message: string };

/** The outcome of a call: its value, or the Connect code it failed with. */
async function settle<T>(call: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: await call };
  } catch (e) {
    const err = e instanceof RpcFailure ? e.error : ConnectError.from(e);
    return { code: err.code, message: err.rawMessage };
  }
}

function show<T>(s: Settled<T>, f: (v: T) => string): string {
  return "ok" in s ? f(s.ok) : `error ${codeName(s.code)}`;
}

const ROUNDS = 3;

export const concurrentCases: Case[] = [
  defineCase({
    id: "concurrent/refunds-exceed-amount",
    title:
      "Four concurrent refunds of 400 on a payment of 1000: exactly two succeed, refunded never exceeds the amount",
    requirements: ["REFUND-7", "SEC-2", "PAY-6", "PAY-5", "RPC-7"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      for (let round = 1; round <= ROUNDS; round++) {
        const p = await merchant.scan(wallet.onlineCode(), 1_000n);
        ctx.expect.succeeded(p, `round ${round}: Scan`);
        const results = await Promise.all(
          [0, 1, 2, 3].map(() =>
            settle(merchant.client.refundPayment(refundRequest(ctx, p.paymentId, 400n))),
          ),
        );
        const what = `round ${round}: four concurrent RefundPayment(400) of 1000 gave ${results
          .map((r) => show(r, (v) => `refunded ${v.payment?.refunded?.amountMinor}`))
          .join(", ")}`;
        // Every serial order of the four: 400, 400 succeed (refunded 400 then
        // 800); the other two find 200 left and fail failed_precondition.
        const ok = results.filter((r) => "ok" in r);
        const refused = results.filter((r) => !("ok" in r));
        ctx.expect.that(ok.length === 2, `${what}; exactly two must succeed`);
        ctx.expect.that(
          refused.every((r) => !("ok" in r) && r.code === Code.FailedPrecondition),
          `${what}; the others must fail failed_precondition`,
        );
        const seen = ok
          .map((r) => ("ok" in r ? r.ok.payment?.refunded?.amountMinor : undefined))
          .sort();
        ctx.expect.equal(seen.join(","), "400,800", `${what}: Payment.refunded of the two`);
        const g = ctx.expect.payment(
          await merchant.client.getPayment(byId(p.paymentId)),
          "GetPayment",
        );
        ctx.expect.succeeded(g, `round ${round}: payment after the race`);
        ctx.expect.money(g.refunded, 800n, `round ${round}: Payment.refunded after the race`);
        await balances(
          ctx,
          wallet,
          merchant,
          10_000n - 200n * BigInt(round),
          200n * BigInt(round),
          `round ${round}: after the race`,
        );
      }
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "concurrent/cancel-races-confirm",
    title:
      "CancelPayment racing ConfirmPayment on a pending payment ends as one of the two serial orders: confirmed then refunded, or closed and the confirmation refused",
    requirements: ["PAY-1", "PAY-6", "PAY-10", "REFUND-1", "REFUND-2", "SEC-2"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { perPaymentPasswordFree: 1_000n },
      });
      // The confirmation does more work before it decides (the password
      // hash), so the cancel is sent after a growing head start: the rounds
      // then meet the cancel before, during and after that work. Any of them
      // must end in a serial order; the head start only varies which.
      for (const [i, headStartMs] of [0, 2, 5, 15, 30].entries()) {
        const round = i + 1;
        const p = await merchant.scan(wallet.onlineCode(), 2_000n);
        ctx.expect.pending(p, `round ${round}: Scan above the password-free limit`);
        const confirming = settle(
          wallet.client.confirmPayment({ paymentId: p.paymentId, password: wallet.password }),
        );
        await sleep(headStartMs, ctx.signal);
        const [conf, canc] = await Promise.all([
          confirming,
          settle(merchant.client.cancelPayment(byId(p.paymentId))),
        ]);
        const g = ctx.expect.payment(
          await merchant.client.getPayment(byId(p.paymentId)),
          "GetPayment",
        );
        const what = `round ${round}: ConfirmPayment gave ${show(conf, (v) =>
          v.payment ? describePayment(v.payment) : "no payment",
        )}, CancelPayment gave ${show(canc, (v) => `${CancelAction[v.action]}`)}, final ${describePayment(g)}`;
        const confirmedFirst =
          "ok" in conf &&
          conf.ok.payment?.status === PaymentStatus.SUCCEEDED &&
          "ok" in canc &&
          canc.ok.action === CancelAction.REFUNDED &&
          canc.ok.payment?.status === PaymentStatus.REFUNDED &&
          g.status === PaymentStatus.REFUNDED &&
          g.refunded?.amountMinor === 2_000n;
        const cancelledFirst =
          !("ok" in conf) &&
          conf.code === Code.FailedPrecondition &&
          "ok" in canc &&
          canc.ok.action === CancelAction.CLOSED &&
          canc.ok.payment?.status === PaymentStatus.CLOSED &&
          g.status === PaymentStatus.CLOSED &&
          g.refunded?.amountMinor === 0n;
        ctx.expect.that(
          confirmedFirst || cancelledFirst,
          `${what}: no serial order of the two calls gives this`,
        );
        // Either way the payer ends where it started and the merchant at zero.
        await balances(ctx, wallet, merchant, 10_000n, 0n, `${what}; balances`);
      }
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "concurrent/cancel-races-refund",
    title:
      "CancelPayment racing a partial RefundPayment refunds the payment exactly once in total, in one of the two serial orders",
    requirements: ["REFUND-2", "REFUND-5", "REFUND-7", "PAY-6", "SEC-2"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      for (let round = 1; round <= ROUNDS; round++) {
        const p = await merchant.scan(wallet.onlineCode(), 3_000n);
        ctx.expect.succeeded(p, `round ${round}: Scan`);
        const [ref, canc] = await Promise.all([
          settle(merchant.client.refundPayment(refundRequest(ctx, p.paymentId, 1_000n))),
          settle(merchant.client.cancelPayment(byId(p.paymentId))),
        ]);
        const what = `round ${round}: RefundPayment(1000) gave ${show(ref, (v) =>
          v.payment
            ? `${describePayment(v.payment)} refunded ${v.payment.refunded?.amountMinor}`
            : "no payment",
        )}, CancelPayment gave ${show(canc, (v) => `${CancelAction[v.action]} refunded ${v.payment?.refunded?.amountMinor}`)}`;
        const refundedAfter = (x: Payment | undefined) => x?.refunded?.amountMinor;
        const refundFirst =
          "ok" in ref &&
          ref.ok.payment?.status === PaymentStatus.SUCCEEDED &&
          refundedAfter(ref.ok.payment) === 1_000n;
        const cancelFirst = !("ok" in ref) && ref.code === Code.FailedPrecondition;
        ctx.expect.that(
          refundFirst || cancelFirst,
          `${what}: no serial order gives this refund result`,
        );
        ctx.expect.that(
          "ok" in canc &&
            canc.ok.action === CancelAction.REFUNDED &&
            canc.ok.payment?.status === PaymentStatus.REFUNDED &&
            refundedAfter(canc.ok.payment) === 3_000n,
          `${what}: in both orders the cancel refunds the rest and reports REFUNDED with refunded 3000`,
        );
        await balances(ctx, wallet, merchant, 10_000n, 0n, `${what}; balances`);
      }
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "concurrent/scans-share-limits",
    title:
      "Concurrent scans of one wallet's codes never go beyond the balance or the password-free count: the outcomes are those of a serial order",
    requirements: ["SCAN-10", "LIMIT-3", "LIMIT-4", "SEC-2", "PAY-5"],
    async run(ctx: CaseContext) {
      // Count limit 2, balance for 3 payments: of 5 concurrent scans of 1000,
      // any serial order gives 2 SUCCEEDED, then 1 PENDING (funds still cover
      // it; pending moves nothing) ... every later one PENDING as well, since
      // the balance stays at 1000 — so 2 SUCCEEDED and 3 PENDING.
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 3_000n,
        limits: { dailyPasswordFreeCount: 2 },
      });
      const codes = [0, 1, 2, 3, 4].map(() => wallet.onlineCode());
      const ps = await Promise.all(codes.map((c) => merchant.scan(c, 1_000n)));
      const tally = (s: PaymentStatus) => ps.filter((p) => p.status === s).length;
      const what = `five concurrent Scans of 1000 gave ${ps.map(describePayment).join(", ")}`;
      ctx.expect.equal(tally(PaymentStatus.SUCCEEDED), 2, `${what}: SUCCEEDED`);
      ctx.expect.equal(
        tally(PaymentStatus.PENDING_CONFIRMATION),
        3,
        `${what}: PENDING_CONFIRMATION`,
      );
      await balances(ctx, wallet, merchant, 1_000n, 2_000n, "after the scans");
      // Now funds run out: of three concurrent confirmations of 1000 with
      // 1000 left, one succeeds and two are DECLINED INSUFFICIENT_FUNDS.
      const pending = ps.filter((p) => p.status === PaymentStatus.PENDING_CONFIRMATION);
      const confirmed = await Promise.all(
        pending.map((p) =>
          wallet.client.confirmPayment({ paymentId: p.paymentId, password: wallet.password }),
        ),
      );
      const cs = confirmed.map((c) => ctx.expect.payment(c, "ConfirmPayment"));
      const cwhat = `three concurrent ConfirmPayments with funds for one gave ${cs.map(describePayment).join(", ")}`;
      ctx.expect.equal(
        cs.filter((p) => p.status === PaymentStatus.SUCCEEDED).length,
        1,
        `${cwhat}: SUCCEEDED`,
      );
      ctx.expect.equal(
        cs.filter(
          (p) =>
            p.status === PaymentStatus.DECLINED &&
            p.declineReason === DeclineReason.INSUFFICIENT_FUNDS,
        ).length,
        2,
        `${cwhat}: DECLINED (INSUFFICIENT_FUNDS)`,
      );
      await balances(ctx, wallet, merchant, 0n, 3_000n, "after the confirmations");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "concurrent/same-batch-twice",
    title:
      "The same batch uploaded twice at once settles once; both uploads get the same results and payment ids",
    requirements: ["SETTLE-5", "PAY-6", "SEC-2"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const terminal = await ctx.fixtures.terminal(merchant);
      await terminal.sync();
      for (let round = 1; round <= ROUNDS; round++) {
        const records = [
          terminal.record(wallet.offlineCode(), 700n),
          terminal.record(wallet.offlineCode(), 300n),
        ];
        const batchId = ctx.fixtures.uniqueId("batch");
        const [a, b] = await Promise.all([
          terminal.upload(records, batchId),
          terminal.upload(records, batchId),
        ]);
        const show = (r: typeof a) =>
          r.results.map((x) => `${RecordOutcome[x.outcome]}:${x.paymentId}`).join(" ");
        const what = `round ${round}: two concurrent uploads of one batch gave [${show(a)}] and [${show(b)}]`;
        ctx.expect.equal(show(b), show(a), `${what}: the same results`);
        for (const r of a.results) ctx.expect.outcome(r, RecordOutcome.SETTLED, what);
        await balances(
          ctx,
          wallet,
          merchant,
          10_000n - 1_000n * BigInt(round),
          1_000n * BigInt(round),
          `${what}; balances`,
        );
      }
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "concurrent/one-code-scan-and-terminals",
    title:
      "One offline code at a till and at three terminals at once: the payer pays once, every record settles, all but the payer's one issuer-liable",
    requirements: ["SEC-2", "SETTLE-20", "SETTLE-21", "SCAN-6"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 100_000n,
        limits: {
          perPaymentPasswordFree: 10_000n,
          dailyPasswordFreeAmount: 100_000n,
          dailyPasswordFreeCount: 100,
          perPaymentOffline: 1_000n,
          cumulativeOffline: 20_000n,
        },
      });
      const terminals = [
        await ctx.fixtures.terminal(merchant),
        await ctx.fixtures.terminal(merchant),
        await ctx.fixtures.terminal(merchant),
      ];
      for (const t of terminals) await t.sync();
      let payer = 100_000n;
      let credited = 0n;
      for (let round = 1; round <= ROUNDS; round++) {
        const code = wallet.offlineCode();
        const [scan, ...uploads] = await Promise.all([
          settle(merchant.scan(code, 500n)),
          ...terminals.map((t) => t.upload([t.record(code, 500n)])),
        ]);
        const results = uploads.map((u) => u.results[0]!);
        const what = `round ${round}: Scan ${show(scan!, describePayment)}, records [${results
          .map((r) => `${RecordOutcome[r.outcome]}${r.issuerLiable ? " issuer_liable" : ""}`)
          .join(", ")}]`;
        for (const r of results) ctx.expect.outcome(r, RecordOutcome.SETTLED, what);
        const paid = "ok" in scan! && scan.ok.status === PaymentStatus.SUCCEEDED;
        const payerPaid = results.filter((r) => !r.issuerLiable).length;
        // Serial orders: the Scan first (it pays, every record is the issuer's), or a record first
        // (it debits the payer, the Scan is CODE_REUSED, the other records are the issuer's).
        if (paid) {
          ctx.expect.equal(payerPaid, 0, `${what}: records paid by the payer after a paid Scan`);
        } else {
          ctx.expect.that(
            "ok" in scan! && scan.ok.declineReason === DeclineReason.CODE_REUSED,
            `${what}: the Scan neither succeeded nor was CODE_REUSED`,
          );
          ctx.expect.equal(payerPaid, 1, `${what}: records paid by the payer`);
        }
        payer -= 500n;
        credited += (paid ? 500n : 0n) + 1_500n;
        await balances(ctx, wallet, merchant, payer, credited, `${what}; balances`);
      }
      await ctx.expect.ledgerBalanced();
    },
  }),
];
