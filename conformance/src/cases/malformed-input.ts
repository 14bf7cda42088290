import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { generateEd25519, toBase45 } from "@paycode/protocol";
import {
  DeclineReason,
  MoneySchema,
  OfflineCodeSchema,
  OfflineRecordSchema,
  RecordOutcome,
  WalletCertificateSchema,
} from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { decodeOwnOfflineCode, encodeOfflineEnvelope } from "../fixtures/sim-wallet.js";
import { balances, walletAndMerchant } from "./common.js";
import { concat, lenField, overlongLenField, reversedFields } from "./offline-wire.js";

/** Requests that break validation rules are refused with invalid_argument and change nothing. */
export const malformedInputCases: Case[] = [
  defineCase({
    id: "malformed-input/scan-bad-out-trade-no",
    title:
      "Scan with an empty, 65-character or non-printable out_trade_no fails invalid_argument and burns nothing",
    requirements: ["SCAN-1", "RPC-5", "SEC-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      for (const [what, outTradeNo] of [
        ["empty", ""],
        ["65 characters", "x".repeat(65)],
        ["a newline", "order\n1"],
        ["a non-ASCII character", "ordér-1"],
        ["a DEL character", "order\x7f"],
      ] as const) {
        await ctx.expect.error(
          merchant.scan(code, 100n, { outTradeNo }),
          Code.InvalidArgument,
          `Scan with out_trade_no ${what}`,
        );
      }
      ctx.expect.succeeded(
        await merchant.scan(code, 100n, { outTradeNo: "~".repeat(64) }),
        "Scan of the same code with a 64-character out_trade_no",
      );
      await balances(ctx, wallet, merchant, 9_900n, 100n, "after the one valid Scan");
    },
  }),
  defineCase({
    id: "malformed-input/scan-bad-amount",
    title:
      "Scan with a missing, zero or negative amount, or a bad currency, fails invalid_argument",
    requirements: ["SCAN-1", "RPC-5"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      const cur = ctx.profile.currency;
      for (const [what, amount] of [
        ["no amount", undefined],
        ["amount 0", create(MoneySchema, { currency: cur, amountMinor: 0n })],
        ["amount -100", create(MoneySchema, { currency: cur, amountMinor: -100n })],
        ["currency 'cny'", create(MoneySchema, { currency: cur.toLowerCase(), amountMinor: 100n })],
        ["currency 'CN'", create(MoneySchema, { currency: "CN", amountMinor: 100n })],
        ["empty currency", create(MoneySchema, { currency: "", amountMinor: 100n })],
      ] as const) {
        await ctx.expect.error(
          merchant.client.scan({
            outTradeNo: ctx.fixtures.orderNo(),
            code,
            subject: "",
            ...(amount ? { amount } : {}),
          }),
          Code.InvalidArgument,
          `Scan with ${what}`,
        );
      }
      ctx.expect.succeeded(await merchant.scan(code, 100n), "the same code with a valid amount");
    },
  }),
  defineCase({
    id: "malformed-input/scan-bad-code-field",
    title:
      "Scan with an empty code, a code over 2048 characters or a subject over 256 fails invalid_argument",
    requirements: ["SCAN-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const code = wallet.onlineCode();
      await ctx.expect.error(
        merchant.scan("", 100n),
        Code.InvalidArgument,
        "Scan with an empty code",
      );
      await ctx.expect.error(
        merchant.scan(`PC1:${"A".repeat(2045)}`, 100n),
        Code.InvalidArgument,
        "Scan with a 2049-character code",
      );
      await ctx.expect.error(
        merchant.scan(code, 100n, { subject: "s".repeat(257) }),
        Code.InvalidArgument,
        "Scan with a 257-character subject",
      );
      ctx.expect.succeeded(await merchant.scan(code, 100n), "the same code afterwards");
    },
  }),
  defineCase({
    id: "malformed-input/scan-currency-mismatch",
    title:
      "Scan in a currency other than the payer's is declined CURRENCY_MISMATCH and the code is burned",
    requirements: ["SCAN-8", "SCAN-4"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      const other = ctx.profile.currency === "USD" ? "EUR" : "USD";
      const p = await merchant.scan(code, 100n, { currency: other });
      ctx.expect.declined(p, DeclineReason.CURRENCY_MISMATCH, `Scan in ${other}`);
      ctx.expect.declined(
        await merchant.scan(code, 100n),
        DeclineReason.CODE_REUSED,
        "the same code again",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "malformed-input/garbage-offline-codes",
    title: "Truncated, non-base45 and trailing-garbage PC1: codes are declined CODE_MALFORMED",
    requirements: ["QR-4", "VERIFY-9", "RPC-6"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const good = wallet.offlineCode();
      for (const [what, bad] of [
        ["a truncated code", good.slice(0, good.length - 9)],
        ["lower-case base45", good.toLowerCase().replace(/^pc1:/, "PC1:")],
        ["a non-base45 character", `${good.slice(0, 20)}#${good.slice(21)}`],
        ["only the prefix", "PC1:"],
        ["an appended byte", `${good}00`],
      ] as const) {
        ctx.expect.declined(
          await merchant.scan(bad, 100n),
          DeclineReason.CODE_MALFORMED,
          `Scan of ${what}`,
        );
      }
      ctx.expect.declined(
        await merchant.scan("hello, world", 100n),
        DeclineReason.CODE_MALFORMED,
        "Scan of text that is neither 18 digits nor PC1:",
      );
      ctx.expect.succeeded(await merchant.scan(good, 100n), "the genuine code afterwards");
      await balances(ctx, wallet, merchant, 9_900n, 100n, "after the one valid Scan");
    },
  }),
  defineCase({
    id: "malformed-input/upload-bad-batch",
    title:
      "UploadOfflineBatch with a bad batch_id or over 1000 records fails invalid_argument; a bad record_id is a per-record REJECTED_MALFORMED",
    requirements: ["SETTLE-3"],
    features: ["offline-settlement"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const terminal = await ctx.fixtures.terminal(merchant);
      await terminal.sync();
      const rec = terminal.record(wallet.offlineCode(), 100n);
      const many = Array.from({ length: 1001 }, (_, i) =>
        create(OfflineRecordSchema, { ...rec, recordId: `r${i}` }),
      );
      for (const [what, batchId, records] of [
        ["an empty batch_id", "", [rec]],
        ["a 65-character batch_id", "b".repeat(65), [rec]],
        ["1001 records", ctx.fixtures.uniqueId("b"), many],
      ] as const) {
        await ctx.expect.error(
          terminal.settlement.uploadOfflineBatch({ batchId, records: [...records] }),
          Code.InvalidArgument,
          `UploadOfflineBatch with ${what}`,
        );
      }
      for (const [what, recordId] of [
        ["an empty record_id", ""],
        ["a 129-character record_id", "r".repeat(129)],
      ] as const) {
        const bad = await terminal.settlement.uploadOfflineBatch({
          batchId: ctx.fixtures.uniqueId("b"),
          records: [create(OfflineRecordSchema, { ...rec, recordId })],
        });
        ctx.expect.equal(bad.results.length, 1, `results of a batch with ${what}`);
        ctx.expect.equal(
          bad.results[0]!.outcome,
          RecordOutcome.REJECTED_MALFORMED,
          `outcome of a record with ${what}`,
        );
      }
      const ok = await terminal.upload([rec]);
      ctx.expect.that(ok.results.length === 1, "the valid batch got no result");
      const empty = await terminal.settlement.uploadOfflineBatch({
        batchId: ctx.fixtures.uniqueId("b"),
        records: [],
      });
      ctx.expect.equal(empty.results.length, 0, "results of an empty batch");
    },
  }),
  defineCase({
    id: "malformed-input/provision-bad-key",
    title: "ProvisionSeed with a wallet public key that is not 32 bytes fails invalid_argument",
    requirements: ["WALLET-2"],
    async run(ctx: CaseContext) {
      const account = await ctx.fixtures.account();
      const key = generateEd25519().publicKey;
      for (const [what, walletPublicKey] of [
        ["31 bytes", key.slice(0, 31)],
        ["33 bytes", new Uint8Array([...key, 0])],
        ["no key", new Uint8Array()],
      ] as const) {
        await ctx.expect.error(
          ctx.raw.wallet().provisionSeed({
            accountId: account.accountId,
            password: account.password,
            walletPublicKey,
            deviceLabel: "x",
          }),
          Code.InvalidArgument,
          `ProvisionSeed with a key of ${what}`,
        );
      }
    },
  }),
  defineCase({
    id: "malformed-input/refund-bad-request",
    title:
      "RefundPayment with a bad out_refund_no or amount fails invalid_argument and moves nothing",
    requirements: ["RPC-5", "SEC-1"],
    features: ["refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const p = await merchant.scan(wallet.onlineCode(), 1_000n);
      ctx.expect.succeeded(p, "Scan");
      for (const [what, outRefundNo, amount] of [
        ["an empty out_refund_no", "", 100n],
        ["a 65-character out_refund_no", "r".repeat(65), 100n],
        ["amount 0", "ok-1", 0n],
        ["amount -5", "ok-2", -5n],
      ] as const) {
        await ctx.expect.error(
          merchant.client.refundPayment({
            paymentId: p.paymentId,
            outRefundNo,
            amount: ctx.fixtures.money(amount),
            reason: "",
          }),
          Code.InvalidArgument,
          `RefundPayment with ${what}`,
        );
      }
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "nothing moved");
    },
  }),
  defineCase({
    id: "malformed-input/lookup-unset",
    title: "GetPayment and CancelPayment with no lookup set fail invalid_argument",
    requirements: ["RPC-5"],
    async run(ctx: CaseContext) {
      const merchant = await ctx.fixtures.merchant();
      await ctx.expect.error(
        merchant.client.getPayment({}),
        Code.InvalidArgument,
        "GetPayment without lookup",
      );
      await ctx.expect.error(
        merchant.client.cancelPayment({}),
        Code.InvalidArgument,
        "CancelPayment without lookup",
      );
      await ctx.expect.error(
        merchant.client.getPayment({ lookup: { case: "paymentId", value: "" } }),
        Code.InvalidArgument,
        "GetPayment with an empty payment_id",
      );
    },
  }),
  defineCase({
    id: "malformed-input/non-canonical-offline-envelope",
    title:
      "PC1: codes whose OfflineCode envelope is not the canonical encoding (fields reordered or repeated, an unknown field, an over-long length) are declined CODE_MALFORMED",
    requirements: ["QR-4", "VERIFY-9"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const good = wallet.offlineCode();
      const env = decodeOwnOfflineCode(good).envelope;
      const cert = lenField(0x0a, toBinary(WalletCertificateSchema, env.certificate!));
      const payload = lenField(0x12, env.payload);
      const sig = lenField(0x1a, env.signature);
      const text = (parts: Uint8Array[]) => `PC1:${toBase45(concat(parts))}`;
      ctx.expect.equal(text([cert, payload, sig]), good, "harness: canonical re-encoding");
      for (const [what, bad] of [
        ["fields out of order", text([payload, cert, sig])],
        [
          "the signature field twice",
          text([cert, payload, lenField(0x1a, new Uint8Array(64)), sig]),
        ],
        ["an unknown field 4", text([cert, payload, sig, new Uint8Array([0x20, 0x01])])],
        [
          "an over-long certificate length",
          text([
            overlongLenField(0x0a, toBinary(WalletCertificateSchema, env.certificate!)),
            payload,
            sig,
          ]),
        ],
      ] as const) {
        ctx.expect.declined(
          await merchant.scan(bad, 100n),
          DeclineReason.CODE_MALFORMED,
          `Scan of a code with ${what}`,
        );
      }
      ctx.expect.succeeded(await merchant.scan(good, 100n), "the genuine code afterwards");
      await balances(ctx, wallet, merchant, 9_900n, 100n, "after the one valid Scan");
    },
  }),
  defineCase({
    id: "malformed-input/non-canonical-signed-parts",
    title:
      "A PC1: code whose payload or certificate body is carried non-canonically, signed over its canonical encoding, is declined CODE_MALFORMED",
    requirements: ["QR-5", "QR-4"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const good = wallet.offlineCode();
      const env = decodeOwnOfflineCode(good).envelope;
      // The wallet signs the canonical payload but carries its fields in reverse order.
      const reordered = encodeOfflineEnvelope(
        create(OfflineCodeSchema, { ...env, payload: reversedFields(env.payload) }),
      );
      // The issuer signed the canonical body; the code carries it reordered.
      const cert = env.certificate!;
      const reorderedBody = encodeOfflineEnvelope(
        create(OfflineCodeSchema, {
          ...env,
          certificate: create(WalletCertificateSchema, {
            ...cert,
            body: reversedFields(cert.body),
          }),
        }),
      );
      for (const [what, bad] of [
        ["a reordered payload", reordered],
        ["a reordered certificate body", reorderedBody],
      ] as const) {
        ctx.expect.declined(
          await merchant.scan(bad, 100n),
          DeclineReason.CODE_MALFORMED,
          `Scan of ${what}`,
        );
      }
      ctx.expect.succeeded(await merchant.scan(good, 100n), "the genuine code afterwards");
      await balances(ctx, wallet, merchant, 9_900n, 100n, "after the one valid Scan");
    },
  }),
];
