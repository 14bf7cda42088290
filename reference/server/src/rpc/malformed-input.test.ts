import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { HealthService, PaymentStatus, WalletService } from "@paycode/protocol/v1";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawPost } from "../testing/raw-http.js";
import {
  type Harness,
  sqliteStores,
  startHarness,
  type TestMerchant,
  type TestTerminal,
  type TestWallet,
} from "./testing/harness.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const text = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", " ", "\u0000", "o\nx", "x".repeat(65), "x".repeat(64), "CNY", "62"),
);
const currency = fc.oneof(
  fc.constantFrom("CNY", "USD", "cny", "", "CNYY", "C1Y"),
  fc.string({ maxLength: 5 }),
);
const amount = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
const money = fc.option(fc.record({ currency, amountMinor: amount }), { nil: undefined });
const code = fc.oneof(
  text,
  fc.stringMatching(/^[0-9]{16,20}$/),
  fc.stringMatching(/^62[0-9]{16}$/),
  fc.string({ maxLength: 200 }).map((s) => `PC1:${s}`),
  fc.constantFrom("x".repeat(2049), "6".repeat(2048)),
);

/** Codes a well-behaved server may answer a malformed call with; never internal or unknown. */
const CLIENT_ERRORS = new Set<Code>([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.FailedPrecondition,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.OutOfRange,
]);

async function outcome(p: Promise<unknown>): Promise<"ok" | Code> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    if (!CLIENT_ERRORS.has(e.code)) {
      throw new Error(`server answered ${Code[e.code]}: ${e.rawMessage}`);
    }
    return e.code;
  }
}

const runs = { numRuns: 120 };

