import { DeclineReason } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import type { SimWallet } from "../fixtures/sim-wallet.js";
import { balances, walletAndMerchant } from "./common.js";

/**
 * A variant of `code` with one digit of its 16-digit body changed such that
 * it still decrypts to a payload below 2^53, so the verifier reaches the MAC
 * check (an arbitrary change is MALFORMED one time in ten).
 */
export function tamperedOnlineCode(wallet: SimWallet, code: string): string {
  for (let pos = code.length - 1; pos >= 2; pos--) {
    for (let d = 1; d <= 9; d++) {
      const digit = String((Number(code[pos]) + d) % 10);
      const candidate = code.slice(0, pos) + digit + code.slice(pos + 1);
      if (wallet.parseOnline(candidate) !== undefined) return candidate;
    }
  }
  throw new Error("harness: no tampered variant parses");
}

/** Online-code time windows: in window pays, just past is EXPIRED, far past is INVALID. */
export const expiredCodeCases: Case[] = [
  defineCase({
    id: "expired-code/just-in-window",
    title: "A code exactly window_back_steps old pays",
    requirements: ["VERIFY-5", "VERIFY-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const now = await ctx.clock.awayFromStepBoundary();
      const p = await merchant.scan(
        wallet.onlineCode({ step: now - wallet.profile.windowBackSteps }),
        900n,
      );
      ctx.expect.succeeded(p, "Scan of a code at the back edge of the window");
    },
  }),
  defineCase({
    id: "expired-code/one-step-past",
    title:
      "A code one step older than the window is declined CODE_EXPIRED (not CODE_INVALID), no money moves",
    requirements: ["VERIFY-4", "VERIFY-9", "SEC-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 4_000n });
      const now = await ctx.clock.awayFromStepBoundary();
      const p = await merchant.scan(
        wallet.onlineCode({ step: now - wallet.profile.windowBackSteps - 1 }),
        900n,
      );
      ctx.expect.declined(p, DeclineReason.CODE_EXPIRED, "Scan of a code one step past the window");
      await balances(ctx, wallet, merchant, 4_000n, 0n, "after the decline");
    },
  }),
  defineCase({
    id: "expired-code/within-lookback",
    title: "A code as old as lookback_steps is declined CODE_EXPIRED",
    requirements: ["VERIFY-4"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const now = await ctx.clock.awayFromStepBoundary();
      const p = await merchant.scan(
        wallet.onlineCode({ step: now - wallet.profile.lookbackSteps }),
        900n,
      );
      ctx.expect.declined(p, DeclineReason.CODE_EXPIRED, "Scan of a code lookback_steps old");
    },
  }),
  defineCase({
    id: "expired-code/beyond-lookback",
    title: "A code older than lookback_steps is declined CODE_INVALID",
    requirements: ["VERIFY-3"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const now = await ctx.clock.awayFromStepBoundary();
      const p = await merchant.scan(
        wallet.onlineCode({ step: now - wallet.profile.lookbackSteps - 1 }),
        900n,
      );
      ctx.expect.declined(p, DeclineReason.CODE_INVALID, "Scan of a code older than the lookback");
    },
  }),
  defineCase({
    id: "expired-code/expired-not-burned",
    title:
      "An expired code is not burned: presenting it again is CODE_EXPIRED again, not CODE_REUSED",
    requirements: ["SCAN-7", "VERIFY-4"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const now = await ctx.clock.awayFromStepBoundary();
      const code = wallet.onlineCode({ step: now - wallet.profile.windowBackSteps - 2 });
      ctx.expect.declined(
        await merchant.scan(code, 100n),
        DeclineReason.CODE_EXPIRED,
        "first Scan",
      );
      ctx.expect.declined(
        await merchant.scan(code, 100n),
        DeclineReason.CODE_EXPIRED,
        "second Scan",
      );
    },
  }),
  defineCase({
    id: "expired-code/after-clock-advance",
    title: "A code valid when made is CODE_EXPIRED after the issuer clock moves past its window",
    requirements: ["VERIFY-4", "VERIFY-1", "RPC-2", "CTRL-6"],
    features: ["controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 3_000n });
      await ctx.clock.sync();
      const code = wallet.onlineCode();
      await ctx.clock.advance((wallet.profile.windowBackSteps + 2) * 60);
      const p = await merchant.scan(code, 1_000n);
      ctx.expect.declined(
        p,
        DeclineReason.CODE_EXPIRED,
        "Scan after the clock moved past the window",
      );
      await balances(ctx, wallet, merchant, 3_000n, 0n, "after the decline");
    },
  }),
  defineCase({
    id: "expired-code/tampered-digit",
    title: "A code with one digit changed is declined CODE_INVALID and the genuine code still pays",
    requirements: ["VERIFY-3"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 3_000n });
      const code = wallet.onlineCode();
      const bad = tamperedOnlineCode(wallet, code);
      ctx.expect.declined(
        await merchant.scan(bad, 1_000n),
        DeclineReason.CODE_INVALID,
        "Scan of a tampered code",
      );
      ctx.expect.succeeded(
        await merchant.scan(code, 1_000n),
        "Scan of the genuine code afterwards",
      );
    },
  }),
  defineCase({
    id: "expired-code/forged-mac",
    title: "A code carrying a wallet's handle but a MAC from another seed is declined CODE_INVALID",
    requirements: ["VERIFY-3", "CODE-2"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 3_000n });
      // Make a code with another wallet's seed but this wallet's handle: the
      // MAC cannot match, whatever the step.
      const other = await ctx.fixtures.wallet();
      const p = await merchant.scan(other.onlineCode({ handle: wallet.handle }), 1_000n);
      ctx.expect.declined(p, DeclineReason.CODE_INVALID, "Scan of a code with a forged MAC");
      await ctx.expect.balance({ accountId: wallet.accountId }, 3_000n, "payer after the decline");
    },
  }),
  defineCase({
    id: "expired-code/wrong-prefix",
    title: "A code with another issuer prefix is declined CODE_MALFORMED",
    requirements: ["VERIFY-2"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const code = wallet.onlineCode();
      const prefix =
        wallet.profile.issuerPrefix === 99 ? "98" : String(wallet.profile.issuerPrefix + 1);
      const p = await merchant.scan(prefix + code.slice(2), 100n);
      ctx.expect.declined(p, DeclineReason.CODE_MALFORMED, "Scan of a code with a foreign prefix");
    },
  }),
  defineCase({
    id: "expired-code/wrong-length",
    title:
      "Codes of 17 and 19 digits, and 18 characters with a non-digit, are declined CODE_MALFORMED",
    requirements: ["VERIFY-2", "VERIFY-9"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const code = wallet.onlineCode();
      for (const [what, bad] of [
        ["17 digits", code.slice(0, 17)],
        ["19 digits", `${code}0`],
        ["a letter", `${code.slice(0, 10)}A${code.slice(11)}`],
        ["a space", `${code.slice(0, 17)} `],
      ] as const) {
        ctx.expect.declined(
          await merchant.scan(bad, 100n),
          DeclineReason.CODE_MALFORMED,
          `Scan of a code with ${what}`,
        );
      }
      ctx.expect.succeeded(await merchant.scan(code, 100n), "Scan of the genuine code afterwards");
    },
  }),
  defineCase({
    id: "expired-code/payload-above-2-53",
    title:
      "An 18-digit code with the issuer's prefix whose digits decrypt to P ≥ 2^53 is declined CODE_MALFORMED, not CODE_INVALID",
    requirements: ["VERIFY-2", "VERIFY-9"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 3_000n });
      const code = wallet.onlineCode();
      const bad = payloadAbove2To53(wallet, code);
      ctx.expect.declined(
        await merchant.scan(bad, 1_000n),
        DeclineReason.CODE_MALFORMED,
        "Scan of a code decrypting to P ≥ 2^53",
      );
      ctx.expect.succeeded(
        await merchant.scan(code, 1_000n),
        "Scan of the genuine code afterwards",
      );
    },
  }),
];

/**
 * A variant of `code` with one digit of its body changed such that it
 * decrypts to P ≥ 2^53 (§6.1 step 2): with the prefix and the 18 digits
 * intact, that is the only way the wallet's own codec refuses it.
 */
function payloadAbove2To53(wallet: SimWallet, code: string): string {
  for (let pos = code.length - 1; pos >= 2; pos--) {
    for (let d = 1; d <= 9; d++) {
      const digit = String((Number(code[pos]) + d) % 10);
      const candidate = code.slice(0, pos) + digit + code.slice(pos + 1);
      if (wallet.parseOnline(candidate) === undefined) return candidate;
    }
  }
  throw new Error("harness: no variant decrypts to P ≥ 2^53");
}
