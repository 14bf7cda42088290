import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import {
  DeclineReason,
  GetPaymentRequestSchema,
  GetSettlementReportRequestSchema,
  MoneySchema,
  OfflineRecordSchema,
  PaymentStatus,
  RecordOutcome,
  RefundPaymentRequestSchema,
  RevokeSeedRequestSchema,
} from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import { cny, type IssuerFixture } from "../testing.js";

const outcomes = (r: { results: { outcome: RecordOutcome }[] }) =>
  r.results.map((x) => RecordOutcome[x.outcome]);

/** Double-offline settlement (UploadOfflineBatch), spec §10.2 in rule order. */
export function offlineScenarios(fx: () => IssuerFixture): void {
  describe("offline settlement", () => {
    it("settles an accepted record once: payer → merchant, a SUCCEEDED offline payment", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(10_000);
      const r = await f.upload(t, [f.record(f.offlineCode(w), 300, { recordId: "r-1" })]);
      expect(r.results).toHaveLength(1);
      expect(r.results[0]).toMatchObject({ recordId: "r-1", outcome: RecordOutcome.SETTLED });
      expect(r.results[0]!.paymentId).not.toBe("");
      expect(await f.balance(w)).toBe(9_700n);
      expect(await f.balance(m)).toBe(300n);
      const p = await f.issuer.getPayment(
        m.principal,
        create(GetPaymentRequestSchema, {
          lookup: { case: "paymentId", value: r.results[0]!.paymentId },
        }),
      );
      expect(p.payment?.status).toBe(PaymentStatus.SUCCEEDED);
    });

    it("a batch re-upload returns the same results and moves no money; other records → already_exists", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(10_000);
      const records = [
        f.record(f.offlineCode(w), 100),
        f.record(f.offlineCode(w), 200),
        f.record("PC1:x", 1),
      ];
      const first = await f.upload(t, records, "batch-1");
      const again = await f.upload(t, records, "batch-1");
      expect(again).toEqual(first);
      expect(outcomes(first)).toEqual(["SETTLED", "SETTLED", "REJECTED_INVALID"]);
      expect(await f.balance(w)).toBe(9_700n);
      await expect(f.upload(t, records.slice(0, 2), "batch-1")).rejects.toMatchObject({
        code: Code.AlreadyExists,
      });
      // The batch id is per terminal; another terminal's records of the same codes are
      // duplicates the issuer pays (§10.3), and its retry is idempotent too.
      const t2 = await f.terminal(m);
      const other = await f.upload(t2, records, "batch-1");
      expect(outcomes(other)).toEqual(["SETTLED", "SETTLED", "REJECTED_INVALID"]);
      expect(other.results.map((r) => r.issuerLiable)).toEqual([true, true, false]);
      expect(await f.upload(t2, records, "batch-1")).toEqual(other);
      expect(await f.balance(w)).toBe(9_700n);
      expect(await f.balance(m)).toBe(600n);
      // The same terminal again, in a new batch: DUPLICATE, no money.
      expect(outcomes(await f.upload(t2, records.slice(0, 2), "batch-2"))).toEqual([
        "DUPLICATE",
        "DUPLICATE",
      ]);
      expect(await f.balance(m)).toBe(600n);
    });

    it("the same code at two terminals at once: both SETTLED, exactly one issuer-liable, the payer debited once", async () => {
      const f = fx();
      const m = await f.merchant();
      const [t1, t2] = [await f.terminal(m), await f.terminal(m)];
      const w = await f.payer(10_000);
      const code = f.offlineCode(w);
      const [a, b] = await Promise.all([
        f.upload(t1, [f.record(code, 500)]),
        f.upload(t2, [f.record(code, 500)]),
      ]);
      expect([...outcomes(a), ...outcomes(b)]).toEqual(["SETTLED", "SETTLED"]);
      expect([a.results[0]!.issuerLiable, b.results[0]!.issuerLiable].sort()).toEqual([
        false,
        true,
      ]);
      expect(await f.balance(w)).toBe(9_500n);
      expect(await f.balance(m)).toBe(1_000n);
    });

    it("issuer-liable duplicates count toward the cumulative limit, are refunded to the issuer and reported", async () => {
      const f = fx();
      const m = await f.merchant();
      const [t1, t2] = [await f.terminal(m), await f.terminal(m)];
      const w = await f.payer(10_000, { perPaymentOffline: 1_000n, cumulativeOffline: 1_500n });
      const code = f.offlineCode(w);
      expect(outcomes(await f.upload(t1, [f.record(code, 1_000)]))).toEqual(["SETTLED"]);
      const dup = await f.upload(t2, [f.record(code, 400)]);
      expect(dup.results[0]).toMatchObject({ outcome: RecordOutcome.SETTLED, issuerLiable: true });
      // 1400 of 1500 settled, the duplicate included.
      expect(outcomes(await f.upload(t1, [f.record(f.offlineCode(w), 101)]))).toEqual([
        "REJECTED_LIMIT",
      ]);
      await f.issuer.refundPayment(
        m.principal,
        create(RefundPaymentRequestSchema, {
          paymentId: dup.results[0]!.paymentId,
          outRefundNo: "refund-1",
          amount: cny(150),
          reason: "",
        }),
      );
      expect(await f.balance(w)).toBe(9_000n);
      expect(await f.balance(m)).toBe(1_250n);
      const report = await f.issuer.getSettlementReport(
        m.principal,
        create(GetSettlementReportRequestSchema, {
          date: new Date(f.clock.now()).toISOString().slice(0, 10),
          currency: "CNY",
        }),
      );
      expect(report.offlineCount).toBe(2n);
      expect(report.offlineTotal?.amountMinor).toBe(1_400n);
      expect(report.issuerLiableCount).toBe(1n);
      expect(report.issuerLiableTotal?.amountMinor).toBe(400n);
    });

    it("a code presented online first → issuer-liable at settlement; settled first → CODE_REUSED online", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(10_000);
      const online = f.offlineCode(w);
      expect((await f.scan(m, online, 100)).status).toBe(PaymentStatus.SUCCEEDED);
      const dup = await f.upload(t, [f.record(online, 100)]);
      expect(dup.results[0]).toMatchObject({ outcome: RecordOutcome.SETTLED, issuerLiable: true });
      expect(await f.balance(w)).toBe(9_900n);
      expect(await f.balance(m)).toBe(200n);
      const settled = f.offlineCode(w);
      expect(outcomes(await f.upload(t, [f.record(settled, 100)]))).toEqual(["SETTLED"]);
      expect((await f.scan(m, settled, 100)).declineReason).toBe(DeclineReason.CODE_REUSED);
    });

    it("malformed records → REJECTED_MALFORMED", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(10_000);
      const good = f.record(f.offlineCode(w), 100);
      const records = [
        create(OfflineRecordSchema, { ...good, recordId: "zero", amount: cny(0) }),
        create(OfflineRecordSchema, { ...good, recordId: "no-amount", amount: undefined }),
        create(OfflineRecordSchema, {
          ...good,
          recordId: "usd",
          amount: create(MoneySchema, { currency: "USD", amountMinor: 100n }),
        }),
        create(OfflineRecordSchema, { ...good, recordId: "no-accepted", acceptedAt: undefined }),
        create(OfflineRecordSchema, { ...good, recordId: "no-sync", keysSyncedAt: undefined }),
        create(OfflineRecordSchema, {
          ...good,
          recordId: "future",
          acceptedAt: timestampFromMs(f.clock.now() + 3_600_000),
        }),
        create(OfflineRecordSchema, { ...good, recordId: "" }),
      ];
      expect(outcomes(await f.upload(t, records))).toEqual(Array(7).fill("REJECTED_MALFORMED"));
      expect(outcomes(await f.upload(t, [good]))).toEqual(["SETTLED"]);
    });

    it("verified at accepted_at, not upload time: a code accepted in time settles days later", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(10_000);
      const rec = f.record(f.offlineCode(w), 100);
      f.clock.advance(3 * 86_400_000);
      expect(outcomes(await f.upload(t, [rec]))).toEqual(["SETTLED"]);
    });

    it("rejections in rule order: invalid, expired, per-payment limit, stale keys", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(10_000);
      const other = await f.payer(0);
      const now = f.clock.now();
      const forged = f.offlineCode({ ...w, keys: other.keys });
      const old = f.offlineCode(w, { issuedAtMs: now - 121_000 });
      const r = await f.upload(t, [
        f.record("PC1:AAAA", 100),
        f.record(forged, 100),
        f.record(old, 100),
        f.record(f.offlineCode(w), 5_001),
        f.record(f.offlineCode(w), 100, { keysSyncedAtMs: now - 86_400_001 }),
        f.record(f.offlineCode(w), 100, { keysSyncedAtMs: now - 86_400_000 }),
        // Expired beats stale keys (codec before key age).
        f.record(f.offlineCode(w, { issuedAtMs: now - 200_000 }), 100, {
          keysSyncedAtMs: now - 90_000_000,
        }),
      ]);
      expect(outcomes(r)).toEqual([
        "REJECTED_INVALID",
        "REJECTED_INVALID",
        "REJECTED_EXPIRED",
        "REJECTED_LIMIT",
        "REJECTED_STALE_KEYS",
        "SETTLED",
        "REJECTED_EXPIRED",
      ]);
    });

    it("revoked before the terminal's key sync → REJECTED_REVOKED; revoked after → SETTLED", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(10_000);
      const before = f.offlineCode(w);
      const syncBefore = f.clock.now() - 10_000;
      f.clock.advance(5_000);
      await f.issuer.revokeSeed(w.principal, create(RevokeSeedRequestSchema, { reason: "lost" }));
      const keys = await f.issuer.getIssuerKeys(t);
      expect(keys.revokedWalletIds).toContain(w.provision.walletId);
      const syncAfter = f.clock.now();
      const r = await f.upload(t, [
        f.record(before, 100, { acceptedAtMs: syncBefore + 5_000, keysSyncedAtMs: syncBefore }),
        f.record(f.offlineCode(w), 100, { keysSyncedAtMs: syncAfter }),
      ]);
      expect(outcomes(r)).toEqual(["SETTLED", "REJECTED_REVOKED"]);
    });

    it("stale keys are checked before revocation", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(10_000);
      const code = f.offlineCode(w);
      await f.issuer.revokeSeed(w.principal, create(RevokeSeedRequestSchema, {}));
      const r = await f.upload(t, [
        f.record(code, 100, { keysSyncedAtMs: f.clock.now() - 86_400_001 }),
      ]);
      expect(outcomes(r)).toEqual(["REJECTED_STALE_KEYS"]);
    });

    it("the cumulative limit bounds the debt: settles into a negative balance, then REJECTED_LIMIT", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(1_000);
      const r = await f.upload(
        t,
        [5_000, 5_000, 5_000, 4_999, 2, 1].map((amount) => f.record(f.offlineCode(w), amount)),
      );
      expect(outcomes(r)).toEqual([
        "SETTLED",
        "SETTLED",
        "SETTLED",
        "SETTLED",
        "REJECTED_LIMIT",
        "SETTLED",
      ]);
      expect(await f.balance(w)).toBe(1_000n - 20_000n);
      expect(await f.balance(m)).toBe(20_000n);
      const wallet = await f.issuer.getWallet(w.principal);
      expect(wallet.balance?.amountMinor).toBe(-19_000n);
    });

    it("batch validation: batch_id and at most 1000 records", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      await expect(f.upload(t, [], "")).rejects.toMatchObject({ code: Code.InvalidArgument });
      const many = Array.from({ length: 1001 }, () => f.record("PC1:x", 1));
      await expect(f.upload(t, many)).rejects.toMatchObject({ code: Code.InvalidArgument });
      expect((await f.upload(t, [])).results).toEqual([]);
    });
  });

  describe("GetIssuerKeys", () => {
    it("lists the signing key, the revocation list with a rising version, and the profile without code key", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(0);
      const k1 = await f.issuer.getIssuerKeys(m.principal);
      expect(k1.keys).toHaveLength(1);
      expect(k1.keys[0]!.keyId).toBe(w.provision.certificate!.issuerKeyId);
      expect(k1.keys[0]!.publicKey).toHaveLength(32);
      expect(k1.profile?.codeKey).toHaveLength(0);
      expect(k1.profile?.profileId).toBe("paycode-default-v1");
      await f.wallet(w.accountId); // re-provision revokes w
      const k2 = await f.issuer.getIssuerKeys(t);
      expect(k2.revokedWalletIds).toContain(w.provision.walletId);
      expect(k2.revocationListVersion).toBe(k1.revocationListVersion + 1n);
      expect(Number(k2.generatedAt!.seconds)).toBe(Math.floor(f.clock.now() / 1000));
    });
  });
}
