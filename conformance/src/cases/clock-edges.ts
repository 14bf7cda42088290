import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import {
  CancelAction,
  DeclineReason,
  type Payment,
  PaymentStatus,
  RecordOutcome,
} from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { sleep, utcDayStartMs } from "../target-clock.js";
import { balances, byId, OFFLINE, walletAndMerchant } from "./common.js";

/**
 * Cases on a frozen issuer clock (feature "settable-clock"). Each freezes
 * the clock exactly where a rule changes its answer and checks both sides:
 * the last millisecond (or second) before the boundary and the boundary
 * itself, so no verdict depends on when the run happens or how fast the
 * target answers. They run alone; the run sets the clock running again
 * after each, and puts it back where it found it at the end.
 */

const SETTABLE = ["settable-clock"] as const;
const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A time `days` UTC days after the issuer's current day, at `msOfDay` into it. */
async function dayTime(ctx: CaseContext, days: number, msOfDay: number): Promise<number> {
  await ctx.clock.sync();
  return utcDayStartMs(ctx.clock.nowMs()) + days * DAY_MS + msOfDay;
}

/** Reads GetCapabilities and checks the clock is exactly `ms` and frozen as expected. */
async function expectClock(
  ctx: CaseContext,
  ms: number,
  frozen: boolean,
  what: string,
): Promise<void> {
  const caps = await ctx.control.getCapabilities({});
  ctx.expect.that(caps.now, `${what}: GetCapabilities.now not set`);
  const got = timestampMs(caps.now);
  ctx.expect.that(
    got === ms,
    `${what}: GetCapabilities.now is ${new Date(got).toISOString()}, expected exactly ${new Date(ms).toISOString()}`,
  );
  ctx.expect.equal(caps.clockFrozen, frozen, `${what}: GetCapabilities.clock_frozen`);
}

export const testControlClockCases: Case[] = [
  defineCase({
    id: "test-control/set-clock-exact",
    title:
      "SetClock sets the issuer clock to the millisecond, forwards and backwards, for test control and for payments alike",
    requirements: ["CTRL-7", "RPC-2", "WALLET-9"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      await ctx.expect.error(
        ctx.control.setClock({ frozen: true }),
        Code.InvalidArgument,
        "SetClock without now",
      );
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 5_000n });
      // An odd time of an odd day, 2 days ahead, then one day back.
      for (const t of [
        await dayTime(ctx, 2, 13 * 3_600_000 + 7 * 60_000 + 11_345),
        await dayTime(ctx, 1, 5 * 3_600_000 + 59 * 60_000 + 1_007),
      ]) {
        const when = new Date(t).toISOString();
        await ctx.clock.set(t);
        await expectClock(ctx, t, true, `after SetClock(${when}, frozen)`);
        const w = await wallet.client.getWallet({});
        ctx.expect.equal(
          w.serverTime && new Date(timestampMs(w.serverTime)).toISOString(),
          when,
          "GetWallet.server_time on the frozen clock",
        );
        const p = await merchant.scan(wallet.onlineCode(), 100n);
        ctx.expect.succeeded(p, `Scan of a code made for the step of ${when}`);
        ctx.expect.that(p.createdAt, "Payment.created_at not set");
        ctx.expect.equal(
          new Date(timestampMs(p.createdAt)).toISOString(),
          when,
          "Payment.created_at of a payment made on the frozen clock",
        );
      }
      await balances(ctx, wallet, merchant, 4_800n, 200n, "after two payments");
    },
  }),
  defineCase({
    id: "test-control/frozen-clock-stands-still",
    title:
      "A frozen issuer clock reads exactly the time set while real time passes; AdvanceClock moves it and leaves it frozen",
    requirements: ["CTRL-8", "CTRL-6"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      const t = await dayTime(ctx, 1, 10 * 3_600_000 + 123);
      await ctx.clock.set(t);
      await sleep(300, ctx.signal);
      await expectClock(ctx, t, true, "0.3 s after freezing");
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const p = await merchant.scan(wallet.onlineCode(), 100n);
      ctx.expect.succeeded(p, "Scan on the frozen clock");
      ctx.expect.equal(
        new Date(timestampMs(p.createdAt!)).toISOString(),
        new Date(t).toISOString(),
        "Payment.created_at on the frozen clock, after real time passed",
      );
      if (ctx.capabilities.features.includes("controllable-clock")) {
        const r = await ctx.control.advanceClock({ seconds: 5 });
        ctx.expect.equal(
          r.now && new Date(timestampMs(r.now)).toISOString(),
          new Date(t + 5_000).toISOString(),
          "AdvanceClock(5) on the frozen clock",
        );
        await sleep(300, ctx.signal);
        await expectClock(ctx, t + 5_000, true, "0.3 s after AdvanceClock(5) on the frozen clock");
      }
    },
  }),
  defineCase({
    id: "test-control/unfrozen-clock-runs",
    title:
      "After SetClock without frozen the issuer clock runs on from the time set at the rate of real time",
    requirements: ["CTRL-9", "CTRL-7"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      const t = await dayTime(ctx, 1, 15 * 3_600_000);
      await ctx.clock.set(t, { running: true });
      const t0 = performance.now();
      const first = await ctx.control.getCapabilities({});
      await sleep(600, ctx.signal);
      const second = await ctx.control.getCapabilities({});
      const elapsed = performance.now() - t0;
      const a = timestampMs(first.now!);
      const b = timestampMs(second.now!);
      ctx.expect.equal(
        second.clockFrozen,
        false,
        "GetCapabilities.clock_frozen after SetClock(running)",
      );
      ctx.expect.that(
        a >= t && b >= a + 500 && b <= t + elapsed + 5_000,
        `clock set running at ${new Date(t).toISOString()} read ${new Date(a).toISOString()}, then ${new Date(b).toISOString()} after ${Math.round(elapsed)} ms of real time`,
      );
    },
  }),
];

