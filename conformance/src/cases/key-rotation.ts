import { fromBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { RecordOutcome, WalletCertificateBodySchema } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import type { SimWallet } from "../fixtures/sim-wallet.js";
import { walletAndMerchant } from "./common.js";

/**
 * Credential and key lifecycle (§7.8, §12.6), driven through test control
 * (feature "key-rotation"): further API keys, revocation, and the issuer
 * signing key published ahead of use and honoured after it is rotated out.
 */

const KEYS = ["key-rotation"] as const;

function scanRequest(ctx: CaseContext, code: string) {
  return {
    outTradeNo: ctx.fixtures.orderNo(),
    amount: ctx.fixtures.money(100n),
    code,
    subject: "",
  };
}

/** The issuer key that signed `w`'s certificate. */
const certKey = (w: SimWallet) => w.certificate.issuerKeyId;

export const keyRotationCases: Case[] = [
  defineCase({
    id: "key-rotation/revoked-api-key-refused",
    title:
      "A further merchant or terminal key works beside the first; a revoked key fails unauthenticated at once and burns nothing",
    requirements: ["KEY-1", "KEY-2"],
    features: [...KEYS, "offline-settlement"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const terminal = await ctx.fixtures.terminal(merchant);
      const second = await ctx.control.issueApiKey({
        owner: { case: "merchantId", value: merchant.merchantId },
      });
      ctx.expect.that(second.apiKey !== "", "IssueApiKey returned no api_key");
      ctx.expect.that(second.apiKey !== merchant.apiKey, "IssueApiKey returned the first key");
      // [KEY-2] Both keys act for the merchant.
      const viaSecond = await ctx.raw
        .merchant(second.apiKey)
        .scan(scanRequest(ctx, wallet.onlineCode()));
      ctx.expect.succeeded(viaSecond.payment!, "Scan with the further key");
      ctx.expect.succeeded(
        await merchant.scan(wallet.onlineCode(), 100n),
        "Scan with the first key after a further key was issued",
      );
      const seen = await merchant.client.getPayment({
        lookup: { case: "paymentId", value: viaSecond.payment!.paymentId },
      });
      ctx.expect.equal(
        seen.payment?.paymentId,
        viaSecond.payment!.paymentId,
        "the first key sees the payment made with the further key (same merchant)",
      );

      // [KEY-1] Revoked: refused at once, and the refused Scan burns nothing.
      const revoked = await ctx.control.revokeApiKey({ apiKey: second.apiKey });
      ctx.expect.equal(revoked.revoked, true, "RevokeApiKey.revoked");
      const code = wallet.onlineCode();
      await ctx.expect.error(
        ctx.raw.merchant(second.apiKey).scan(scanRequest(ctx, code)),
        Code.Unauthenticated,
        "Scan with the revoked key",
      );
      ctx.expect.succeeded(await merchant.scan(code, 100n), "the same code with the first key");
      const again = await ctx.control.revokeApiKey({ apiKey: second.apiKey });
      ctx.expect.equal(again.revoked, false, "RevokeApiKey of a key already revoked");

      // The same for a terminal: a further key, then the first one revoked.
      const t2 = await ctx.control.issueApiKey({
        owner: { case: "terminalId", value: terminal.terminalId },
      });
      await terminal.sync();
      await ctx.raw.settlement(t2.apiKey).getIssuerKeys({});
      await ctx.control.revokeApiKey({ apiKey: terminal.apiKey });
      await ctx.expect.error(
        ctx.raw.settlement(terminal.apiKey).getIssuerKeys({}),
        Code.Unauthenticated,
        "GetIssuerKeys with the revoked terminal key",
      );
      const offline = wallet.offlineCode();
      const up = await ctx.raw.settlement(t2.apiKey).uploadOfflineBatch({
        batchId: ctx.fixtures.uniqueId("batch"),
        records: [terminal.record(offline, 100n)],
      });
      ctx.expect.equal(
        up.results[0]?.outcome,
        RecordOutcome.SETTLED,
        "UploadOfflineBatch with the terminal's further key",
      );
      await ctx.expect.error(
        ctx.control.revokeApiKey({ apiKey: "not-a-key" }),
        Code.NotFound,
        "RevokeApiKey of an unknown key",
      );
    },
  }),
  defineCase({
    id: "key-rotation/issuer-key-published-ahead",
    title:
      "A rotated-in issuer key signs no certificate before it was listed for max_key_age; the old key stays listed and its offline codes keep paying and settling",
    requirements: ["KEY-5", "KEY-6", "SETTLE-1", "QR-7"],
    features: [...KEYS, "controllable-clock", "offline-settlement"],
    timeoutMs: 60_000,
    async run(ctx: CaseContext) {
      const { wallet: old, merchant } = await walletAndMerchant(ctx, { balance: 100_000n });
      const terminal = await ctx.fixtures.terminal(merchant);
      const oldKey = certKey(old);
      const maxKeyAge = ctx.profile.maxKeyAgeSeconds;

      const r = await ctx.control.rotateIssuerKey({});
      ctx.expect.that(
        r.keyId !== "" && r.keyId !== oldKey,
        "RotateIssuerKey returned no new key_id",
      );
      const sync = await terminal.sync();
      const listedAt = terminal.syncedAtMs;
      const ids = sync.keys.map((k) => k.keyId);
      ctx.expect.that(
        ids.includes(r.keyId),
        `GetIssuerKeys right after the rotation lacks ${r.keyId}`,
      );
      ctx.expect.that(
        ids.includes(oldKey),
        `GetIssuerKeys right after the rotation lacks ${oldKey}`,
      );
      ctx.expect.that(r.signsFrom, "RotateIssuerKey returned no signs_from");
      const signsFrom = timestampMs(r.signsFrom!);

      // [KEY-5] Certificates made before the key was listed for max_key_age use another key.
      const early = await ctx.fixtures.wallet({ balance: 1_000n });
      ctx.expect.that(
        certKey(early) !== r.keyId,
        `a certificate made right after the rotation is signed by the new key ${r.keyId}`,
      );
      await ctx.clock.advance(maxKeyAge - 120);
      const late = await ctx.fixtures.wallet({ balance: 1_000n });
      ctx.expect.that(
        certKey(late) !== r.keyId,
        `a certificate made ${maxKeyAge - 120} s after the new key was listed is signed by it (max_key_age_seconds ${maxKeyAge})`,
      );

      // From signs_from on, the new key signs.
      await ctx.clock.sync();
      const wait = Math.max(1, Math.ceil((signsFrom - ctx.clock.nowMs()) / 1000) + 1);
      await ctx.clock.advance(wait);
      const fresh = await ctx.fixtures.wallet({ balance: 1_000n });
      ctx.expect.equal(certKey(fresh), r.keyId, "the key of a certificate made after signs_from");
      ctx.expect.that(
        ctx.clock.nowMs() - listedAt >= maxKeyAge * 1000,
        "the new key signed less than max_key_age_seconds after it was listed",
      );

      // [KEY-6] [SETTLE-1] The old key: still listed; its certificate's codes pay and settle.
      const after = await terminal.sync();
      ctx.expect.that(
        after.keys.some((k) => k.keyId === oldKey),
        `GetIssuerKeys after the switch no longer lists ${oldKey}, which signed a certificate still valid`,
      );
      const body = fromBinary(WalletCertificateBodySchema, old.certificate.body);
      ctx.expect.that(
        Number(body.notAfter) * 1000 > ctx.clock.nowMs(),
        "harness: the old certificate expired during the case",
      );
      ctx.expect.succeeded(
        await merchant.scan(old.offlineCode(), 100n),
        "Scan of an offline code under the old key's certificate",
      );
      const up = await terminal.upload([
        terminal.record(old.offlineCode(), 100n),
        terminal.record(fresh.offlineCode(), 100n),
      ]);
      ctx.expect.equal(
        up.results[0]?.outcome,
        RecordOutcome.SETTLED,
        "UploadOfflineBatch: the record of a code under the old key's certificate",
      );
      ctx.expect.equal(
        up.results[1]?.outcome,
        RecordOutcome.SETTLED,
        "UploadOfflineBatch: the record of a code under the new key's certificate",
      );
    },
  }),
];
