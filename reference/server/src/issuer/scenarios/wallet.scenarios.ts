import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { ed25519Verify, generateEd25519 } from "@paycode/protocol";
import {
  AdvanceClockRequestSchema,
  CreateAccountRequestSchema,
  CreateTerminalRequestSchema,
  DeclineReason,
  GetBalanceRequestSchema,
  GetLedgerTotalRequestSchema,
  GetSettlementReportRequestSchema,
  MoneySchema,
  PaymentStatus,
  ProvisionSeedRequestSchema,
  RefundPaymentRequestSchema,
  RevokeSeedRequestSchema,
  WalletCertificateBodySchema,
} from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import { cny, type IssuerFixture, PASSWORD } from "../testing.js";

/** Provisioning, revocation, authentication, test control and the settlement report. */
export function walletScenarios(fx: () => IssuerFixture): void {
  describe("ProvisionSeed", () => {
    it("issues handle, seed, certificate, profile, limits, server time and token", async () => {
      const f = fx();
      const account = await f.account(0, { perPaymentOffline: 3_000n, cumulativeOffline: 9_000n });
      const w = await f.wallet(account);
      const p = w.provision;
      expect(p.handle).toBeGreaterThanOrEqual(0);
      expect(p.handle).toBeLessThan(2 ** 28);
      expect(p.seed).toHaveLength(32);
      expect(p.walletToken).toMatch(/^wt_/);
      expect(p.profile).toMatchObject({
        profileId: "paycode-default-v1",
        issuerPrefix: 62,
        currency: "CNY",
      });
      expect(p.profile?.codeKey).toHaveLength(32);
      expect(timestampMs(p.serverTime!)).toBe(f.clock.now());
      expect(p.limits?.perPaymentOffline?.amountMinor).toBe(3_000n);
      const body = fromBinary(WalletCertificateBodySchema, p.certificate!.body);
      const nowSec = BigInt(Math.floor(f.clock.now() / 1000));
      expect(body).toMatchObject({
        walletId: p.walletId,
        currency: "CNY",
        perPaymentLimitMinor: 3_000n,
        cumulativeLimitMinor: 9_000n,
        notBefore: nowSec - 300n,
        notAfter: nowSec + 30n * 86_400n,
      });
      expect(body.walletPublicKey).toEqual(w.keys.publicKey);
      const keys = await f.issuer.getIssuerKeys(await f.merchant().then((m) => m.principal));
      const key = keys.keys.find((k) => k.keyId === p.certificate!.issuerKeyId)!;
      expect(
        ed25519Verify(key.publicKey, p.certificate!.body, p.certificate!.issuerSignature),
      ).toBe(true);
    });

    it("wrong password or unknown account → unauthenticated; a bad key → invalid_argument", async () => {
      const f = fx();
      const account = await f.account(0);
      const key = generateEd25519().publicKey;
      const req = (o: Record<string, unknown>) =>
        f.issuer.provisionSeed(
          create(ProvisionSeedRequestSchema, {
            accountId: account,
            password: PASSWORD,
            walletPublicKey: key,
            ...o,
          }),
        );
      await expect(req({ password: "nope" })).rejects.toMatchObject({ code: Code.Unauthenticated });
      await expect(req({ accountId: "acc_missing" })).rejects.toMatchObject({
        code: Code.Unauthenticated,
      });
      await expect(req({ walletPublicKey: new Uint8Array(31) })).rejects.toMatchObject({
        code: Code.InvalidArgument,
      });
      await expect(req({ walletPublicKey: new Uint8Array(32) })).rejects.toMatchObject({
        code: Code.InvalidArgument,
      });
      await expect(req({ accountId: "" })).rejects.toMatchObject({ code: Code.InvalidArgument });
    });

    it("re-provisioning revokes the previous wallet: its codes → WALLET_REVOKED (burned); the new one pays", async () => {
      const f = fx();
      const m = await f.merchant();
      const old = await f.payer(10_000);
      const oldCode = f.onlineCode(old);
      const fresh = await f.wallet(old.accountId);
      expect(fresh.provision.handle).not.toBe(old.provision.handle);
      expect((await f.scan(m, oldCode, 100)).declineReason).toBe(DeclineReason.WALLET_REVOKED);
      expect((await f.scan(m, oldCode, 100)).declineReason).toBe(DeclineReason.CODE_REUSED);
      expect((await f.scan(m, f.offlineCode(old), 100)).declineReason).toBe(
        DeclineReason.WALLET_REVOKED,
      );
      expect((await f.scan(m, f.onlineCode(fresh), 100)).status).toBe(PaymentStatus.SUCCEEDED);
      expect((await f.issuer.getWallet(old.principal)).revoked).toBe(true);
      expect((await f.issuer.getWallet(fresh.principal)).revoked).toBe(false);
    });
  });

  describe("RevokeSeed", () => {
    it("revokes the calling wallet: codes → WALLET_REVOKED; idempotent revoked_at", async () => {
      const f = fx();
      const m = await f.merchant();
      const w = await f.payer(10_000);
      const r1 = await f.issuer.revokeSeed(
        w.principal,
        create(RevokeSeedRequestSchema, { reason: "lost" }),
      );
      expect(timestampMs(r1.revokedAt!)).toBe(f.clock.now());
      f.clock.advance(1_000);
      const r2 = await f.issuer.revokeSeed(w.principal, create(RevokeSeedRequestSchema, {}));
      expect(r2.revokedAt).toEqual(r1.revokedAt);
      expect((await f.scan(m, f.onlineCode(w), 100)).declineReason).toBe(
        DeclineReason.WALLET_REVOKED,
      );
      expect(await f.balance(w)).toBe(10_000n);
    });
  });

  describe("authentication", () => {
    it("unknown, empty or cross-role keys → unauthenticated", async () => {
      const f = fx();
      const m = await f.merchant();
      const t = await f.issuer.control.createTerminal(
        create(CreateTerminalRequestSchema, { merchantId: m.merchantId }),
      );
      await expect(f.issuer.authenticateMerchant("")).rejects.toMatchObject({
        code: Code.Unauthenticated,
      });
      await expect(f.issuer.authenticateMerchant("pk_live_nope")).rejects.toMatchObject({
        code: Code.Unauthenticated,
      });
      await expect(f.issuer.authenticateMerchant(t.apiKey)).rejects.toMatchObject({
        code: Code.Unauthenticated,
      });
      await expect(f.issuer.authenticateTerminal(m.apiKey)).rejects.toMatchObject({
        code: Code.Unauthenticated,
      });
      await expect(f.issuer.authenticateWallet("wt_nope")).rejects.toMatchObject({
        code: Code.Unauthenticated,
      });
      expect(m.apiKey).toMatch(/^pk_live_/);
      expect(t.apiKey).toMatch(/^tk_/);
      expect(await f.issuer.authenticateTerminal(t.apiKey)).toEqual({
        kind: "terminal",
        terminalId: t.terminalId,
        merchantId: m.merchantId,
      });
    });
  });

  describe("test control", () => {
    it("CreateAccount funds the opening balance from the issuer account (ledger stays at zero)", async () => {
      const f = fx();
      const before = await f.issuer.control.getLedgerTotal(
        create(GetLedgerTotalRequestSchema, { currency: "CNY" }),
      );
      const w = await f.payer(12_345);
      expect(await f.balance(w)).toBe(12_345n);
      const after = await f.issuer.control.getLedgerTotal(
        create(GetLedgerTotalRequestSchema, { currency: "CNY" }),
      );
      expect(after.total?.amountMinor).toBe(0n);
      expect(after.transferCount).toBe(before.transferCount + 1n);
    });

    it("rejects a balance in another currency or negative; unknown ids → not_found", async () => {
      const f = fx();
      await expect(
        f.issuer.control.createAccount(
          create(CreateAccountRequestSchema, {
            password: "p",
            balance: create(MoneySchema, { currency: "USD", amountMinor: 1n }),
          }),
        ),
      ).rejects.toMatchObject({ code: Code.InvalidArgument });
      await expect(
        f.issuer.control.createAccount(
          create(CreateAccountRequestSchema, { password: "p", balance: cny(-1) }),
        ),
      ).rejects.toMatchObject({ code: Code.InvalidArgument });
      await expect(
        f.issuer.control.createAccount(create(CreateAccountRequestSchema, { password: "" })),
      ).rejects.toMatchObject({ code: Code.InvalidArgument });
      await expect(
        f.issuer.control.getBalance(
          create(GetBalanceRequestSchema, { owner: { case: "accountId", value: "nope" } }),
        ),
      ).rejects.toMatchObject({ code: Code.NotFound });
      await expect(
        f.issuer.control.getBalance(
          create(GetBalanceRequestSchema, { owner: { case: "merchantId", value: "nope" } }),
        ),
      ).rejects.toMatchObject({ code: Code.NotFound });
      await expect(
        f.issuer.control.getBalance(create(GetBalanceRequestSchema, {})),
      ).rejects.toMatchObject({
        code: Code.InvalidArgument,
      });
      await expect(
        f.issuer.control.createTerminal(
          create(CreateTerminalRequestSchema, { merchantId: "nope" }),
        ),
      ).rejects.toMatchObject({ code: Code.NotFound });
    });

    it("capabilities and AdvanceClock", async () => {
      const f = fx();
      const caps = await f.issuer.control.getCapabilities();
      expect(caps.features).toEqual(
        expect.arrayContaining([
          "controllable-clock",
          "refunds",
          "offline-settlement",
          "settlement-report",
        ]),
      );
      expect(caps.profile?.profileId).toBe("paycode-default-v1");
      const before = f.clock.now();
      const r = await f.issuer.control.advanceClock(
        create(AdvanceClockRequestSchema, { seconds: 90 }),
      );
      expect(timestampMs(r.now!)).toBe(before + 90_000);
      expect(f.clock.now()).toBe(before + 90_000);
      await expect(
        f.issuer.control.advanceClock(create(AdvanceClockRequestSchema, { seconds: 0 })),
      ).rejects.toMatchObject({ code: Code.InvalidArgument });
    });
  });

  describe("settlement report", () => {
    it("per merchant per UTC day: online payments, refunds, offline settlements and the net", async () => {
      const f = fx();
      // Start a fresh UTC day so other tests' payments on this merchant cannot interfere.
      f.clock.set(Math.ceil(f.clock.now() / 86_400_000) * 86_400_000 + 3_600_000);
      const day = new Date(f.clock.now()).toISOString().slice(0, 10);
      const m = await f.merchant();
      const other = await f.merchant();
      const t = await f.terminal(m);
      const w = await f.payer(100_000);
      const p1 = await f.scan(m, f.onlineCode(w), 1_000);
      await f.scan(m, f.onlineCode(w), 2_000);
      await f.scan(m, f.onlineCode(w), 150_000); // declined: not counted
      await f.scan(other, f.onlineCode(w), 7_000); // another merchant
      await f.issuer.refundPayment(
        m.principal,
        create(RefundPaymentRequestSchema, {
          paymentId: p1.paymentId,
          outRefundNo: "r",
          amount: cny(400),
        }),
      );
      await f.upload(t, [f.record(f.offlineCode(w), 300), f.record(f.offlineCode(w), 200)]);
      const report = (date: string, currency = "CNY") =>
        f.issuer.getSettlementReport(
          m.principal,
          create(GetSettlementReportRequestSchema, { date, currency }),
        );
      const r = await report(day);
      expect(r.date).toBe(day);
      expect(r.paymentCount).toBe(2n);
      expect(r.paymentTotal?.amountMinor).toBe(3_000n);
      expect(r.refundCount).toBe(1n);
      expect(r.refundTotal?.amountMinor).toBe(400n);
      expect(r.offlineCount).toBe(2n);
      expect(r.offlineTotal?.amountMinor).toBe(500n);
      expect(r.netTotal?.amountMinor).toBe(3_100n);
      const next = new Date(f.clock.now() + 86_400_000).toISOString().slice(0, 10);
      expect((await report(next)).paymentCount).toBe(0n);
      await expect(report("2030-02-30")).rejects.toMatchObject({ code: Code.InvalidArgument });
      await expect(report("yesterday")).rejects.toMatchObject({ code: Code.InvalidArgument });
      await expect(report(day, "cny")).rejects.toMatchObject({ code: Code.InvalidArgument });
    });
  });
}