export const expiredCodeClockCases: Case[] = [
  defineCase({
    id: "expired-code/window-edges-frozen",
    title:
      "On a frozen clock, at the first and the last millisecond of a step, a code window_back_steps old pays and one step older is CODE_EXPIRED",
    requirements: ["VERIFY-4", "VERIFY-5", "CTRL-8"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const b = wallet.profile.windowBackSteps;
      const stepStart = await dayTime(ctx, 1, 9 * 3_600_000 + 30 * 60_000);
      const step = stepStart / 60_000;
      for (const [what, t] of [
        ["first millisecond", stepStart],
        ["last millisecond", stepStart + 59_999],
      ] as const) {
        await ctx.clock.set(t);
        ctx.expect.succeeded(
          await merchant.scan(wallet.onlineCode({ step: step - b }), 100n),
          `Scan at the ${what} of a step of a code window_back_steps old`,
        );
        ctx.expect.declined(
          await merchant.scan(wallet.onlineCode({ step: step - b - 1 }), 100n),
          DeclineReason.CODE_EXPIRED,
          `Scan at the ${what} of a step of a code window_back_steps + 1 old`,
        );
      }
      // The next millisecond is the next step: the older code is now out too.
      await ctx.clock.set(stepStart + 60_000);
      ctx.expect.declined(
        await merchant.scan(wallet.onlineCode({ step: step - b }), 100n),
        DeclineReason.CODE_EXPIRED,
        "Scan of the same step's code one millisecond into the next step",
      );
      await balances(ctx, wallet, merchant, 9_800n, 200n, "after two payments");
    },
  }),
];

const PASSWORD_FREE_UP_TO_1000 = {
  balance: 10_000n,
  limits: { perPaymentPasswordFree: 1_000n },
};

