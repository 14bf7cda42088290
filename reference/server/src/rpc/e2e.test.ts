import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CancelAction,
  CodeKind,
  DeclineReason,
  PaymentStatus,
  RecordOutcome,
} from "@paycode/protocol/v1";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPostgresTestDb } from "../testing/postgres-test-db.js";
import {
  cny,
  type Harness,
  type StoreUnderTest,
  sqliteStores,
  startHarness,
  type TestMerchant,
  tsMs,
  utcDay,
} from "./testing/harness.js";

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConnectError) return Code[e.code];
    throw e;
  }
  return "ok";
}

const pg = await createPostgresTestDb("server e2e tests");
const stores: StoreUnderTest[] = [sqliteStores()];
if (pg !== undefined) {
  stores.push({ name: "postgres", url: async () => pg.url, cleanup: () => pg.drop() });
}
afterAll(async () => {
  for (const s of stores) await s.cleanup();
});

describe.each(stores)("end to end over HTTP on $name", (store) => {
  let h: Harness;
  let order = 0;
  const nextOrder = (tag = "o") => `${tag}-${++order}`;

  beforeAll(async () => {
    h = await startHarness(await store.url());
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await h.expectLedgerBalanced();
  });

  async function pay(m: TestMerchant, code: string, amount: bigint, outTradeNo = nextOrder()) {
    const r = await m.merchant.scan({ outTradeNo, amount: cny(amount), code, subject: "coffee" });
    return r.payment!;
  }

  it("provisions a wallet and pays online, moving money once", async () => {
    const m = await h.newMerchant();
    const w = await h.newWallet({ balance: 10_000n });
    expect(w.handle).toBeGreaterThanOrEqual(0);
    expect(w.seed).toHaveLength(32);
    expect(w.profile.issuerPrefix).toBe(62);
    const p = await pay(m, w.onlineCode(), 1_250n, "coffee-1");
    expect(PaymentStatus[p.status]).toBe("SUCCEEDED");
    expect(p.codeKind).toBe(CodeKind.ONLINE);
    expect(p.amount?.amountMinor).toBe(1_250n);
    expect(await h.balance(w)).toBe(8_750n);
    expect(await h.balance(m)).toBe(1_250n);
    const byId = await m.merchant.getPayment({ lookup: { case: "paymentId", value: p.paymentId } });
    const byOrder = await m.merchant.getPayment({
      lookup: { case: "outTradeNo", value: "coffee-1" },
    });
    expect(byId.payment?.paymentId).toBe(p.paymentId);
    expect(byOrder.payment?.paymentId).toBe(p.paymentId);
    const info = await w.wallet.getWallet({});
    expect(info.walletId).toBe(w.walletId);
    expect(info.balance?.amountMinor).toBe(8_750n);
    expect(info.revoked).toBe(false);
  });

  it("declines with the right reason, recorded as a result", async () => {
    const m = await h.newMerchant();
    const w = await h.newWallet({ balance: 1_000n });
    const cases: [string, () => Promise<unknown>, DeclineReason][] = [
      ["short code", () => pay(m, "62123", 100n), DeclineReason.CODE_MALFORMED],
      [
        "wrong prefix",
        () => pay(m, "99" + w.onlineCode().slice(2), 100n),
        DeclineReason.CODE_MALFORMED,
      ],
      ["offline garbage", () => pay(m, "PC1:NOT-BASE45-$$$", 100n), DeclineReason.CODE_MALFORMED],
      ["forged MAC", () => pay(m, w.forgedOnlineCode(), 100n), DeclineReason.CODE_INVALID],
      ["three steps old", () => pay(m, w.onlineCode(-3), 100n), DeclineReason.CODE_EXPIRED],
      ["over balance", () => pay(m, w.onlineCode(), 5_000n), DeclineReason.INSUFFICIENT_FUNDS],
      [
        "other currency",
        async () =>
          (
            await m.merchant.scan({
              outTradeNo: nextOrder(),
              amount: cny(100n, "USD"),
              code: w.onlineCode(),
            })
          ).payment,
        DeclineReason.CURRENCY_MISMATCH,
      ],
      [
        "offline over limit",
        () => pay(m, w.offlineCode().code, 5_001n),
        DeclineReason.LIMIT_EXCEEDED,
      ],
    ];
    for (const [name, run, reason] of cases) {
      const p = (await run()) as {
        status: PaymentStatus;
        declineReason: DeclineReason;
        paymentId: string;
      };
      expect(PaymentStatus[p.status], name).toBe("DECLINED");
      expect(DeclineReason[p.declineReason], name).toBe(DeclineReason[reason]);
      const again = await m.merchant.getPayment({
        lookup: { case: "paymentId", value: p.paymentId },
      });
      expect(DeclineReason[again.payment!.declineReason], name).toBe(DeclineReason[reason]);
    }
    expect(await h.balance(w)).toBe(1_000n);
    expect(await h.balance(m)).toBe(0n);
  });

  it("burns a code on first use: reuse is declined, also after a decline for funds", async () => {
    const m1 = await h.newMerchant();
    const m2 = await h.newMerchant();
    const w = await h.newWallet({ balance: 1_000n });
    const code = w.onlineCode();
    expect(PaymentStatus[(await pay(m1, code, 100n)).status]).toBe("SUCCEEDED");
    const reused = await pay(m2, code, 100n);
    expect(DeclineReason[reused.declineReason]).toBe("CODE_REUSED");
    const poor = w.onlineCode();
    expect(DeclineReason[(await pay(m1, poor, 50_000n)).declineReason]).toBe("INSUFFICIENT_FUNDS");
    expect(DeclineReason[(await pay(m1, poor, 10n)).declineReason]).toBe("CODE_REUSED");
    const off = w.offlineCode();
    expect(PaymentStatus[(await pay(m1, off.code, 100n)).status]).toBe("SUCCEEDED");
    expect(DeclineReason[(await pay(m2, off.code, 100n)).declineReason]).toBe("CODE_REUSED");
    expect(await h.balance(w)).toBe(800n);
  });

  it("returns the same payment for an idempotent retry and refuses a changed one", async () => {
    const m = await h.newMerchant();
    const w = await h.newWallet({ balance: 1_000n });
    const code = w.onlineCode();
    const first = await pay(m, code, 300n, "retry-me");
    const second = await pay(m, code, 300n, "retry-me");
    expect(second.paymentId).toBe(first.paymentId);
    expect(PaymentStatus[second.status]).toBe("SUCCEEDED");
    expect(await h.balance(w)).toBe(700n);
    expect(await codeOf(pay(m, code, 301n, "retry-me"))).toBe("AlreadyExists");
    expect(await codeOf(pay(m, w.onlineCode(), 300n, "retry-me"))).toBe("AlreadyExists");
    // Another merchant may use the same order number.
    const other = await h.newMerchant();
    expect(PaymentStatus[(await pay(other, w.onlineCode(), 100n, "retry-me")).status]).toBe(
      "SUCCEEDED",
    );
    expect(await h.balance(w)).toBe(600n);
  });

  it("steps up above the password-free limit: wrong password refused, right one pays", async () => {
    const m = await h.newMerchant();
    const w = await h.newWallet({ balance: 500_000n, password: "s3cret" });
    const p = await pay(m, w.onlineCode(), 150_000n);
    expect(PaymentStatus[p.status]).toBe("PENDING_CONFIRMATION");
    expect(tsMs(p.confirmDeadline)).toBe(h.clock.now() + 60_000);
    expect((await w.wallet.getWallet({})).pendingPayments.map((x) => x.paymentId)).toEqual([
      p.paymentId,
    ]);
    expect(
      await codeOf(w.wallet.confirmPayment({ paymentId: p.paymentId, password: "wrong" })),
    ).toBe("PermissionDenied");
    const still = await m.merchant.getPayment({
      lookup: { case: "paymentId", value: p.paymentId },
    });
    expect(PaymentStatus[still.payment!.status]).toBe("PENDING_CONFIRMATION");
    expect(await h.balance(w)).toBe(500_000n);
    // Another wallet cannot confirm it.
    const stranger = await h.newWallet({ password: "s3cret" });
    expect(
      await codeOf(stranger.wallet.confirmPayment({ paymentId: p.paymentId, password: "s3cret" })),
    ).toBe("NotFound");
    const ok = await w.wallet.confirmPayment({ paymentId: p.paymentId, password: "s3cret" });
    expect(PaymentStatus[ok.payment!.status]).toBe("SUCCEEDED");
    expect(await h.balance(w)).toBe(350_000n);
    expect(await h.balance(m)).toBe(150_000n);
    expect(
      await codeOf(w.wallet.confirmPayment({ paymentId: p.paymentId, password: "s3cret" })),
    ).toBe("FailedPrecondition");
  });

  it("cancels: a pending payment closes, a succeeded one is refunded, a final one is left", async () => {
    const m = await h.newMerchant();
    const w = await h.newWallet({ balance: 500_000n });
    const pending = await pay(m, w.onlineCode(), 120_000n, "big");
    const c1 = await m.merchant.cancelPayment({ lookup: { case: "outTradeNo", value: "big" } });
    expect(CancelAction[c1.action]).toBe("CLOSED");
    expect(PaymentStatus[c1.payment!.status]).toBe("CLOSED");
    expect(c1.payment?.paymentId).toBe(pending.paymentId);
    expect(await h.balance(w)).toBe(500_000n);

    const paid = await pay(m, w.onlineCode(), 2_000n);
    expect(await h.balance(w)).toBe(498_000n);
    const c2 = await m.merchant.cancelPayment({
      lookup: { case: "paymentId", value: paid.paymentId },
    });
    expect(CancelAction[c2.action]).toBe("REFUNDED");
    expect(PaymentStatus[c2.payment!.status]).toBe("REFUNDED");
    expect(c2.payment?.refunded?.amountMinor).toBe(2_000n);
    expect(await h.balance(w)).toBe(500_000n);
    expect(await h.balance(m)).toBe(0n);
    const c3 = await m.merchant.cancelPayment({
      lookup: { case: "paymentId", value: paid.paymentId },
    });
    expect(CancelAction[c3.action]).toBe("NONE");
    expect(await h.balance(w)).toBe(500_000n);
    const other = await h.newMerchant();
    expect(
      await codeOf(
        other.merchant.cancelPayment({ lookup: { case: "paymentId", value: paid.paymentId } }),
      ),
    ).toBe("NotFound");
  });

  it("refunds with its own idempotency key, up to what remains", async () => {
    const m = await h.newMerchant();
    const w = await h.newWallet({ balance: 10_000n });
    const p = await pay(m, w.onlineCode(), 1_000n);
    const r1 = await m.merchant.refundPayment({
      paymentId: p.paymentId,
      outRefundNo: "r1",
      amount: cny(300n),
    });
    expect(r1.refund?.amount?.amountMinor).toBe(300n);
    expect(PaymentStatus[r1.payment!.status]).toBe("SUCCEEDED");
    const r1again = await m.merchant.refundPayment({
      paymentId: p.paymentId,
      outRefundNo: "r1",
      amount: cny(300n),
    });
    expect(r1again.refund?.refundId).toBe(r1.refund?.refundId);
    expect(await h.balance(w)).toBe(9_300n);
    expect(
      await codeOf(
        m.merchant.refundPayment({ paymentId: p.paymentId, outRefundNo: "r1", amount: cny(301n) }),
      ),
    ).toBe("AlreadyExists");
    expect(
      await codeOf(
        m.merchant.refundPayment({ paymentId: p.paymentId, outRefundNo: "r2", amount: cny(701n) }),
      ),
    ).toBe("FailedPrecondition");
    const other = await h.newMerchant();
    expect(
      await codeOf(
        other.merchant.refundPayment({ paymentId: p.paymentId, outRefundNo: "x", amount: cny(1n) }),
      ),
    ).toBe("NotFound");
    expect(
      await codeOf(
        other.merchant.getPayment({ lookup: { case: "paymentId", value: p.paymentId } }),
      ),
    ).toBe("NotFound");
    const r2 = await m.merchant.refundPayment({
      paymentId: p.paymentId,
      outRefundNo: "r2",
      amount: cny(700n),
    });
    expect(PaymentStatus[r2.payment!.status]).toBe("REFUNDED");
    expect(r2.payment?.refunded?.amountMinor).toBe(1_000n);
    expect(await h.balance(w)).toBe(10_000n);
    expect(await h.balance(m)).toBe(0n);
  });

  it("closes an unconfirmed payment after its deadline (AdvanceClock)", async () => {
    const m = await h.newMerchant();
    const w = await h.newWallet({ balance: 500_000n });
    const p = await pay(m, w.onlineCode(), 200_000n);
    expect(PaymentStatus[p.status]).toBe("PENDING_CONFIRMATION");
    const adv = await h.control.advanceClock({ seconds: 61 });
    expect(tsMs(adv.now)).toBe(h.clock.now());
    const after = await m.merchant.getPayment({
      lookup: { case: "paymentId", value: p.paymentId },
    });
    expect(PaymentStatus[after.payment!.status]).toBe("CLOSED");
    expect(
      await codeOf(w.wallet.confirmPayment({ paymentId: p.paymentId, password: w.password })),
    ).toBe("FailedPrecondition");
    expect(await h.balance(w)).toBe(500_000n);
  });

  it("revokes the old wallet when the account provisions again", async () => {
    const m = await h.newMerchant();
    const w1 = await h.newWallet({ balance: 10_000n });
    const oldCode = w1.onlineCode();
    const w2 = await h.reprovision(w1);
    expect(w2.walletId).not.toBe(w1.walletId);
    expect(DeclineReason[(await pay(m, oldCode, 100n)).declineReason]).toBe("WALLET_REVOKED");
    expect(PaymentStatus[(await pay(m, w2.onlineCode(), 100n)).status]).toBe("SUCCEEDED");
    const keys = await m.settlement.getIssuerKeys({});
    expect(keys.revokedWalletIds).toContain(w1.walletId);
    expect(keys.revokedWalletIds).not.toContain(w2.walletId);
    expect((await w1.wallet.getWallet({}).catch(() => ({ revoked: true }))).revoked).toBe(true);
    // The wallet can also revoke itself.
    await w2.wallet.revokeSeed({ reason: "lost phone" });
    expect(DeclineReason[(await pay(m, w2.onlineCode(), 100n)).declineReason]).toBe(
      "WALLET_REVOKED",
    );
    expect(await h.balance(w1)).toBe(9_900n);
  });

  it("settles offline batches across two terminals (the payer pays once), idempotently per batch", async () => {
    const m = await h.newMerchant();
    const tA = await h.newTerminal(m.merchantId);
    const tB = await h.newTerminal(m.merchantId);
    const w = await h.newWallet({ balance: 1_000n });
    const keys = await tA.settlement.getIssuerKeys({});
    expect(keys.keys.length).toBeGreaterThan(0);
    const synced = keys.generatedAt!;
    const now = timestampFromMs(h.clock.now());
    const c1 = w.offlineCode();
    const c2 = w.offlineCode();
    const record = (id: string, code: string, amount: bigint) => ({
      recordId: id,
      code,
      amount: cny(amount),
      acceptedAt: now,
      keysSyncedAt: synced,
    });
    const batchA = {
      batchId: "A-1",
      records: [record("a1", c1.code, 800n), record("a2", c2.code, 700n)],
    };
    const upA = await tA.settlement.uploadOfflineBatch(batchA);
    expect(upA.results.map((r) => RecordOutcome[r.outcome])).toEqual(["SETTLED", "SETTLED"]);
    expect(upA.results.every((r) => r.paymentId !== "")).toBe(true);
    // Offline payments may leave a debt, bounded by the certificate.
    expect(await h.balance(w)).toBe(-500n);
    expect(await h.balance(m)).toBe(1_500n);
    const upB = await tB.settlement.uploadOfflineBatch({
      batchId: "B-1",
      records: [record("b1", c1.code, 800n)],
    });
    // Another terminal's duplicate is paid by the issuer (§10.3), not by the payer.
    expect(RecordOutcome[upB.results[0]!.outcome]).toBe("SETTLED");
    expect(upB.results[0]!.issuerLiable).toBe(true);
    expect(await h.balance(w)).toBe(-500n);
    expect(await h.balance(m)).toBe(2_300n);
    const again = await tA.settlement.uploadOfflineBatch(batchA);
    expect(again.results).toEqual(upA.results);
    expect(
      await codeOf(
        tA.settlement.uploadOfflineBatch({ batchId: "A-1", records: [record("a1", c1.code, 1n)] }),
      ),
    ).toBe("AlreadyExists");
    // A code presented online first (here declined for funds) settles offline at the issuer's cost.
    const c3 = w.offlineCode();
    await pay(m, c3.code, 1n);
    const up3 = await tB.settlement.uploadOfflineBatch({
      batchId: "B-2",
      records: [record("b2", c3.code, 1n)],
    });
    expect(RecordOutcome[up3.results[0]!.outcome]).toBe("SETTLED");
    expect(up3.results[0]!.issuerLiable).toBe(true);
    expect(await h.balance(w)).toBe(-500n);
    expect(await h.balance(m)).toBe(2_301n);
    // The merchant key cannot upload; the terminal key cannot read the report.
    expect(await codeOf(m.settlement.uploadOfflineBatch({ batchId: "x", records: [] }))).toBe(
      "Unauthenticated",
    );
    expect(
      await codeOf(tA.settlement.getSettlementReport({ date: "2026-03-02", currency: "CNY" })),
    ).toBe("Unauthenticated");
  });

  it("reports a merchant's day: online, refunds, offline and the net", async () => {
    const m = await h.newMerchant();
    const t = await h.newTerminal(m.merchantId);
    const w = await h.newWallet({ balance: 10_000n });
    await pay(m, w.onlineCode(), 100n);
    const p2 = await pay(m, w.onlineCode(), 200n);
    await m.merchant.refundPayment({
      paymentId: p2.paymentId,
      outRefundNo: "half",
      amount: cny(50n),
    });
    await pay(m, w.onlineCode(), 99_999_999n); // declined: not in the report
    const keys = await t.settlement.getIssuerKeys({});
    const off = w.offlineCode();
    const up = await t.settlement.uploadOfflineBatch({
      batchId: "day",
      records: [
        {
          recordId: "r",
          code: off.code,
          amount: cny(300n),
          acceptedAt: timestampFromMs(h.clock.now()),
          keysSyncedAt: keys.generatedAt!,
        },
      ],
    });
    expect(RecordOutcome[up.results[0]!.outcome]).toBe("SETTLED");
    const rep = await m.settlement.getSettlementReport({
      date: utcDay(h.clock.now()),
      currency: "CNY",
    });
    expect(rep.paymentCount).toBe(2n);
    expect(rep.paymentTotal?.amountMinor).toBe(300n);
    expect(rep.refundCount).toBe(1n);
    expect(rep.refundTotal?.amountMinor).toBe(50n);
    expect(rep.offlineCount).toBe(1n);
    expect(rep.offlineTotal?.amountMinor).toBe(300n);
    expect(rep.netTotal?.amountMinor).toBe(550n);
    expect(await h.balance(m)).toBe(550n);
    const empty = await m.settlement.getSettlementReport({ date: "2020-01-01", currency: "CNY" });
    expect(empty.paymentCount).toBe(0n);
  });

  it("keeps the ledger balanced and reports capabilities", async () => {
    const caps = await h.control.getCapabilities({});
    expect(caps.features).toContain("controllable-clock");
    expect(caps.profile?.issuerPrefix).toBe(62);
    const total = await h.control.getLedgerTotal({ currency: "CNY" });
    expect(total.total?.amountMinor).toBe(0n);
    expect(total.transferCount).toBeGreaterThan(0n);
  });
});
