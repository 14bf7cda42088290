import { Code, type ConnectError } from "@connectrpc/connect";
import { DeclineReason, PaymentStatus } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import type { Merchant } from "../fixtures/fixtures.js";
import { utcDayStartMs } from "../target-clock.js";
import { balances, walletAndMerchant } from "./common.js";

/**
 * The Scan throttles of §12.3 (issue 9). The windows are fixed (an hour of
 * the issuer clock for a merchant, a UTC day for a wallet's MAC failures),
 * so the clock cases freeze the issuer clock at a known point of a window
 * and every verdict is the same on every run. Bounds are those of
 * `paycode-default-v1`; an issuer with lower ones passes too, since a case
 * only requires the refusal by the default bound, never that it comes late.
 */

const SETTABLE = ["settable-clock"] as const;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** [SEC-4] Verification failures a merchant may cause per merchant window. */
const MERCHANT_FAILURES = 100;
/** [SEC-6] MAC failures of a UTC day that start the step-up. */
const STEP_UP_FAILURES = 16;
/** [SEC-13] MAC failures since provisioning that block the wallet. */
const BLOCK_FAILURES = 256;

/** A time `days` UTC days after the issuer's current day, at `msOfDay` into it. */
async function dayTime(ctx: CaseContext, days: number, msOfDay: number): Promise<number> {
  await ctx.clock.sync();
  return utcDayStartMs(ctx.clock.nowMs()) + days * DAY_MS + msOfDay;
}

/** A Scan that must fail `resource_exhausted` ([SEC-4]); returns the error. */
function throttledScan(
  ctx: CaseContext,
  m: Merchant,
  code: string,
  what: string,
  outTradeNo = ctx.fixtures.orderNo(),
): Promise<ConnectError> {
  return ctx.expect.error(
    m.client.scan({
      outTradeNo,
      amount: ctx.fixtures.money(100n),
      code,
      subject: "conformance",
    }),
    Code.ResourceExhausted,
    what,
  );
}

/**
 * Makes `m` cause verification failures (malformed codes) until the
 * throttle refuses one; fails the case unless that happens by the default
 * bound plus one. Returns the refusal.
 */
async function exhaust(ctx: CaseContext, m: Merchant): Promise<ConnectError> {
  for (let i = 1; i <= MERCHANT_FAILURES + 1; i++) {
    const call = m.scan(`not a code ${i}`, 100n);
    const p = await call.catch(() => undefined);
    if (p === undefined) {
      return ctx.expect.error(
        call,
        Code.ResourceExhausted,
        `Scan after ${i - 1} verification failures in one merchant window`,
      );
    }
    ctx.expect.declined(p, DeclineReason.CODE_MALFORMED, `verification failure ${i}`);
  }
  return ctx.expect.fail(
    `${MERCHANT_FAILURES + 1} verification failures of one merchant in one merchant window were all answered; [SEC-4] allows ${MERCHANT_FAILURES}`,
  );
}

/** The `retry-after` of a throttle error, in seconds ([SEC-12]). */
function retryAfter(ctx: CaseContext, err: ConnectError, what: string): number {
  const v = err.metadata.get("retry-after");
  ctx.expect.that(v !== null, `${what}: the resource_exhausted error carries no retry-after`);
  ctx.expect.that(/^[0-9]+$/.test(v!), `${what}: retry-after "${v}" is not whole seconds`);
  return Number(v);
}