export const overLimitClockCases: Case[] = [
  defineCase({
    id: "over-limit/deadline-edges-frozen",
    title:
      "On a frozen clock a pending payment confirms one millisecond before confirm_deadline and is CLOSED exactly at it",
    requirements: ["PAY-3", "PAY-10", "CTRL-8"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const t = await dayTime(ctx, 1, 11 * 3_600_000 + 17_250);
      await ctx.clock.set(t);
      const before = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.pending(before, "Scan of the payment confirmed in time");
      const at = await merchant.scan(wallet.onlineCode(), 2_000n);
      ctx.expect.pending(at, "Scan of the payment left to its deadline");
      ctx.expect.that(before.confirmDeadline, "Payment.confirm_deadline not set");
      const deadline = timestampMs(before.confirmDeadline);
      ctx.expect.equal(
        deadline,
        t + wallet.profile.confirmationTimeoutSeconds * 1000,
        "confirm_deadline = created_at + confirmation_timeout_seconds (ms)",
      );
      await ctx.clock.set(deadline - 1);
      const c = await wallet.client.confirmPayment({
        paymentId: before.paymentId,
        password: wallet.password,
      });
      ctx.expect.succeeded(
        ctx.expect.payment(c, "ConfirmPayment"),
        "ConfirmPayment one millisecond before the deadline",
      );
      await ctx.clock.set(deadline);
      ctx.expect.status(
        ctx.expect.payment(await merchant.client.getPayment(byId(at.paymentId)), "GetPayment"),
        PaymentStatus.CLOSED,
        "GetPayment exactly at the deadline",
      );
      await ctx.expect.error(
        wallet.client.confirmPayment({ paymentId: at.paymentId, password: wallet.password }),
        Code.FailedPrecondition,
        "ConfirmPayment exactly at the deadline",
      );
      const cancel = await merchant.client.cancelPayment(byId(at.paymentId));
      ctx.expect.equal(CancelAction[cancel.action], "NONE", "CancelPayment.action at the deadline");
      await balances(ctx, wallet, merchant, 7_000n, 3_000n, "after one confirmed payment");
    },
  }),
  defineCase({
    id: "over-limit/daily-reset-edges-frozen",
    title:
      "On a frozen clock the password-free count is used up at 23:59:59.999 UTC and fresh at 00:00:00.000 UTC",
    requirements: ["LIMIT-5", "LIMIT-3", "CTRL-8"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { dailyPasswordFreeCount: 1 },
      });
      const midnight = await dayTime(ctx, 2, 0);
      await ctx.clock.set(midnight - 60_000);
      ctx.expect.succeeded(await merchant.scan(wallet.onlineCode(), 100n), "Scan at 23:59:00");
      await ctx.clock.set(midnight - 1);
      const last = await merchant.scan(wallet.onlineCode(), 100n);
      ctx.expect.pending(last, "Scan at 23:59:59.999 (the day's count is used)");
      await merchant.client.cancelPayment(byId(last.paymentId));
      await ctx.clock.set(midnight);
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 100n),
        "Scan at 00:00:00.000 UTC (a new day)",
      );
      await balances(ctx, wallet, merchant, 9_800n, 200n, "after one payment each day");
    },
  }),
  defineCase({
    id: "over-limit/timestamps-frozen",
    title:
      "On a frozen clock created_at is the time of the Scan and updated_at the time of the latest status change",
    requirements: ["SCAN-14", "CTRL-8"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, PASSWORD_FREE_UP_TO_1000);
      const t = await dayTime(ctx, 1, 10 * 3_600_000 + 41_321);
      const times = (p: Payment | undefined, created: number, updated: number, what: string) => {
        ctx.expect.that(p?.createdAt && p.updatedAt, `${what}: created_at or updated_at not set`);
        ctx.expect.equal(iso(timestampMs(p.createdAt)), iso(created), `${what}: created_at`);
        ctx.expect.equal(iso(timestampMs(p.updatedAt)), iso(updated), `${what}: updated_at`);
      };
      await ctx.clock.set(t);
      const confirmed = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.pending(confirmed, "Scan of the payment to confirm");
      times(confirmed, t, t, "Scan");
      await ctx.clock.set(t + 7_250);
      const c = await wallet.client.confirmPayment({
        paymentId: confirmed.paymentId,
        password: wallet.password,
      });
      ctx.expect.succeeded(ctx.expect.payment(c, "ConfirmPayment"), "ConfirmPayment");
      times(c.payment, t, t + 7_250, "ConfirmPayment 7.25 s after the Scan");
      const t2 = t + 20_500;
      await ctx.clock.set(t2);
      const g = await merchant.client.getPayment(byId(confirmed.paymentId));
      times(g.payment, t, t + 7_250, "GetPayment 13.25 s after the confirmation");
      const cancelled = await merchant.scan(wallet.onlineCode(), 2_000n);
      ctx.expect.pending(cancelled, "Scan of the payment to cancel");
      const declined = await merchant.scan(wallet.onlineCode(), 100_000n);
      ctx.expect.declined(declined, DeclineReason.INSUFFICIENT_FUNDS, "Scan above the balance");
      times(declined, t2, t2, "a declined Scan");
      await ctx.clock.set(t2 + 10_125);
      const x = await merchant.client.cancelPayment(byId(cancelled.paymentId));
      ctx.expect.equal(CancelAction[x.action], "CLOSED", "CancelPayment.action of the pending one");
      times(x.payment, t2, t2 + 10_125, "CancelPayment of the pending payment");
      const y = await merchant.client.cancelPayment(byId(declined.paymentId));
      ctx.expect.equal(CancelAction[y.action], "NONE", "CancelPayment.action of the declined one");
      times(y.payment, t2, t2, "CancelPayment of the declined payment (no status change)");
      await balances(ctx, wallet, merchant, 7_000n, 3_000n, "after one confirmed payment");
    },
  }),
];