describe("malformed RPC input against the real issuer", () => {
  const stores = sqliteStores();
  let h: Harness;
  let m: TestMerchant;
  let t: TestTerminal;
  let w: TestWallet;
  beforeAll(async () => {
    h = await startHarness(await stores.url());
    m = await h.newMerchant();
    t = await h.newTerminal(m.merchantId);
    w = await h.newWallet({ balance: 1_000n });
  });
  afterAll(async () => {
    await h?.close();
    await stores.cleanup();
  });

  it("Scan: invalid_argument, already_exists, or a declined payment", async () => {
    await fc.assert(
      fc.asyncProperty(text, money, code, text, async (outTradeNo, amt, c, subject) => {
        try {
          const r = await m.merchant.scan({ outTradeNo, amount: amt, code: c, subject });
          // Garbage codes never pay.
          expect(PaymentStatus[r.payment!.status]).toBe("DECLINED");
        } catch (e) {
          if (!(e instanceof ConnectError)) throw e;
          expect(
            [Code.InvalidArgument, Code.AlreadyExists],
            `${Code[e.code]}: ${e.rawMessage}`,
          ).toContain(e.code);
        }
      }),
      runs,
    );
  });

  it("the validation rules of Scan hold at the edges", async () => {
    const ok = { outTradeNo: "edge", amount: { currency: "CNY", amountMinor: 1n }, code: "62" };
    const bad: [string, object][] = [
      ["empty order", { ...ok, outTradeNo: "" }],
      ["65-char order", { ...ok, outTradeNo: "x".repeat(65) }],
      ["non-printable order", { ...ok, outTradeNo: "a\u0007b" }],
      ["non-ASCII order", { ...ok, outTradeNo: "café" }],
      ["missing amount", { ...ok, amount: undefined }],
      ["zero amount", { ...ok, amount: { currency: "CNY", amountMinor: 0n } }],
      ["negative amount", { ...ok, amount: { currency: "CNY", amountMinor: -5n } }],
      ["lower-case currency", { ...ok, amount: { currency: "cny", amountMinor: 1n } }],
      ["empty code", { ...ok, code: "" }],
      ["2049-char code", { ...ok, code: "6".repeat(2049) }],
    ];
    for (const [name, req] of bad) {
      expect(await outcome(m.merchant.scan(req)), name).toBe(Code.InvalidArgument);
    }
    const huge = await m.merchant.scan({
      ...ok,
      outTradeNo: "huge",
      amount: { currency: "CNY", amountMinor: INT64_MAX },
    });
    expect(PaymentStatus[huge.payment!.status]).toBe("DECLINED");
  });

  it("every other RPC answers garbage with a client error", async () => {
    const lookup = fc.oneof(
      fc.constant({ case: undefined }),
      text.map((value) => ({ case: "paymentId" as const, value })),
      text.map((value) => ({ case: "outTradeNo" as const, value })),
    );
    const ts = fc.option(
      fc.integer({ min: -1e13, max: 1e13 }).map((ms) => timestampFromMs(ms)),
      {
        nil: undefined,
      },
    );
    const record = fc.record({
      recordId: text,
      code,
      amount: money,
      acceptedAt: ts,
      keysSyncedAt: ts,
    });
    const calls = fc.oneof(
      lookup.map((l) => () => m.merchant.getPayment({ lookup: l as never })),
      lookup.map((l) => () => m.merchant.cancelPayment({ lookup: l as never })),
      fc
        .record({ paymentId: text, outRefundNo: text, amount: money, reason: text })
        .map((r) => () => m.merchant.refundPayment(r)),
      fc
        .record({ batchId: text, records: fc.array(record, { maxLength: 4 }) })
        .map((r) => () => t.settlement.uploadOfflineBatch(r)),
      fc
        .record({
          date: fc.oneof(text, fc.constantFrom("2026-02-30", "2026-13-01", "9999-12-31")),
          currency,
        })
        .map((r) => () => m.settlement.getSettlementReport(r)),
      fc
        .record({
          accountId: text,
          password: text,
          walletPublicKey: fc.uint8Array({ maxLength: 40 }),
          deviceLabel: text,
        })
        .map((r) => () => anonymousWallet.provisionSeed(r)),
      fc.record({ paymentId: text, password: text }).map((r) => () => w.wallet.confirmPayment(r)),
      fc
        .record({
          password: text,
          balance: money,
          limits: fc.option(
            fc.record({ perPaymentPasswordFree: money, dailyPasswordFreeCount: fc.nat() }),
            { nil: undefined },
          ),
        })
        .map((r) => () => h.control.createAccount(r)),
      fc
        .oneof(
          text.map((value) => ({ case: "accountId" as const, value })),
          text.map((value) => ({ case: "merchantId" as const, value })),
          fc.constant({ case: undefined }),
        )
        .map((owner) => () => h.control.getBalance({ owner: owner as never })),
      currency.map((c) => () => h.control.getLedgerTotal({ currency: c })),
      text.map((name) => () => h.control.createMerchant({ name })),
      text.map((merchantId) => () => h.control.createTerminal({ merchantId })),
      fc.constant(() => h.control.advanceClock({ seconds: 0 })),
    );
    const anonymousWallet = h.transport().client(WalletService);
    await fc.assert(
      fc.asyncProperty(calls, async (call) => {
        await outcome(call());
      }),
      { numRuns: 400 },
    );
    await h.expectLedgerBalanced();
  });

  it("answers random bytes on every endpoint without an internal error, then still serves", async () => {
    const paths = [
      "/paycode.v1.MerchantService/Scan",
      "/paycode.v1.MerchantService/GetPayment",
      "/paycode.v1.MerchantService/RefundPayment",
      "/paycode.v1.SettlementService/UploadOfflineBatch",
      "/paycode.v1.SettlementService/GetSettlementReport",
      "/paycode.v1.WalletService/ProvisionSeed",
      "/paycode.v1.WalletService/ConfirmPayment",
      "/paycode.v1.ConformanceService/CreateAccount",
      "/paycode.v1.ConformanceService/GetBalance",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.constantFrom(m.apiKey, t.apiKey, w.token),
        fc.oneof(
          fc
            .uint8Array({ maxLength: 400 })
            .map((b) => ({ ct: "application/proto", body: b as Uint8Array | string })),
          fc
            .json({ maxDepth: 3 })
            .map((s) => ({ ct: "application/json", body: s as Uint8Array | string })),
        ),
        async (path, key, { ct, body }) => {
          const r = await rawPost(
            h.url,
            path,
            { "content-type": ct, authorization: `Bearer ${key}` },
            body,
          );
          expect(r.status, r.body.toString()).toBeLessThan(500);
        },
      ),
      { numRuns: 400 },
    );
    await h.transport().client(HealthService).ping({});
    await h.expectLedgerBalanced();
  });
});
