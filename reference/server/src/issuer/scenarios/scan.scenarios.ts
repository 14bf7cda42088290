import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { OnlineCodec } from "@paycode/protocol";
import {
  CodeKind,
  DeclineReason,
  MoneySchema,
  PaymentStatus,
  ScanRequestSchema,
} from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import { cny, type IssuerFixture } from "../testing.js";

/** Scan: validation, idempotency, code verdicts, burning, revocation, currency, offline codes online. */
export function scanScenarios(fx: () => IssuerFixture): void {
  describe("Scan request validation → invalid_argument naming the field", () => {
    const base = () => ({
      outTradeNo: "o-1",
      amount: cny(100),
      code: "620000000000000000",
      subject: "",
    });
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["empty out_trade_no", { outTradeNo: "" }, /out_trade_no/],
      ["65-char out_trade_no", { outTradeNo: "x".repeat(65) }, /out_trade_no/],
      ["non-printable out_trade_no", { outTradeNo: "a\u0001b" }, /out_trade_no/],
      ["non-ASCII out_trade_no", { outTradeNo: "订单" }, /out_trade_no/],
      ["missing amount", { amount: undefined }, /amount/],
      ["zero amount", { amount: cny(0) }, /amount/],
      ["negative amount", { amount: cny(-5) }, /amount/],
      [
        "lower-case currency",
        { amount: create(MoneySchema, { currency: "cny", amountMinor: 1n }) },
        /currency/,
      ],
      [
        "2-letter currency",
        { amount: create(MoneySchema, { currency: "CN", amountMinor: 1n }) },
        /currency/,
      ],
      ["empty code", { code: "" }, /code/],
      ["2049-char code", { code: "6".repeat(2049) }, /code/],
    ];
    it.each(cases)("%s", async (_name, patch, message) => {
      const f = fx();
      const m = await f.merchant();
      const req = create(ScanRequestSchema, { ...base(), ...patch });
      await expect(f.issuer.scan(m.principal, req)).rejects.toMatchObject({
        code: Code.InvalidArgument,
        rawMessage: expect.stringMatching(message),
      });
    });

    it("accepts a 64-char out_trade_no and a 2048-char code (declined, not an error)", async () => {
      const f = fx();
      const m = await f.merchant();
      const p = await f.scan(m, "6".repeat(2048), 100, "x".repeat(64));
      expect(p.declineReason).toBe(DeclineReason.CODE_MALFORMED);
    });
  });

  describe("a good online code", () => {
    it("pays: one balanced transfer payer → merchant", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const p = await f.scan(m, f.onlineCode(w), 2_500);
      expect(p).toMatchObject({
        status: PaymentStatus.SUCCEEDED,
        declineReason: DeclineReason.UNSPECIFIED,
        codeKind: CodeKind.ONLINE,
        subject: "test",
      });
      expect(p.amount?.amountMinor).toBe(2_500n);
      expect(p.refunded?.amountMinor).toBe(0n);
      expect(p.confirmDeadline).toBeUndefined();
      expect(await f.balance(w)).toBe(7_500n);
      expect(await f.balance(m)).toBe(2_500n);
    });

    it("eight codes of one minute are distinct and all pay", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const codes = Array.from({ length: 8 }, (_, counter) => f.onlineCode(w, { counter }));
      expect(new Set(codes).size).toBe(8);
      for (const code of codes)
        expect((await f.scan(m, code, 10)).status).toBe(PaymentStatus.SUCCEEDED);
      expect(await f.balance(w)).toBe(9_920n);
    });
  });

  describe("idempotency on (merchant, out_trade_no)", () => {
    it("a retry with the same amount and code returns the stored payment and debits once", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const code = f.onlineCode(w);
      const first = await f.scan(m, code, 1_000, "order-A");
      const again = await f.scan(m, code, 1_000, "order-A");
      expect(again).toEqual(first);
      expect(await f.balance(w)).toBe(9_000n);
    });

    it("a retry of a declined order returns the same decline, not CODE_REUSED", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(100);
      const code = f.onlineCode(w);
      const first = await f.scan(m, code, 1_000, "order-B");
      expect(first.declineReason).toBe(DeclineReason.INSUFFICIENT_FUNDS);
      expect(await f.scan(m, code, 1_000, "order-B")).toEqual(first);
    });

    it("a different amount or code → already_exists", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const code = f.onlineCode(w);
      await f.scan(m, code, 1_000, "order-C");
      await expect(f.scan(m, code, 1_001, "order-C")).rejects.toMatchObject({
        code: Code.AlreadyExists,
      });
      await expect(f.scan(m, f.onlineCode(w), 1_000, "order-C")).rejects.toMatchObject({
        code: Code.AlreadyExists,
      });
      expect(await f.balance(w)).toBe(9_000n);
    });

    it("the same out_trade_no at another merchant is another payment", async () => {
      const f = fx();
      const [m1, m2] = [await f.merchant(), await f.merchant()];
      const w = await f.payer(10_000);
      const a = await f.scan(m1, f.onlineCode(w), 100, "shared-no");
      const b = await f.scan(m2, f.onlineCode(w), 100, "shared-no");
      expect(a.paymentId).not.toBe(b.paymentId);
      expect(b.status).toBe(PaymentStatus.SUCCEEDED);
    });
  });

  describe("code verdicts", () => {
    it.each([
      ["too short", "62123"],
      ["19 digits", "6212345678901234567"],
      ["letters", "62ABCDEFGHIJKLMNOP"],
      ["wrong prefix", "110000000000000000"],
      ["offline prefix, garbage", "PC1:not base45!"],
      ["spaces", "62 000000000000000"],
    ])("malformed: %s → DECLINED CODE_MALFORMED", async (_n, code) => {
      const f = fx();
      const m = await f.merchant();
      const p = await f.scan(m, code, 100);
      expect(p).toMatchObject({
        status: PaymentStatus.DECLINED,
        declineReason: DeclineReason.CODE_MALFORMED,
      });
    });

    it("a tampered digit → CODE_INVALID (or MALFORMED when it decrypts out of range)", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const code = f.onlineCode(w);
      const d = Number(code[10]);
      const tampered = code.slice(0, 10) + String((d + 1) % 10) + code.slice(11);
      const p = await f.scan(m, tampered, 100);
      expect([DeclineReason.CODE_INVALID, DeclineReason.CODE_MALFORMED]).toContain(p.declineReason);
      expect(await f.balance(w)).toBe(10_000n);
      // The genuine code was not burned by the forgery.
      expect((await f.scan(m, code, 100)).status).toBe(PaymentStatus.SUCCEEDED);
    });

    it("an unknown handle → CODE_INVALID", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const p0 = w.provision.profile!;
      const codec = new OnlineCodec({
        prefix: p0.issuerPrefix,
        codeKey: p0.codeKey,
        windowBackSteps: 2,
        windowAheadSteps: 1,
        lookbackSteps: 60,
      });
      const handle = (w.provision.handle + 1) % 2 ** 28;
      const code = codec.generate({
        handle,
        seed: w.provision.seed,
        step: Math.floor(f.clock.now() / 60_000),
        counter: 0,
      });
      expect((await f.scan(m, code, 100)).declineReason).toBe(DeclineReason.CODE_INVALID);
    });

    it("a wrong seed for a real handle → CODE_INVALID", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const forged = {
        ...w,
        provision: { ...w.provision, seed: new Uint8Array(32).fill(1) },
      } as typeof w;
      expect((await f.scan(m, f.onlineCode(forged), 100)).declineReason).toBe(
        DeclineReason.CODE_INVALID,
      );
    });

    it("window: 2 steps back and 1 ahead pay; 3 back → CODE_EXPIRED; 60 back expired, 61 back invalid", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      expect((await f.scan(m, f.onlineCode(w, { stepOffset: -2 }), 1)).status).toBe(
        PaymentStatus.SUCCEEDED,
      );
      expect((await f.scan(m, f.onlineCode(w, { stepOffset: 1 }), 1)).status).toBe(
        PaymentStatus.SUCCEEDED,
      );
      expect((await f.scan(m, f.onlineCode(w, { stepOffset: -3 }), 1)).declineReason).toBe(
        DeclineReason.CODE_EXPIRED,
      );
      expect((await f.scan(m, f.onlineCode(w, { stepOffset: -60 }), 1)).declineReason).toBe(
        DeclineReason.CODE_EXPIRED,
      );
      expect((await f.scan(m, f.onlineCode(w, { stepOffset: -61 }), 1)).declineReason).toBe(
        DeclineReason.CODE_INVALID,
      );
      expect((await f.scan(m, f.onlineCode(w, { stepOffset: 2 }), 1)).declineReason).toBe(
        DeclineReason.CODE_INVALID,
      );
    });

    it("a code made offline, scanned after the window, is CODE_EXPIRED and not burned", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const code = f.onlineCode(w);
      f.clock.advance(4 * 60_000);
      expect((await f.scan(m, code, 100)).declineReason).toBe(DeclineReason.CODE_EXPIRED);
      expect((await f.scan(m, code, 100)).declineReason).toBe(DeclineReason.CODE_EXPIRED);
    });
  });

  describe("burn on first presentation", () => {
    it("a second scan (any merchant) → CODE_REUSED", async () => {
      const f = fx();
      const [m1, m2] = [await f.merchant(), await f.merchant()];
      const w = await f.payer(10_000);
      const code = f.onlineCode(w);
      expect((await f.scan(m1, code, 100)).status).toBe(PaymentStatus.SUCCEEDED);
      expect((await f.scan(m1, code, 100)).declineReason).toBe(DeclineReason.CODE_REUSED);
      expect((await f.scan(m2, code, 100)).declineReason).toBe(DeclineReason.CODE_REUSED);
      expect(await f.balance(w)).toBe(9_900n);
    });

    it("a code declined for funds stays burned", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(500);
      const code = f.onlineCode(w);
      expect((await f.scan(m, code, 1_000)).declineReason).toBe(DeclineReason.INSUFFICIENT_FUNDS);
      expect((await f.scan(m, code, 100)).declineReason).toBe(DeclineReason.CODE_REUSED);
      expect(await f.balance(w)).toBe(500n);
    });

    it("concurrent scans of one code from two merchants: exactly one success, one debit", async () => {
      const f = fx();
      const [m1, m2] = [await f.merchant(), await f.merchant()];
      const w = await f.payer(10_000);
      const code = f.onlineCode(w);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => f.scan(i % 2 ? m1 : m2, code, 700)),
      );
      expect(results.filter((p) => p.status === PaymentStatus.SUCCEEDED)).toHaveLength(1);
      expect(results.filter((p) => p.declineReason === DeclineReason.CODE_REUSED)).toHaveLength(7);
      expect(await f.balance(w)).toBe(9_300n);
    });
  });

  describe("business declines after the burn", () => {
    it("a currency other than the account's → CURRENCY_MISMATCH, and the code is burned", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const code = f.onlineCode(w);
      const usd = await f.issuer.scan(
        m.principal,
        create(ScanRequestSchema, {
          outTradeNo: f.nextId("o"),
          amount: create(MoneySchema, { currency: "USD", amountMinor: 100n }),
          code,
        }),
      );
      expect(usd.payment?.declineReason).toBe(DeclineReason.CURRENCY_MISMATCH);
      expect((await f.scan(m, code, 100)).declineReason).toBe(DeclineReason.CODE_REUSED);
    });

    it("insufficient funds → INSUFFICIENT_FUNDS, no money moves", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(999);
      expect((await f.scan(m, f.onlineCode(w), 1_000)).declineReason).toBe(
        DeclineReason.INSUFFICIENT_FUNDS,
      );
      expect((await f.scan(m, f.onlineCode(w), 999)).status).toBe(PaymentStatus.SUCCEEDED);
      expect(await f.balance(w)).toBe(0n);
    });
  });

  describe("offline codes presented online", () => {
    it("within the certificate limit: paid from the balance like an online code", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const p = await f.scan(m, f.offlineCode(w), 4_000);
      expect(p).toMatchObject({ status: PaymentStatus.SUCCEEDED, codeKind: CodeKind.OFFLINE });
      expect(await f.balance(w)).toBe(6_000n);
    });

    it("above the per-payment offline limit → LIMIT_EXCEEDED (burned)", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const code = f.offlineCode(w);
      expect((await f.scan(m, code, 5_001)).declineReason).toBe(DeclineReason.LIMIT_EXCEEDED);
      expect((await f.scan(m, code, 10)).declineReason).toBe(DeclineReason.CODE_REUSED);
    });

    it("needs the balance: insufficient → INSUFFICIENT_FUNDS", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(100);
      expect((await f.scan(m, f.offlineCode(w), 1_000)).declineReason).toBe(
        DeclineReason.INSUFFICIENT_FUNDS,
      );
    });

    it("too old → CODE_EXPIRED; signed by another key → CODE_INVALID", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const old = f.offlineCode(w, { issuedAtMs: f.clock.now() - 121_000 });
      expect((await f.scan(m, old, 100)).declineReason).toBe(DeclineReason.CODE_EXPIRED);
      const other = await f.payer(0);
      const forged = f.offlineCode({ ...w, keys: other.keys });
      expect((await f.scan(m, forged, 100)).declineReason).toBe(DeclineReason.CODE_INVALID);
    });
  });
}