export const offlineWalletClockCases: Case[] = [
  defineCase({
    id: "offline-wallet/offline-validity-edges-frozen",
    title:
      "On a frozen clock an offline code scanned offline_code_validity_seconds after issued_at pays, one second later it is CODE_EXPIRED; skew likewise",
    requirements: ["VERIFY-9", "SCAN-11", "CTRL-8"],
    features: SETTABLE,
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const v = wallet.profile.offlineCodeValiditySeconds;
      const e = wallet.profile.offlineClockSkewSeconds;
      const t = await dayTime(ctx, 1, 14 * 3_600_000);
      const issuedAt = t / 1000;
      await ctx.clock.set(t + v * 1000);
      ctx.expect.succeeded(
        await merchant.scan(wallet.offlineCode({ issuedAt }), 100n),
        "Scan of an offline code exactly offline_code_validity_seconds old",
      );
      ctx.expect.declined(
        await merchant.scan(wallet.offlineCode({ issuedAt: issuedAt - 1 }), 100n),
        DeclineReason.CODE_EXPIRED,
        "Scan of an offline code offline_code_validity_seconds + 1 s old",
      );
      await ctx.clock.set(t);
      ctx.expect.succeeded(
        await merchant.scan(wallet.offlineCode({ issuedAt: issuedAt + e }), 100n),
        "Scan of an offline code issued offline_clock_skew_seconds ahead",
      );
      ctx.expect.declined(
        await merchant.scan(wallet.offlineCode({ issuedAt: issuedAt + e + 1 }), 100n),
        DeclineReason.CODE_EXPIRED,
        "Scan of an offline code issued offline_clock_skew_seconds + 1 s ahead",
      );
      await balances(ctx, wallet, merchant, 9_800n, 200n, "after two payments");
    },
  }),
];

export const doubleOfflineClockCases: Case[] = [
  defineCase({
    id: "double-offline/stale-keys-edges-frozen",
    title:
      "A key sync made on a frozen clock is stamped with it; a record accepted exactly max_key_age_seconds after it settles, one millisecond later it is REJECTED_STALE_KEYS",
    requirements: ["SETTLE-11", "RPC-2", "CTRL-8"],
    features: [...OFFLINE, ...SETTABLE],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const terminal = await ctx.fixtures.terminal(merchant);
      const t = await dayTime(ctx, 1, 16 * 3_600_000 + 250);
      await ctx.clock.set(t);
      await terminal.sync();
      ctx.expect.equal(
        new Date(terminal.syncedAtMs).toISOString(),
        new Date(t).toISOString(),
        "GetIssuerKeys.generated_at on the frozen clock",
      );
      const edge = t + wallet.profile.maxKeyAgeSeconds * 1000;
      await ctx.clock.set(edge + 1);
      const r = await terminal.upload([
        terminal.record(wallet.offlineCode(), 1_000n, { acceptedAtMs: edge }),
        terminal.record(wallet.offlineCode(), 1_000n, { acceptedAtMs: edge + 1 }),
      ]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.SETTLED,
        "record accepted exactly max_key_age_seconds after the key sync",
      );
      ctx.expect.outcome(
        r.results[1],
        RecordOutcome.REJECTED_STALE_KEYS,
        "record accepted max_key_age_seconds + 1 ms after the key sync",
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "one record settled");
    },
  }),
  defineCase({
    id: "double-offline/revocation-edges-frozen",
    title:
      "On a frozen clock a key sync lists a revocation made at its own millisecond and such a record is REJECTED_REVOKED; a wallet revoked one millisecond after the sync settles",
    requirements: ["SETTLE-2", "SETTLE-12", "SETTLE-13", "CTRL-8"],
    features: [...OFFLINE, ...SETTABLE],
    async run(ctx: CaseContext) {
      const [early, late, merchant] = await Promise.all([
        ctx.fixtures.wallet({ balance: 10_000n }),
        ctx.fixtures.wallet({ balance: 10_000n }),
        ctx.fixtures.merchant(),
      ]);
      const terminal = await ctx.fixtures.terminal(merchant);
      const t = await dayTime(ctx, 1, 10 * 3_600_000 + 321);
      await ctx.clock.set(t);
      await early.client.revokeSeed({ reason: "lost phone" });
      const keys = await terminal.sync();
      ctx.expect.equal(
        new Date(terminal.syncedAtMs).toISOString(),
        new Date(t).toISOString(),
        "GetIssuerKeys.generated_at on the frozen clock",
      );
      ctx.expect.that(
        keys.revokedWalletIds.includes(early.walletId),
        "GetIssuerKeys made at the millisecond of a revocation does not list the wallet",
      );
      await ctx.clock.set(t + 1);
      await late.client.revokeSeed({ reason: "lost phone" });
      await ctx.clock.set(t + 1_000);
      const r = await terminal.upload([
        terminal.record(early.offlineCode(), 1_000n, { acceptedAtMs: t + 500 }),
        terminal.record(late.offlineCode(), 1_000n, { acceptedAtMs: t + 500 }),
      ]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.REJECTED_REVOKED,
        "record of the wallet revoked at keys_synced_at",
      );
      ctx.expect.outcome(
        r.results[1],
        RecordOutcome.SETTLED,
        "record of the wallet revoked 1 ms after keys_synced_at",
      );
      await balances(ctx, early, merchant, 10_000n, 1_000n, "after the upload (early wallet)");
      await ctx.expect.balance({ accountId: late.accountId }, 9_000n, "late wallet's payer");
    },
  }),
];