export const throttlingCases: Case[] = [
  defineCase({
    id: "throttling/merchant-window",
    title:
      "After 100 verification failures in an hour window, every new Scan of the merchant fails resource_exhausted with retry-after until the window ends",
    requirements: ["SEC-4", "SEC-12"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      // 10:10:00.000 of tomorrow, frozen: the window ends in exactly 3000 s.
      const t = await ctx.clock.set(await dayTime(ctx, 1, 10 * HOUR_MS + 10 * 60_000));
      const windowEnd = t - (t % HOUR_MS) + HOUR_MS;
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const refusal = await exhaust(ctx, merchant);
      ctx.expect.equal(
        retryAfter(ctx, refusal, "the refusal"),
        (windowEnd - t) / 1000,
        "retry-after of the refusal (seconds to the end of the merchant window)",
      );
      // A genuine code is refused too, as long as the window lasts.
      await throttledScan(ctx, merchant, wallet.onlineCode(), "Scan of a genuine code");
      await ctx.clock.set(windowEnd - 1);
      const last = await throttledScan(
        ctx,
        merchant,
        wallet.onlineCode(),
        "Scan of a genuine code 1 ms before the window ends",
      );
      ctx.expect.equal(
        retryAfter(ctx, last, "1 ms before the end"),
        1,
        "retry-after 1 ms before the end (rounded up)",
      );
      // [SEC-4] The next window starts empty.
      await ctx.clock.set(windowEnd);
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 100n),
        "Scan of a genuine code when the next merchant window starts",
      );
      await balances(ctx, wallet, merchant, 9_900n, 100n, "after the one payment");
    },
  }),
  defineCase({
    id: "throttling/retry-answered-while-throttled",
    title:
      "While the merchant is throttled, a retry of a stored order (paid or declined) still returns the stored payment",
    requirements: ["SCAN-2", "SEC-4"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      // Frozen mid-window, so that no window ends between the failures and the retries.
      await ctx.clock.set(await dayTime(ctx, 1, 10 * HOUR_MS + 10 * 60_000));
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      const paidOrder = ctx.fixtures.orderNo();
      const paid = await merchant.scan(code, 100n, { outTradeNo: paidOrder });
      ctx.expect.succeeded(paid, "the Scan before the throttle");
      const declinedOrder = ctx.fixtures.orderNo();
      const declined = await merchant.scan("not a code 0", 100n, { outTradeNo: declinedOrder });
      ctx.expect.declined(declined, DeclineReason.CODE_MALFORMED, "a verification failure");
      await exhaust(ctx, merchant);
      // "A retry of a stored order is answered as below, throttled or not" (§7.3.1).
      const paidAgain = await merchant.scan(code, 100n, { outTradeNo: paidOrder });
      ctx.expect.succeeded(paidAgain, "retry of the paid order while throttled");
      ctx.expect.equal(paidAgain.paymentId, paid.paymentId, "payment_id of that retry");
      const declinedAgain = await merchant.scan("not a code 0", 100n, {
        outTradeNo: declinedOrder,
      });
      ctx.expect.declined(
        declinedAgain,
        DeclineReason.CODE_MALFORMED,
        "retry of the declined order while throttled",
      );
      ctx.expect.equal(declinedAgain.paymentId, declined.paymentId, "payment_id of that retry");
      await balances(ctx, wallet, merchant, 9_900n, 100n, "after the retries");
      // A new order is still refused: the retries did not lift the throttle.
      await throttledScan(ctx, merchant, wallet.onlineCode(), "a new Scan after the retries");
    },
  }),
  defineCase({
    id: "throttling/refusal-writes-nothing",
    title:
      "A throttled Scan of a genuine code records no payment, burns nothing and moves no money: the code then pays at another merchant",
    requirements: ["SEC-11", "SEC-4"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      await exhaust(ctx, merchant);
      const code = wallet.onlineCode();
      const outTradeNo = ctx.fixtures.orderNo();
      await throttledScan(ctx, merchant, code, "Scan of a genuine code, throttled", outTradeNo);
      await ctx.expect.error(
        merchant.client.getPayment({ lookup: { case: "outTradeNo", value: outTradeNo } }),
        Code.NotFound,
        "GetPayment of the throttled order",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "after the throttled Scan");
      const other = await ctx.fixtures.merchant();
      ctx.expect.succeeded(
        await other.scan(code, 100n),
        "the throttled code presented at another merchant (not burned)",
      );
      await ctx.expect.balance({ accountId: wallet.accountId }, 9_900n, "payer after it paid once");
    },
  }),
  defineCase({
    id: "throttling/mac-failure-step-up",
    title:
      "16 MAC failures in a UTC day put the wallet in step-up through the next UTC day; invalid codes whose step4 is outside the window do not count",
    requirements: ["SEC-5", "SEC-6"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      const profile = ctx.capabilities.profile!;
      await ctx.clock.set(await dayTime(ctx, 1, 9 * HOUR_MS + 30_000));
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 100_000n });
      // [SEC-5] A code of a step ahead of the window (a fast wallet clock) is
      // CODE_INVALID, but its step4 names no step of the window: no MAC failure.
      if (profile.windowBackSteps + profile.windowAheadSteps + 1 < 16) {
        const ahead = wallet.onlineCode({ stepOffset: profile.windowAheadSteps + 1 });
        for (let i = 1; i <= STEP_UP_FAILURES; i++) {
          ctx.expect.declined(
            await merchant.scan(ahead, 100n),
            DeclineReason.CODE_INVALID,
            `scan ${i} of a code from beyond the window ahead`,
          );
        }
        ctx.expect.succeeded(
          await merchant.scan(wallet.onlineCode(), 100n),
          `a genuine code after ${STEP_UP_FAILURES} invalid codes whose step4 is outside the window`,
        );
      }
      // [SEC-6] 16 guesses at the wallet's MAC.
      for (let i = 1; i <= STEP_UP_FAILURES; i++) {
        ctx.expect.declined(
          await merchant.scan(wallet.guessedOnlineCode(), 100n),
          DeclineReason.CODE_INVALID,
          `MAC guess ${i}`,
        );
      }
      const p = await merchant.scan(wallet.onlineCode(), 100n);
      ctx.expect.status(
        p,
        PaymentStatus.PENDING_CONFIRMATION,
        `a small genuine payment after ${STEP_UP_FAILURES} MAC failures today`,
      );
      // Through the end of the next UTC day.
      await ctx.clock.set(await dayTime(ctx, 1, DAY_MS - 1));
      ctx.expect.status(
        await merchant.scan(wallet.onlineCode(), 100n),
        PaymentStatus.PENDING_CONFIRMATION,
        "a small genuine payment at 23:59:59.999 of the next UTC day",
      );
    },
  }),
  defineCase({
    id: "throttling/mac-failure-block",
    title:
      "256 MAC failures against one wallet revoke it: GetWallet reports revoked, it is on the revocation list, its codes decline WALLET_REVOKED",
    requirements: ["SEC-13"],
    async run(ctx: CaseContext) {
      const { wallet } = await walletAndMerchant(ctx, { balance: 10_000n });
      // Spread over merchants so that [SEC-4] does not stop the guessing first.
      let merchant = await ctx.fixtures.merchant();
      let ofMerchant = 0;
      for (let i = 1; i <= BLOCK_FAILURES; i++) {
        if (ofMerchant === MERCHANT_FAILURES) {
          merchant = await ctx.fixtures.merchant();
          ofMerchant = 0;
        }
        ofMerchant++;
        ctx.expect.declined(
          await merchant.scan(wallet.guessedOnlineCode(), 100n),
          DeclineReason.CODE_INVALID,
          `MAC guess ${i}`,
        );
      }
      const w = await wallet.client.getWallet({});
      ctx.expect.that(w.revoked, `GetWallet after ${BLOCK_FAILURES} MAC failures: not revoked`);
      const keys = await merchant.settlement.getIssuerKeys({});
      ctx.expect.that(
        keys.revokedWalletIds.includes(wallet.walletId),
        "GetIssuerKeys does not list the blocked wallet in revoked_wallet_ids",
      );
      const fresh = await ctx.fixtures.merchant();
      ctx.expect.declined(
        await fresh.scan(wallet.onlineCode(), 100n),
        DeclineReason.WALLET_REVOKED,
        "a genuine code of the blocked wallet",
      );
      await ctx.expect.balance(
        { accountId: wallet.accountId },
        10_000n,
        "payer of the blocked wallet",
      );
    },
  }),
];
