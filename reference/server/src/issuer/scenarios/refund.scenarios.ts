import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  CancelAction,
  CancelPaymentRequestSchema,
  GetPaymentRequestSchema,
  MoneySchema,
  PaymentStatus,
  RefundPaymentRequestSchema,
} from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import { cny, type IssuerFixture, type TestMerchant } from "../testing.js";

const refund = (
  f: IssuerFixture,
  m: TestMerchant,
  paymentId: string,
  outRefundNo: string,
  amount: bigint | number,
) =>
  f.issuer.refundPayment(
    m.principal,
    create(RefundPaymentRequestSchema, {
      paymentId,
      outRefundNo,
      amount: cny(amount),
      reason: "r",
    }),
  );

const cancel = (
  f: IssuerFixture,
  m: TestMerchant,
  lookup: { case: "paymentId" | "outTradeNo"; value: string },
) => f.issuer.cancelPayment(m.principal, create(CancelPaymentRequestSchema, { lookup }));

const get = (
  f: IssuerFixture,
  m: TestMerchant,
  lookup: { case: "paymentId" | "outTradeNo"; value: string },
) =>
  f.issuer
    .getPayment(m.principal, create(GetPaymentRequestSchema, { lookup }))
    .then((r) => r.payment!);

/** GetPayment isolation, CancelPayment and RefundPayment. */
export function refundScenarios(fx: () => IssuerFixture): void {
  describe("GetPayment", () => {
    it("by payment id and by out_trade_no; another merchant's → not_found", async () => {
      const f = fx();
      const [m, other] = [await f.merchant(), await f.merchant()];
      const w = await f.payer(10_000);
      const p = await f.scan(m, f.onlineCode(w), 100, "get-me");
      expect(await get(f, m, { case: "paymentId", value: p.paymentId })).toEqual(p);
      expect(await get(f, m, { case: "outTradeNo", value: "get-me" })).toEqual(p);
      await expect(get(f, other, { case: "paymentId", value: p.paymentId })).rejects.toMatchObject({
        code: Code.NotFound,
      });
      await expect(get(f, other, { case: "outTradeNo", value: "get-me" })).rejects.toMatchObject({
        code: Code.NotFound,
      });
      await expect(
        f.issuer.getPayment(m.principal, create(GetPaymentRequestSchema, {})),
      ).rejects.toMatchObject({ code: Code.InvalidArgument });
    });

    it("declined payments are recorded and queryable", async () => {
      const f = fx();
      const m = await f.merchant();
      const p = await f.scan(m, "123", 100, "declined-order");
      expect((await get(f, m, { case: "outTradeNo", value: "declined-order" })).status).toBe(
        PaymentStatus.DECLINED,
      );
      expect(p.status).toBe(PaymentStatus.DECLINED);
    });
  });

  describe("CancelPayment", () => {
    it("pending → CLOSED (action CLOSED), no money moves", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const p = await f.scan(m, f.onlineCode(w), 150_000);
      const r = await cancel(f, m, { case: "paymentId", value: p.paymentId });
      expect(r.action).toBe(CancelAction.CLOSED);
      expect(r.payment?.status).toBe(PaymentStatus.CLOSED);
      expect(await f.balance(w)).toBe(200_000n);
      // Cancel is final: again → NONE.
      expect((await cancel(f, m, { case: "paymentId", value: p.paymentId })).action).toBe(
        CancelAction.NONE,
      );
    });

    it("succeeded → full refund of what remains (action REFUNDED), by out_trade_no", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const p = await f.scan(m, f.onlineCode(w), 3_000, "cancel-me");
      await refund(f, m, p.paymentId, "part", 1_000);
      const r = await cancel(f, m, { case: "outTradeNo", value: "cancel-me" });
      expect(r.action).toBe(CancelAction.REFUNDED);
      expect(r.payment?.status).toBe(PaymentStatus.REFUNDED);
      expect(r.payment?.refunded?.amountMinor).toBe(3_000n);
      expect(await f.balance(w)).toBe(10_000n);
      expect(await f.balance(m)).toBe(0n);
      expect((await cancel(f, m, { case: "outTradeNo", value: "cancel-me" })).action).toBe(
        CancelAction.NONE,
      );
      expect(await f.balance(w)).toBe(10_000n);
    });

    it("declined → NONE; another merchant's → not_found", async () => {
      const f = fx();
      const [m, other] = [await f.merchant(), await f.merchant()];
      const p = await f.scan(m, "999", 100);
      expect((await cancel(f, m, { case: "paymentId", value: p.paymentId })).action).toBe(
        CancelAction.NONE,
      );
      await expect(
        cancel(f, other, { case: "paymentId", value: p.paymentId }),
      ).rejects.toMatchObject({
        code: Code.NotFound,
      });
    });
  });

  describe("RefundPayment", () => {
    it("partial refunds move money back; the last one makes the payment REFUNDED", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const p = await f.scan(m, f.onlineCode(w), 1_000);
      const r1 = await refund(f, m, p.paymentId, "r1", 400);
      expect(r1.payment?.status).toBe(PaymentStatus.SUCCEEDED);
      expect(r1.payment?.refunded?.amountMinor).toBe(400n);
      expect(r1.refund).toMatchObject({ paymentId: p.paymentId, outRefundNo: "r1" });
      expect(await f.balance(w)).toBe(9_400n);
      const r2 = await refund(f, m, p.paymentId, "r2", 600);
      expect(r2.payment?.status).toBe(PaymentStatus.REFUNDED);
      expect(await f.balance(w)).toBe(10_000n);
      expect(await f.balance(m)).toBe(0n);
    });

    it("same out_refund_no: same amount → the same refund, once; different → already_exists", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const p = await f.scan(m, f.onlineCode(w), 1_000);
      const a = await refund(f, m, p.paymentId, "dup", 300);
      const b = await refund(f, m, p.paymentId, "dup", 300);
      expect(b.refund).toEqual(a.refund);
      expect(await f.balance(w)).toBe(9_300n);
      await expect(refund(f, m, p.paymentId, "dup", 301)).rejects.toMatchObject({
        code: Code.AlreadyExists,
      });
    });

    it("more than remains → failed_precondition", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const p = await f.scan(m, f.onlineCode(w), 1_000);
      await refund(f, m, p.paymentId, "a", 700);
      await expect(refund(f, m, p.paymentId, "b", 301)).rejects.toMatchObject({
        code: Code.FailedPrecondition,
      });
      await refund(f, m, p.paymentId, "c", 300);
      await expect(refund(f, m, p.paymentId, "d", 1)).rejects.toMatchObject({
        code: Code.FailedPrecondition,
      });
    });

    it("only SUCCEEDED payments: pending, declined → failed_precondition", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const pending = await f.scan(m, f.onlineCode(w), 150_000);
      const declined = await f.scan(m, "1", 100);
      await expect(refund(f, m, pending.paymentId, "x", 1)).rejects.toMatchObject({
        code: Code.FailedPrecondition,
      });
      await expect(refund(f, m, declined.paymentId, "x", 1)).rejects.toMatchObject({
        code: Code.FailedPrecondition,
      });
    });

    it("another merchant's payment → not_found; bad requests → invalid_argument", async () => {
      const f = fx();
      const [m, other] = [await f.merchant(), await f.merchant()];
      const w = await f.payer(10_000);
      const p = await f.scan(m, f.onlineCode(w), 1_000);
      await expect(refund(f, other, p.paymentId, "x", 1)).rejects.toMatchObject({
        code: Code.NotFound,
      });
      await expect(refund(f, m, p.paymentId, "", 1)).rejects.toMatchObject({
        code: Code.InvalidArgument,
      });
      await expect(refund(f, m, p.paymentId, "x", 0)).rejects.toMatchObject({
        code: Code.InvalidArgument,
      });
      await expect(
        f.issuer.refundPayment(
          m.principal,
          create(RefundPaymentRequestSchema, {
            paymentId: p.paymentId,
            outRefundNo: "usd",
            amount: create(MoneySchema, { currency: "USD", amountMinor: 1n }),
          }),
        ),
      ).rejects.toMatchObject({ code: Code.InvalidArgument });
    });

    it("concurrent refunds never exceed the payment", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const p = await f.scan(m, f.onlineCode(w), 1_000);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => refund(f, m, p.paymentId, `c${i}`, 300)),
      );
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(3);
      expect(await f.balance(w)).toBe(9_900n);
    });
  });
}
