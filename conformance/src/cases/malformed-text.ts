import { Code } from "@connectrpc/connect";
import { generateEd25519 } from "@paycode/protocol";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { balances, refundRequest, walletAndMerchant } from "./common.js";

/**
 * Forbidden characters of free text (§7.1), one of each kind a vendor
 * might let through: NUL, an ANSI escape, DEL, a C1 control, a
 * right-to-left override, an isolate, a line feed.
 */
const FORBIDDEN: readonly (readonly [string, string])[] = [
  ["NUL", "pay\u0000ed"],
  ["an ANSI escape sequence", "\u001b[31mPAID\u001b[0m"],
  ["DEL", "coffee\u007f"],
  ["a C1 control (U+0085)", "coffee\u0085"],
  ["a right-to-left override (U+202E)", "invoice \u202egpj.exe"],
  ["a first-strong isolate (U+2068)", "tea \u2068x\u2069"],
  ["a line feed", "two\nlines"],
];

/**
 * Free text is refused, not cleaned, when it holds a forbidden character;
 * lengths count Unicode code points, not bytes or UTF-16 units.
 */
export const malformedTextCases: Case[] = [
  defineCase({
    id: "malformed-input/scan-subject-forbidden-characters",
    title:
      "Scan whose subject holds a control or bidirectional formatting character fails invalid_argument, records nothing and burns nothing",
    requirements: ["SCAN-16", "SCAN-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      const outTradeNo = ctx.fixtures.orderNo();
      for (const [what, subject] of FORBIDDEN) {
        await ctx.expect.error(
          merchant.scan(code, 100n, { outTradeNo, subject }),
          Code.InvalidArgument,
          `Scan with a subject holding ${what}`,
        );
      }
      await ctx.expect.error(
        merchant.client.getPayment({ lookup: { case: "outTradeNo", value: outTradeNo } }),
        Code.NotFound,
        "GetPayment of the order whose Scans were refused (nothing may be recorded)",
      );
      const p = await merchant.scan(code, 100n, { outTradeNo, subject: "Café ☕ 北京" });
      ctx.expect.succeeded(p, "the same code and order with a plain non-ASCII subject");
      await balances(ctx, wallet, merchant, 9_900n, 100n, "after the one valid Scan");
    },
  }),
  defineCase({
    id: "malformed-input/text-length-in-code-points",
    title:
      "Free-text lengths count Unicode code points: a 256-character subject of 3- and 4-byte characters is accepted, 257 is refused",
    requirements: ["SCAN-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      // "€" is 3 bytes in UTF-8; "😀" is 4 bytes and 2 UTF-16 units.
      const longest = "€😀".repeat(128);
      await ctx.expect.error(
        merchant.scan(code, 100n, { subject: `${longest}€` }),
        Code.InvalidArgument,
        "Scan with a 257-character subject",
      );
      const p = await merchant.scan(code, 100n, { subject: longest });
      ctx.expect.succeeded(p, "Scan with a 256-character subject of multi-byte characters");
      ctx.expect.equal(p.subject, longest, "the payment's subject, as sent");
    },
  }),
  defineCase({
    id: "malformed-input/refund-reason-forbidden-characters",
    title:
      "RefundPayment whose reason holds a control or bidirectional formatting character fails invalid_argument and moves no money",
    requirements: ["REFUND-12"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 1_000n);
      ctx.expect.succeeded(p, "the payment to refund");
      for (const [what, reason] of FORBIDDEN) {
        await ctx.expect.error(
          merchant.client.refundPayment(refundRequest(ctx, p.paymentId, 100n, reason)),
          Code.InvalidArgument,
          `RefundPayment with a reason holding ${what}`,
        );
      }
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after the refused refunds");
      await merchant.client.refundPayment(refundRequest(ctx, p.paymentId, 100n, "Rückgabe 退货"));
      await balances(ctx, wallet, merchant, 9_100n, 900n, "after a refund with a plain reason");
    },
  }),
  defineCase({
    id: "malformed-input/device-label-forbidden-characters",
    title:
      "ProvisionSeed whose device_label holds a control or bidirectional formatting character fails invalid_argument and leaves the current wallet working",
    requirements: ["WALLET-12"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      for (const [what, deviceLabel] of FORBIDDEN) {
        await ctx.expect.error(
          ctx.raw.wallet().provisionSeed({
            accountId: wallet.accountId,
            password: wallet.password,
            walletPublicKey: generateEd25519().publicKey,
            deviceLabel,
          }),
          Code.InvalidArgument,
          `ProvisionSeed with a device_label holding ${what}`,
        );
      }
      // A refused provisioning revokes nothing: the wallet still pays.
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 100n),
        "a code of the account's wallet after the refused provisionings",
      );
    },
  }),
  defineCase({
    id: "malformed-input/revoke-reason-forbidden-characters",
    title:
      "RevokeSeed whose reason holds a control or bidirectional formatting character fails invalid_argument and leaves the wallet unrevoked",
    requirements: ["WALLET-13"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      for (const [what, reason] of FORBIDDEN) {
        await ctx.expect.error(
          wallet.client.revokeSeed({ reason }),
          Code.InvalidArgument,
          `RevokeSeed with a reason holding ${what}`,
        );
      }
      const w = await wallet.client.getWallet({});
      ctx.expect.equal(w.revoked, false, "GetWallet.revoked after the refused revocations");
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 100n),
        "a code of the wallet after the refused revocations",
      );
    },
  }),
];
