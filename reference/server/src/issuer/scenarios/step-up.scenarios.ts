import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import {
  CancelPaymentRequestSchema,
  ConfirmPaymentRequestSchema,
  DeclineReason,
  GetPaymentRequestSchema,
  GetWalletRequestSchema,
  PaymentStatus,
} from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import { type IssuerFixture, PASSWORD, type TestMerchant, type TestWallet } from "../testing.js";

const confirm = (f: IssuerFixture, w: TestWallet, paymentId: string, password = PASSWORD) =>
  f.issuer
    .confirmPayment(w.principal, create(ConfirmPaymentRequestSchema, { paymentId, password }))
    .then((r) => r.payment!);

const get = (f: IssuerFixture, m: TestMerchant, paymentId: string) =>
  f.issuer
    .getPayment(
      m.principal,
      create(GetPaymentRequestSchema, { lookup: { case: "paymentId", value: paymentId } }),
    )
    .then((r) => r.payment!);

/** Step-up (password) above the password-free limits, confirmation, and auto-close. */
export function stepUpScenarios(fx: () => IssuerFixture): void {
  describe("step-up", () => {
    it("above the per-payment password-free limit → PENDING_CONFIRMATION with deadline now + 60 s", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const p = await f.scan(m, f.onlineCode(w), 100_001);
      expect(p.status).toBe(PaymentStatus.PENDING_CONFIRMATION);
      expect(timestampMs(p.confirmDeadline!)).toBe(f.clock.now() + 60_000);
      expect(await f.balance(w)).toBe(200_000n);
      // Exactly the limit is password-free.
      expect((await f.scan(m, f.onlineCode(w), 100_000)).status).toBe(PaymentStatus.SUCCEEDED);
    });

    it("the daily password-free amount", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000, { dailyPasswordFreeAmount: 1_000n });
      expect((await f.scan(m, f.onlineCode(w), 600)).status).toBe(PaymentStatus.SUCCEEDED);
      expect((await f.scan(m, f.onlineCode(w), 500)).status).toBe(
        PaymentStatus.PENDING_CONFIRMATION,
      );
      expect((await f.scan(m, f.onlineCode(w), 400)).status).toBe(PaymentStatus.SUCCEEDED);
    });

    it("the daily password-free count, reset on the next UTC day", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000, { dailyPasswordFreeCount: 2 });
      expect((await f.scan(m, f.onlineCode(w), 10)).status).toBe(PaymentStatus.SUCCEEDED);
      expect((await f.scan(m, f.onlineCode(w), 10)).status).toBe(PaymentStatus.SUCCEEDED);
      expect((await f.scan(m, f.onlineCode(w), 10)).status).toBe(
        PaymentStatus.PENDING_CONFIRMATION,
      );
      const now = f.clock.now();
      f.clock.set(Math.ceil((now + 1) / 86_400_000) * 86_400_000 + 1_000);
      expect((await f.scan(m, f.onlineCode(w), 10)).status).toBe(PaymentStatus.SUCCEEDED);
    });

    it("declines and pending payments do not use the password-free allowance", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(1_000, { dailyPasswordFreeCount: 1, perPaymentPasswordFree: 500n });
      expect((await f.scan(m, f.onlineCode(w), 5_000)).declineReason).toBe(
        DeclineReason.INSUFFICIENT_FUNDS,
      );
      expect((await f.scan(m, f.onlineCode(w), 600)).status).toBe(
        PaymentStatus.PENDING_CONFIRMATION,
      );
      expect((await f.scan(m, f.onlineCode(w), 100)).status).toBe(PaymentStatus.SUCCEEDED);
    });

    it("insufficient funds are declined at scan time even above the limit", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(100_000);
      expect((await f.scan(m, f.onlineCode(w), 150_000)).declineReason).toBe(
        DeclineReason.INSUFFICIENT_FUNDS,
      );
    });
  });

  describe("ConfirmPayment", () => {
    it("the right password → SUCCEEDED and money moves; confirmed payments do not count as password-free", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000, { perPaymentPasswordFree: 100n, dailyPasswordFreeCount: 1 });
      const pending = await f.scan(m, f.onlineCode(w), 1_000);
      const done = await confirm(f, w, pending.paymentId);
      expect(done.status).toBe(PaymentStatus.SUCCEEDED);
      expect(done.confirmDeadline).toBeUndefined();
      expect(await f.balance(w)).toBe(9_000n);
      expect(await f.balance(m)).toBe(1_000n);
      expect((await get(f, m, pending.paymentId)).status).toBe(PaymentStatus.SUCCEEDED);
      // The one password-free payment of the day is still available.
      expect((await f.scan(m, f.onlineCode(w), 50)).status).toBe(PaymentStatus.SUCCEEDED);
      expect((await f.scan(m, f.onlineCode(w), 50)).status).toBe(
        PaymentStatus.PENDING_CONFIRMATION,
      );
    });

    it("a wrong password → permission_denied; the payment stays pending", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const p = await f.scan(m, f.onlineCode(w), 150_000);
      await expect(confirm(f, w, p.paymentId, "wrong")).rejects.toMatchObject({
        code: Code.PermissionDenied,
      });
      expect((await get(f, m, p.paymentId)).status).toBe(PaymentStatus.PENDING_CONFIRMATION);
      expect(await f.balance(w)).toBe(200_000n);
    });

    it("another wallet's payment or an unknown id → not_found", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const other = await f.payer(200_000);
      const p = await f.scan(m, f.onlineCode(w), 150_000);
      await expect(confirm(f, other, p.paymentId)).rejects.toMatchObject({ code: Code.NotFound });
      await expect(confirm(f, w, "pay_nope")).rejects.toMatchObject({ code: Code.NotFound });
    });

    it("not pending → failed_precondition", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const p = await f.scan(m, f.onlineCode(w), 100);
      await expect(confirm(f, w, p.paymentId)).rejects.toMatchObject({
        code: Code.FailedPrecondition,
      });
    });

    it("past the deadline → CLOSED and failed_precondition; no money moves", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const p = await f.scan(m, f.onlineCode(w), 150_000);
      f.clock.advance(59_999);
      expect((await get(f, m, p.paymentId)).status).toBe(PaymentStatus.PENDING_CONFIRMATION);
      f.clock.advance(1);
      await expect(confirm(f, w, p.paymentId)).rejects.toMatchObject({
        code: Code.FailedPrecondition,
      });
      expect((await get(f, m, p.paymentId)).status).toBe(PaymentStatus.CLOSED);
      expect(await f.balance(w)).toBe(200_000n);
    });

    it("a balance spent meanwhile → DECLINED INSUFFICIENT_FUNDS", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(1_000, { perPaymentPasswordFree: 700n });
      const p = await f.scan(m, f.onlineCode(w), 800);
      expect((await f.scan(m, f.onlineCode(w), 500)).status).toBe(PaymentStatus.SUCCEEDED);
      const r = await confirm(f, w, p.paymentId);
      expect(r).toMatchObject({
        status: PaymentStatus.DECLINED,
        declineReason: DeclineReason.INSUFFICIENT_FUNDS,
      });
      expect(await f.balance(w)).toBe(500n);
    });

    it("a revoked wallet cannot confirm", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const p = await f.scan(m, f.onlineCode(w), 150_000);
      await f.wallet(w.accountId); // re-provisioning revokes w
      await expect(confirm(f, w, p.paymentId)).rejects.toMatchObject({
        code: Code.PermissionDenied,
      });
    });
  });

  describe("auto-close", () => {
    it("a pending payment reads as CLOSED after its deadline (lazily), and moves no money", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const p = await f.scan(m, f.onlineCode(w), 150_000);
      f.clock.advance(60_000);
      const closed = await get(f, m, p.paymentId);
      expect(closed.status).toBe(PaymentStatus.CLOSED);
      expect(closed.confirmDeadline).toBeUndefined();
      expect(timestampMs(closed.updatedAt!)).toBe(timestampMs(p.confirmDeadline!));
      const wallet = await f.issuer.getWallet(w.principal);
      expect(wallet.pendingPayments).toEqual([]);
      expect(await f.balance(w)).toBe(200_000n);
    });

    it("the sweep closes pending payments past their deadline", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const p = await f.scan(m, f.onlineCode(w), 150_000);
      expect(
        (await f.issuer.getWallet(w.principal)).pendingPayments.map((x) => x.paymentId),
      ).toEqual([p.paymentId]);
      f.clock.advance(61_000);
      expect(await f.issuer.sweepExpired()).toBeGreaterThanOrEqual(1);
      const after = await get(f, m, p.paymentId);
      expect(after.status).toBe(PaymentStatus.CLOSED);
      expect(timestampMs(after.updatedAt!)).toBe(timestampMs(p.confirmDeadline!));
      expect(await f.issuer.sweepExpired()).toBe(0);
    });

    it("a retried Scan of an expired pending order returns it CLOSED", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const code = f.onlineCode(w);
      await f.scan(m, code, 150_000, "pending-order");
      f.clock.advance(90_000);
      expect((await f.scan(m, code, 150_000, "pending-order")).status).toBe(PaymentStatus.CLOSED);
    });

    it("cancel after the deadline: CLOSED by the rule, action NONE", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(200_000);
      const p = await f.scan(m, f.onlineCode(w), 150_000);
      f.clock.advance(60_000);
      const r = await f.issuer.cancelPayment(
        m.principal,
        create(CancelPaymentRequestSchema, { lookup: { case: "paymentId", value: p.paymentId } }),
      );
      expect(r.payment?.status).toBe(PaymentStatus.CLOSED);
      expect(r.action).toBe(3); // NONE
    });
  });

  it("GetWallet shows balance, limits and pending payments", async () => {
    const f = fx();
    const m = await f.merchant();
    const w = await f.payer(200_000);
    await f.scan(m, f.onlineCode(w), 150_000);
    const r = await f.issuer.getWallet(w.principal);
    expect(r.walletId).toBe(w.provision.walletId);
    expect(r.accountId).toBe(w.accountId);
    expect(r.balance?.amountMinor).toBe(200_000n);
    expect(r.revoked).toBe(false);
    expect(r.pendingPayments).toHaveLength(1);
    expect(r.limits?.perPaymentPasswordFree?.amountMinor).toBe(100_000n);
    expect(create(GetWalletRequestSchema, {})).toBeDefined();
  });
}
