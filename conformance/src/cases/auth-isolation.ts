import { Code } from "@connectrpc/connect";
import { MerchantService, PaymentStatus } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { balances, refundRequest, walletAndMerchant } from "./common.js";

/** A raw ScanRequest of 100 with a fresh order number, for calls made with chosen credentials. */
function scanRequest(ctx: CaseContext, code: string) {
  return {
    outTradeNo: ctx.fixtures.orderNo(),
    amount: ctx.fixtures.money(100n),
    code,
    subject: "",
  };
}

/** The fields of Connect JSON replies the codec case reads. */
interface JsonReply {
  payment?: { amount?: { amountMinor?: unknown } };
  balance?: { amountMinor?: unknown };
  keys?: { notBefore?: unknown }[];
}

/** Every call is authenticated by the right kind of credential; merchants see only their own objects. */
export const authIsolationCases: Case[] = [
  defineCase({
    id: "auth-isolation/scan-without-key",
    title:
      "Scan with no Authorization header, or a malformed one, fails unauthenticated and burns nothing",
    requirements: ["AUTH-1", "SEC-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      // A first, authenticated payment: a server must not remember it for the next caller.
      ctx.expect.succeeded(await merchant.scan(wallet.onlineCode(), 100n), "an authenticated Scan");
      const code = wallet.onlineCode();
      const req = scanRequest(ctx, code);
      await ctx.expect.error(
        ctx.raw.merchant().scan(req),
        Code.Unauthenticated,
        "Scan without credentials",
      );
      await ctx.expect.error(
        ctx.raw.withAuthorization(MerchantService, `Basic ${merchant.apiKey}`).scan(req),
        Code.Unauthenticated,
        "Scan with a Basic (not Bearer) credential",
      );
      ctx.expect.succeeded(await merchant.scan(code, 100n), "the same code with the right key");
      await balances(ctx, wallet, merchant, 9_800n, 200n, "after the two authenticated payments");
    },
  }),
  defineCase({
    id: "auth-isolation/scan-wrong-key",
    title: "Scan with an unknown merchant key fails unauthenticated",
    requirements: ["AUTH-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      // A first, authenticated call: an unknown key must not fall back to it.
      ctx.expect.succeeded(await merchant.scan(wallet.onlineCode(), 100n), "an authenticated Scan");
      const code = wallet.onlineCode();
      const req = scanRequest(ctx, code);
      const flipped = merchant.apiKey.slice(0, -1) + (merchant.apiKey.endsWith("A") ? "B" : "A");
      await ctx.expect.error(
        ctx.raw.merchant(flipped).scan(req),
        Code.Unauthenticated,
        "Scan with a wrong key",
      );
      await ctx.expect.error(
        ctx.raw.merchant("not-a-key").scan(req),
        Code.Unauthenticated,
        "Scan with a made-up key",
      );
      ctx.expect.succeeded(await merchant.scan(code, 100n), "the same code with the right key");
    },
  }),
  defineCase({
    id: "auth-isolation/wrong-kind-of-credential",
    title:
      "A terminal key cannot scan, a merchant key cannot upload, a wallet token cannot act as merchant",
    requirements: ["AUTH-1"],
    features: ["offline-settlement"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const terminal = await ctx.fixtures.terminal(merchant);
      const scan = scanRequest(ctx, wallet.onlineCode());
      await ctx.expect.error(
        ctx.raw.merchant(terminal.apiKey).scan(scan),
        Code.Unauthenticated,
        "Scan with a terminal key",
      );
      await ctx.expect.error(
        ctx.raw.merchant(wallet.token).scan(scan),
        Code.Unauthenticated,
        "Scan with a wallet token",
      );
      await ctx.expect.error(
        ctx.raw
          .settlement(merchant.apiKey)
          .uploadOfflineBatch({ batchId: ctx.fixtures.uniqueId("b"), records: [] }),
        Code.Unauthenticated,
        "UploadOfflineBatch with a merchant key",
      );
      await ctx.expect.error(
        ctx.raw
          .settlement(terminal.apiKey)
          .getSettlementReport({ date: "2025-01-01", currency: ctx.profile.currency }),
        Code.Unauthenticated,
        "GetSettlementReport with a terminal key",
      );
      await ctx.expect.error(
        ctx.raw.wallet(merchant.apiKey).getWallet({}),
        Code.Unauthenticated,
        "GetWallet with a merchant key",
      );
      ctx.expect.succeeded(await merchant.scan(scan.code, 100n), "the code with the merchant key");
    },
  }),
  defineCase({
    id: "auth-isolation/wallet-calls-need-token",
    title: "Wallet calls without a token, or with an unknown one, fail unauthenticated",
    requirements: ["AUTH-1"],
    async run(ctx: CaseContext) {
      const wallet = await ctx.fixtures.wallet();
      await wallet.client.getWallet({}); // an authenticated call first
      for (const [what, client] of [
        ["no token", ctx.raw.wallet()],
        ["an unknown token", ctx.raw.wallet(`${wallet.token}x`)],
      ] as const) {
        await ctx.expect.error(
          client.getWallet({}),
          Code.Unauthenticated,
          `GetWallet with ${what}`,
        );
        await ctx.expect.error(
          client.revokeSeed({ reason: "" }),
          Code.Unauthenticated,
          `RevokeSeed with ${what}`,
        );
        await ctx.expect.error(
          client.confirmPayment({ paymentId: "p", password: wallet.password }),
          Code.Unauthenticated,
          `ConfirmPayment with ${what}`,
        );
      }
      const g = await wallet.client.getWallet({});
      ctx.expect.equal(g.revoked, false, "GetWallet.revoked after the refused RevokeSeed calls");
    },
  }),
  defineCase({
    id: "auth-isolation/issuer-keys-need-key",
    title:
      "GetIssuerKeys without credentials fails unauthenticated; merchant and terminal keys may call it",
    requirements: ["AUTH-1"],
    features: ["offline-settlement"],
    async run(ctx: CaseContext) {
      const merchant = await ctx.fixtures.merchant();
      const terminal = await ctx.fixtures.terminal(merchant);
      await ctx.expect.error(
        ctx.raw.settlement().getIssuerKeys({}),
        Code.Unauthenticated,
        "GetIssuerKeys without a key",
      );
      await merchant.settlement.getIssuerKeys({});
      await terminal.settlement.getIssuerKeys({});
      // After authenticated calls, a call without a key is still refused: no
      // credential is remembered from an earlier request or connection.
      await ctx.expect.error(
        ctx.raw.settlement().getIssuerKeys({}),
        Code.Unauthenticated,
        "GetIssuerKeys without a key, after authenticated calls",
      );
      await ctx.expect.error(
        ctx.raw.settlement().uploadOfflineBatch({ batchId: "b", records: [] }),
        Code.Unauthenticated,
        "UploadOfflineBatch without a key",
      );
    },
  }),
  defineCase({
    id: "auth-isolation/get-other-merchants-payment",
    title:
      "GetPayment of another merchant's payment, by id or by out_trade_no, fails not_found like a missing one",
    requirements: ["SCAN-15", "AUTH-2"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const other = await ctx.fixtures.merchant();
      const p = await merchant.scan(wallet.onlineCode(), 100n);
      for (const lookup of [
        { case: "paymentId" as const, value: p.paymentId },
        { case: "outTradeNo" as const, value: p.outTradeNo },
      ]) {
        const e = await ctx.expect.error(
          other.client.getPayment({ lookup }),
          Code.NotFound,
          `GetPayment by another merchant (${lookup.case})`,
        );
        const missing = await ctx.expect.error(
          other.client.getPayment({
            lookup: { case: lookup.case, value: `${lookup.value}-missing` },
          }),
          Code.NotFound,
          `GetPayment of a missing payment (${lookup.case})`,
        );
        ctx.expect.that(
          !e.rawMessage.includes(p.paymentId) && !e.rawMessage.includes(merchant.merchantId),
          `the not_found error reveals the payment or its merchant: ${e.rawMessage}`,
        );
        void missing;
      }
    },
  }),
  defineCase({
    id: "auth-isolation/cancel-other-merchants-payment",
    title: "CancelPayment of another merchant's payment fails not_found and changes nothing",
    requirements: ["REFUND-4", "AUTH-2"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const other = await ctx.fixtures.merchant();
      const p = await merchant.scan(wallet.onlineCode(), 1_000n);
      ctx.expect.succeeded(p, "Scan");
      await ctx.expect.error(
        other.client.cancelPayment({ lookup: { case: "paymentId", value: p.paymentId } }),
        Code.NotFound,
        "CancelPayment by another merchant",
      );
      await ctx.expect.error(
        other.client.cancelPayment({ lookup: { case: "outTradeNo", value: p.outTradeNo } }),
        Code.NotFound,
        "CancelPayment by another merchant (out_trade_no)",
      );
      const g = ctx.expect.payment(
        await merchant.client.getPayment({ lookup: { case: "paymentId", value: p.paymentId } }),
        "GetPayment",
      );
      ctx.expect.status(g, PaymentStatus.SUCCEEDED, "payment after the foreign cancel");
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "nothing moved back");
    },
  }),
  defineCase({
    id: "auth-isolation/refund-other-merchants-payment",
    title: "RefundPayment of another merchant's payment fails not_found and moves nothing",
    requirements: ["REFUND-10", "AUTH-2"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const other = await ctx.fixtures.merchant();
      const p = await merchant.scan(wallet.onlineCode(), 1_000n);
      ctx.expect.succeeded(p, "Scan");
      await ctx.expect.error(
        other.client.refundPayment(refundRequest(ctx, p.paymentId, 500n)),
        Code.NotFound,
        "RefundPayment by another merchant",
      );
      await ctx.expect.error(
        merchant.client.refundPayment(refundRequest(ctx, `${p.paymentId}-missing`, 500n)),
        Code.NotFound,
        "RefundPayment of a missing payment",
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "nothing moved back");
      await ctx.expect.balance({ merchantId: other.merchantId }, 0n, "other merchant");
    },
  }),
  defineCase({
    id: "auth-isolation/ping-needs-no-credential",
    title: "HealthService.Ping answers without credentials",
    requirements: ["RPC-8", "RPC-3"],
    async run(ctx: CaseContext) {
      await ctx.raw.health().ping({});
    },
  }),
  defineCase({
    id: "auth-isolation/json-codec-every-service",
    title:
      "Every service answers the Connect JSON codec on HTTP/1.1 with the proto3 JSON mapping: int64 fields are JSON strings",
    requirements: ["RPC-3"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 1_234n);
      ctx.expect.succeeded(p, "Scan (binary codec)");
      // fetch speaks HTTP/1.1; the Connect unary protocol is a POST of the JSON message.
      const call = async (rpc: string, body: object, bearer?: string) => {
        const res = await fetch(`${ctx.target.replace(/\/$/, "")}/paycode.v1.${rpc}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "connect-protocol-version": "1",
            ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
          },
          body: JSON.stringify(body),
          signal: ctx.signal,
        });
        const text = await res.text();
        ctx.expect.equal(
          res.status,
          200,
          `${rpc} over JSON: HTTP status (body ${text.slice(0, 200)})`,
        );
        ctx.expect.that(
          (res.headers.get("content-type") ?? "").startsWith("application/json"),
          `${rpc} over JSON answers content-type ${res.headers.get("content-type")}`,
        );
        return JSON.parse(text) as JsonReply;
      };
      await call("HealthService/Ping", {});
      // The proto3 JSON mapping writes int64 and uint64 as decimal strings.
      const g = await call(
        "MerchantService/GetPayment",
        { paymentId: p.paymentId },
        merchant.apiKey,
      );
      ctx.expect.equal(
        g.payment?.amount?.amountMinor,
        "1234",
        "GetPayment JSON payment.amount.amountMinor",
      );
      const w = await call("WalletService/GetWallet", {}, wallet.token);
      ctx.expect.equal(w.balance?.amountMinor, "8766", "GetWallet JSON balance.amountMinor");
      const k = await call("SettlementService/GetIssuerKeys", {}, merchant.apiKey);
      const key = k.keys?.[0];
      ctx.expect.that(key, "GetIssuerKeys JSON lists no key");
      ctx.expect.that(
        typeof key.notBefore === "string" && /^-?\d+$/.test(key.notBefore),
        `GetIssuerKeys JSON keys[0].notBefore is ${JSON.stringify(key.notBefore)}, not an int64 string`,
      );
    },
  }),
];
