import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { type Case, type CaseContext, defineCase } from "../case.js";

const KNOWN_FEATURES = [
  "controllable-clock",
  "settable-clock",
  "refunds",
  "offline-settlement",
  "settlement-report",
  "key-rotation",
];

/**
 * The test-control service the harness stands on: if it lies, every other
 * verdict is in doubt, so it is checked like any other surface.
 */
export const testControlCases: Case[] = [
  defineCase({
    id: "test-control/capabilities",
    title:
      "GetCapabilities claims only defined features and reports the profile and the issuer clock",
    requirements: ["CTRL-2", "RPC-2", "CTRL-6"],
    async run(ctx: CaseContext) {
      const caps = await ctx.control.getCapabilities({});
      const unknown = caps.features.filter((f) => !KNOWN_FEATURES.includes(f));
      ctx.expect.that(
        unknown.length === 0,
        `GetCapabilities claims undefined features: ${unknown.join(", ")}`,
      );
      ctx.expect.that(caps.profile, "GetCapabilities: profile not set");
      ctx.expect.that(
        /^[A-Z]{3}$/.test(caps.profile.currency),
        `profile currency ${JSON.stringify(caps.profile.currency)}`,
      );
      ctx.expect.that(caps.now, "GetCapabilities: now not set");
      const wallet = await ctx.fixtures.wallet();
      void wallet;
      const after = await ctx.control.getCapabilities({});
      const a = timestampMs(caps.now);
      const b = timestampMs(after.now!);
      ctx.expect.that(
        b >= a && b - a < 60_000,
        `GetCapabilities.now went from ${new Date(a).toISOString()} to ${new Date(b).toISOString()} within one case`,
      );
      if (!caps.features.includes("controllable-clock")) {
        await ctx.expect.error(
          ctx.control.advanceClock({ seconds: 1 }),
          Code.Unimplemented,
          "AdvanceClock without the controllable-clock feature",
        );
      }
      if (!caps.features.includes("settable-clock")) {
        await ctx.expect.error(
          ctx.control.setClock({ now: caps.now, frozen: false }),
          Code.Unimplemented,
          "SetClock without the settable-clock feature",
        );
        ctx.expect.equal(
          caps.clockFrozen,
          false,
          "GetCapabilities.clock_frozen without settable-clock",
        );
      }
    },
  }),
  defineCase({
    id: "test-control/accounts-and-balances",
    title:
      "CreateAccount funds the opening balance from the issuer account; GetBalance and GetLedgerTotal report it; bad requests fail",
    requirements: ["CTRL-3", "CTRL-4", "CTRL-5", "PAY-5"],
    async run(ctx: CaseContext) {
      const cur = ctx.profile.currency;
      const a = await ctx.fixtures.account({ balance: 1_234n });
      await ctx.expect.balance({ accountId: a.accountId }, 1_234n, "new account");
      const zero = await ctx.control.createAccount({
        password: "pw",
        balance: ctx.fixtures.money(0n),
      });
      await ctx.expect.balance({ accountId: zero.accountId }, 0n, "account opened with zero");
      const merchant = await ctx.fixtures.merchant();
      await ctx.expect.balance({ merchantId: merchant.merchantId }, 0n, "new merchant");
      const other = cur === "USD" ? "EUR" : "USD";
      for (const [what, req] of [
        ["a negative balance", { password: "pw", balance: ctx.fixtures.money(-1n) }],
        [`a balance in ${other}`, { password: "pw", balance: ctx.fixtures.money(5n, other) }],
        ["an empty password", { password: "", balance: ctx.fixtures.money(5n) }],
      ] as const) {
        await ctx.expect.error(
          ctx.control.createAccount(req),
          Code.InvalidArgument,
          `CreateAccount with ${what}`,
        );
      }
      await ctx.expect.error(
        ctx.control.getBalance({ owner: { case: "accountId", value: `${a.accountId}-missing` } }),
        Code.NotFound,
        "GetBalance of an unknown account",
      );
      await ctx.expect.error(
        ctx.control.createTerminal({ merchantId: `${merchant.merchantId}-missing` }),
        Code.NotFound,
        "CreateTerminal for an unknown merchant",
      );
      const total = await ctx.control.getLedgerTotal({ currency: cur });
      ctx.expect.money(total.total, 0n, "GetLedgerTotal.total");
      ctx.expect.that(
        total.transferCount >= 1n,
        "GetLedgerTotal.transfer_count is 0 after funding an account",
      );
    },
  }),
  defineCase({
    id: "test-control/advance-clock",
    title: "AdvanceClock moves the issuer clock forward by the given seconds and refuses zero",
    requirements: ["CTRL-6", "RPC-2"],
    features: ["controllable-clock"],
    async run(ctx: CaseContext) {
      const before = await ctx.clock.sync();
      await ctx.expect.error(
        ctx.control.advanceClock({ seconds: 0 }),
        Code.InvalidArgument,
        "AdvanceClock(0)",
      );
      const r = await ctx.control.advanceClock({ seconds: 90 });
      ctx.expect.that(r.now, "AdvanceClock: now not set");
      const moved = Math.floor(timestampMs(r.now) / 1000) - before;
      ctx.expect.that(
        moved >= 90 && moved < 90 + 30,
        `AdvanceClock(90) moved the clock by ${moved} s`,
      );
      const caps = await ctx.control.getCapabilities({});
      const seen = Math.floor(timestampMs(caps.now!) / 1000) - before;
      ctx.expect.that(
        seen >= 90,
        `GetCapabilities.now after AdvanceClock(90) is only ${seen} s later`,
      );
    },
  }),
];
