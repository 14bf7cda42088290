import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { buildOfflineCode, generateEd25519, issueCertificate } from "@paycode/protocol";
import {
  CodeKind,
  DeclineReason,
  OfflineCodeSchema,
  OfflineRecordSchema,
  RecordOutcome,
  type RecordResult,
  WalletCertificateBodySchema,
  WalletCertificateSchema,
} from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import type { Merchant, Terminal } from "../fixtures/fixtures.js";
import {
  decodeOwnOfflineCode,
  encodeOfflineEnvelope,
  type SimWallet,
} from "../fixtures/sim-wallet.js";
import { sleep } from "../target-clock.js";
import { balances, OFFLINE, payerOf, refundRequest, walletAndMerchant } from "./common.js";
import { withSPlusL } from "./offline-wire.js";

/** A payer wallet, a merchant and a terminal of it that has synced its keys. */
async function offlineSetup(
  ctx: CaseContext,
  spec: Parameters<CaseContext["fixtures"]["wallet"]>[0] = {},
): Promise<{ wallet: SimWallet; merchant: Merchant; terminal: Terminal }> {
  const { wallet, merchant } = await walletAndMerchant(ctx, spec);
  const terminal = await ctx.fixtures.terminal(merchant);
  await terminal.sync();
  return { wallet, merchant, terminal };
}

/** Re-signs nothing: flips one bit of the wallet signature of an offline code. */
function forgeWalletSignature(code: string): string {
  const d = decodeOwnOfflineCode(code);
  const sig = new Uint8Array(d.envelope.signature);
  sig[10] = (sig[10] ?? 0) ^ 0x01;
  return encodeOfflineEnvelope(create(OfflineCodeSchema, { ...d.envelope, signature: sig }));
}

/** A code whose certificate raises its own limits, keeping the issuer's signature. */
function selfRaisedLimitCode(wallet: SimWallet, counter: bigint, issuedAt: number): string {
  const body = fromBinary(WalletCertificateBodySchema, wallet.certificate.body);
  body.perPaymentLimitMinor = 10_000_000n;
  body.cumulativeLimitMinor = 10_000_000n;
  const certificate = create(WalletCertificateSchema, {
    ...wallet.certificate,
    body: toBinary(WalletCertificateBodySchema, body),
  });
  return buildOfflineCode({
    certificate,
    walletId: wallet.walletId,
    counter,
    issuedAt,
    walletPrivateKey: wallet.keyPair.privateKey,
  });
}

/** A code under a certificate the wallet signed with a key of its own, claiming `keyId`. */
function rogueIssuerCode(wallet: SimWallet, keyId: string, issuedAt: number): string {
  const rogue = generateEd25519();
  const body = fromBinary(WalletCertificateBodySchema, wallet.certificate.body);
  const certificate = issueCertificate(
    {
      walletId: body.walletId,
      walletPublicKey: body.walletPublicKey,
      currency: body.currency,
      perPaymentLimitMinor: body.perPaymentLimitMinor,
      cumulativeLimitMinor: body.cumulativeLimitMinor,
      notBefore: body.notBefore,
      notAfter: body.notAfter,
    },
    keyId,
    rogue.privateKey,
  );
  return buildOfflineCode({
    certificate,
    walletId: wallet.walletId,
    counter: 1_000n,
    issuedAt,
    walletPrivateKey: wallet.keyPair.privateKey,
  });
}

/** A SETTLED result, paid by the issuer (`issuer_liable`) or by the payer. */
function expectSettled(
  ctx: CaseContext,
  r: RecordResult | undefined,
  issuerLiable: boolean,
  what: string,
): void {
  ctx.expect.outcome(r, RecordOutcome.SETTLED, what);
  ctx.expect.that(r!.paymentId, `${what}: a SETTLED result carries no payment_id`);
  ctx.expect.equal(r!.issuerLiable, issuerLiable, `${what}: issuer_liable`);
}

/**
 * Terminal accepts offline, uploads later; the payer pays each code once,
 * the issuer any duplicate of another terminal or a Scan (§10.3).
 */
export const doubleOfflineCases: Case[] = [
  defineCase({
    id: "double-offline/settles-once",
    title:
      "An offline record uploaded by a terminal settles with one transfer to the terminal's merchant",
    requirements: ["SETTLE-16", "SETTLE-4", "SETTLE-9", "AUTH-4", "PAY-5"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const rec = terminal.record(wallet.offlineCode(), 1_200n);
      const r = await terminal.upload([rec]);
      ctx.expect.outcome(r.results[0], RecordOutcome.SETTLED, "UploadOfflineBatch");
      ctx.expect.that(r.results[0]!.paymentId, "a SETTLED result carries no payment_id");
      const p = ctx.expect.payment(
        await merchant.client.getPayment({
          lookup: { case: "paymentId", value: r.results[0]!.paymentId },
        }),
        "GetPayment of the settled record",
      );
      ctx.expect.succeeded(p, "settled payment");
      ctx.expect.equal(p.codeKind, CodeKind.OFFLINE, "settled payment code_kind");
      ctx.expect.money(p.amount, 1_200n, "settled payment amount");
      await balances(ctx, wallet, merchant, 8_800n, 1_200n, "after settlement");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "double-offline/duplicate-across-terminals",
    title:
      "The same code uploaded by two terminals: the payer pays the first, the issuer the second (issuer_liable)",
    requirements: ["SETTLE-20", "SETTLE-21", "PAY-5", "PAY-6"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const other = await ctx.fixtures.merchant();
      const t2 = await ctx.fixtures.terminal(other);
      await t2.sync();
      const code = wallet.offlineCode();
      const a = await terminal.upload([terminal.record(code, 1_000n)]);
      const b = await t2.upload([t2.record(code, 1_000n)]);
      expectSettled(ctx, a.results[0], false, "first terminal's upload");
      expectSettled(ctx, b.results[0], true, "second terminal's upload");
      const p = ctx.expect.payment(
        await other.client.getPayment({
          lookup: { case: "paymentId", value: b.results[0]!.paymentId },
        }),
        "GetPayment of the issuer-liable record",
      );
      ctx.expect.succeeded(p, "issuer-liable payment");
      ctx.expect.money(p.amount, 1_000n, "issuer-liable payment amount");
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after both uploads");
      await ctx.expect.balance({ merchantId: other.merchantId }, 1_000n, "second merchant");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "double-offline/concurrent-duplicate-uploads",
    title:
      "Two terminals uploading one code at the same time: both settle, exactly one issuer-liable, the payer debited once",
    requirements: ["SEC-2", "SETTLE-20", "SETTLE-21"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const t2 = await ctx.fixtures.terminal(merchant);
      await t2.sync();
      const code = wallet.offlineCode();
      const [a, b] = await Promise.all([
        terminal.upload([terminal.record(code, 700n)]),
        t2.upload([t2.record(code, 700n)]),
      ]);
      const results = [a.results[0], b.results[0]];
      ctx.expect.equal(
        results.map((r) => RecordOutcome[r?.outcome ?? 0]).join(","),
        "SETTLED,SETTLED",
        "outcomes of the concurrent uploads",
      );
      ctx.expect.equal(
        results.filter((r) => r?.issuerLiable).length,
        1,
        "issuer_liable results of the concurrent uploads",
      );
      await balances(ctx, wallet, merchant, 9_300n, 1_400n, "after the race");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "double-offline/duplicate-counts-toward-cumulative",
    title:
      "Issuer-liable duplicates count toward the certificate's cumulative limit; beyond it a duplicate is REJECTED_LIMIT",
    requirements: ["SETTLE-22", "SETTLE-15", "SETTLE-20"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, {
        balance: 10_000n,
        limits: { perPaymentOffline: 1_000n, cumulativeOffline: 2_000n },
      });
      const t2 = await ctx.fixtures.terminal(merchant);
      await t2.sync();
      const c1 = wallet.offlineCode();
      const c2 = wallet.offlineCode();
      const a = await terminal.upload([terminal.record(c1, 1_000n)]);
      expectSettled(ctx, a.results[0], false, "code 1 at terminal A (1000 of 2000)");
      const b = await t2.upload([t2.record(c1, 800n)]);
      expectSettled(ctx, b.results[0], true, "code 1 at terminal B (1800 of 2000)");
      const c = await terminal.upload([terminal.record(c2, 500n)]);
      ctx.expect.outcome(
        c.results[0],
        RecordOutcome.REJECTED_LIMIT,
        "code 2 at terminal A (2300 > 2000, the duplicate counted)",
      );
      const d = await t2.upload([t2.record(c2, 200n)]);
      expectSettled(ctx, d.results[0], false, "code 2 at terminal B (2000 of 2000, payer pays)");
      const e = await terminal.upload([terminal.record(wallet.offlineCode(), 1n)]);
      ctx.expect.outcome(e.results[0], RecordOutcome.REJECTED_LIMIT, "code 3 (2001 > 2000)");
      await balances(ctx, wallet, merchant, 8_800n, 2_000n, "after the uploads");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "double-offline/issuer-liable-refund",
    title:
      "A refund of an issuer-liable payment goes back to the issuer loss account, not to the payer",
    requirements: ["SETTLE-24", "REFUND-5"],
    features: [...OFFLINE, "refunds"],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const t2 = await ctx.fixtures.terminal(merchant);
      await t2.sync();
      const code = wallet.offlineCode();
      await terminal.upload([terminal.record(code, 600n)]);
      const b = await t2.upload([t2.record(code, 600n)]);
      expectSettled(ctx, b.results[0], true, "the duplicate");
      await merchant.client.refundPayment(refundRequest(ctx, b.results[0]!.paymentId, 250n));
      await balances(ctx, wallet, merchant, 9_400n, 950n, "after the refund");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "double-offline/duplicate-in-one-batch",
    title: "A code recorded twice in one batch settles once; the second record is DUPLICATE",
    requirements: ["SETTLE-14", "SETTLE-9"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const code = wallet.offlineCode();
      const r = await terminal.upload([
        terminal.record(code, 1_000n),
        terminal.record(code, 1_000n),
      ]);
      ctx.expect.outcome(r.results[0], RecordOutcome.SETTLED, "first record");
      ctx.expect.outcome(r.results[1], RecordOutcome.DUPLICATE, "second record");
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after the batch");
    },
  }),
  defineCase({
    id: "double-offline/batch-reupload-idempotent",
    title:
      "Re-uploading a batch with the same id and records returns the same results and moves no money",
    requirements: ["SETTLE-5", "PAY-6"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const records = [
        terminal.record(wallet.offlineCode(), 1_000n),
        terminal.record(wallet.offlineCode(), 500n),
      ];
      const batchId = ctx.fixtures.uniqueId("batch");
      const a = await terminal.upload(records, batchId);
      const b = await terminal.upload(records, batchId);
      for (const i of [0, 1]) {
        ctx.expect.outcome(a.results[i], RecordOutcome.SETTLED, `first upload, record ${i + 1}`);
        ctx.expect.outcome(b.results[i], RecordOutcome.SETTLED, `re-upload, record ${i + 1}`);
        ctx.expect.equal(
          b.results[i]!.paymentId,
          a.results[i]!.paymentId,
          `re-upload payment_id, record ${i + 1}`,
        );
      }
      await balances(ctx, wallet, merchant, 8_500n, 1_500n, "after the re-upload");
    },
  }),
  defineCase({
    id: "double-offline/batch-id-conflict",
    title: "Reusing a batch_id for different records fails already_exists",
    requirements: ["SETTLE-6"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const batchId = ctx.fixtures.uniqueId("batch");
      await terminal.upload([terminal.record(wallet.offlineCode(), 1_000n)], batchId);
      await ctx.expect.error(
        terminal.upload([terminal.record(wallet.offlineCode(), 1_000n)], batchId),
        Code.AlreadyExists,
        "UploadOfflineBatch reusing a batch_id",
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after the conflict");
    },
  }),
  defineCase({
    id: "double-offline/forged-wallet-signature",
    title:
      "A record whose wallet signature is forged is REJECTED_INVALID (and CODE_INVALID at Scan)",
    requirements: ["SETTLE-9", "VERIFY-7", "VERIFY-9", "TERM-2"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const forged = forgeWalletSignature(wallet.offlineCode());
      const r = await terminal.upload([terminal.record(forged, 1_000n)]);
      ctx.expect.outcome(r.results[0], RecordOutcome.REJECTED_INVALID, "upload of a forged code");
      const p = await merchant.scan(forgeWalletSignature(wallet.offlineCode()), 1_000n);
      ctx.expect.declined(p, DeclineReason.CODE_INVALID, "Scan of a forged offline code");
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/unknown-issuer-key",
    title: "A code whose certificate names an unknown issuer key is REJECTED_INVALID",
    requirements: ["SETTLE-9", "VERIFY-9"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const code = rogueIssuerCode(wallet, "rogue-key", ctx.clock.nowSeconds());
      const r = await terminal.upload([terminal.record(code, 1_000n)]);
      ctx.expect.outcome(r.results[0], RecordOutcome.REJECTED_INVALID, "upload");
      ctx.expect.declined(
        await merchant.scan(rogueIssuerCode(wallet, "rogue-key", ctx.clock.nowSeconds()), 100n),
        DeclineReason.CODE_INVALID,
        "Scan",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/wrong-issuer-signature",
    title:
      "A certificate signed by someone else under the issuer's real key id is REJECTED_INVALID",
    requirements: ["SETTLE-9", "VERIFY-7"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const code = rogueIssuerCode(wallet, wallet.certificate.issuerKeyId, ctx.clock.nowSeconds());
      const r = await terminal.upload([terminal.record(code, 1_000n)]);
      ctx.expect.outcome(r.results[0], RecordOutcome.REJECTED_INVALID, "upload");
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/self-raised-limit",
    title:
      "A certificate body altered to raise its limits (issuer signature kept) is REJECTED_INVALID",
    requirements: ["SETTLE-9", "QR-5", "VERIFY-7"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, {
        balance: 100_000n,
        limits: { perPaymentOffline: 1_000n },
      });
      const code = selfRaisedLimitCode(wallet, 7n, ctx.clock.nowSeconds());
      const r = await terminal.upload([terminal.record(code, 50_000n)]);
      ctx.expect.outcome(r.results[0], RecordOutcome.REJECTED_INVALID, "upload");
      await balances(ctx, wallet, merchant, 100_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/certificate-not-yet-valid",
    title: "A record accepted before the certificate's not_before is REJECTED_EXPIRED",
    requirements: ["SETTLE-10", "VERIFY-9"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const notBefore = Number(wallet.certificateBody.notBefore);
      const at = notBefore - 30;
      const code = wallet.offlineCode({ issuedAt: at });
      const r = await terminal.upload([terminal.record(code, 1_000n, { acceptedAtMs: at * 1000 })]);
      ctx.expect.outcome(r.results[0], RecordOutcome.REJECTED_EXPIRED, "upload");
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/certificate-expired",
    title: "A record accepted after the certificate's not_after is REJECTED_EXPIRED",
    requirements: ["SETTLE-10", "VERIFY-9", "CTRL-6"],
    features: [...OFFLINE, "controllable-clock"],
    timeoutMs: 60_000,
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const notAfter = Number(wallet.certificateBody.notAfter);
      const now = await ctx.clock.sync();
      await ctx.clock.advance(notAfter - now + 10);
      await terminal.sync();
      const code = wallet.offlineCode();
      const r = await terminal.upload([terminal.record(code, 1_000n)]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.REJECTED_EXPIRED,
        "upload after the certificate expired",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/code-too-old-at-acceptance",
    title:
      "A record accepted more than offline_code_validity_seconds after the code was made is REJECTED_EXPIRED",
    requirements: ["SETTLE-10", "VERIFY-9"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const now = ctx.clock.nowSeconds();
      const code = wallet.offlineCode({
        issuedAt: now - wallet.profile.offlineCodeValiditySeconds - 30,
      });
      const r = await terminal.upload([terminal.record(code, 1_000n)]);
      ctx.expect.outcome(r.results[0], RecordOutcome.REJECTED_EXPIRED, "upload");
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/verified-at-acceptance-time",
    title:
      "A record uploaded long after acceptance settles: codes are checked at accepted_at, not upload time",
    requirements: ["SETTLE-10", "CTRL-6"],
    features: [...OFFLINE, "controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const rec = terminal.record(wallet.offlineCode(), 1_000n);
      await ctx.clock.advance(wallet.profile.offlineCodeValiditySeconds * 3);
      const r = await terminal.upload([rec]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.SETTLED,
        "upload 3 validity periods after acceptance",
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after settlement");
    },
  }),
  defineCase({
    id: "double-offline/over-per-payment-limit",
    title:
      "A record above the certificate's per-payment limit is REJECTED_LIMIT; at Scan it is LIMIT_EXCEEDED",
    requirements: ["SETTLE-9", "VERIFY-9", "SCAN-9"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, {
        balance: 10_000n,
        limits: { perPaymentOffline: 1_000n },
      });
      const r = await terminal.upload([terminal.record(wallet.offlineCode(), 1_001n)]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.REJECTED_LIMIT,
        "upload above the per-payment limit",
      );
      const p = await merchant.scan(wallet.offlineCode(), 1_001n);
      ctx.expect.declined(
        p,
        DeclineReason.LIMIT_EXCEEDED,
        "Scan of an offline code above its limit",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/over-cumulative-limit",
    title:
      "Records of two terminals beyond the certificate's cumulative limit: the excess is REJECTED_LIMIT",
    requirements: ["SETTLE-15"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, {
        balance: 10_000n,
        limits: { perPaymentOffline: 1_000n, cumulativeOffline: 2_500n },
      });
      const t2 = await ctx.fixtures.terminal(merchant);
      await t2.sync();
      const a = await terminal.upload([
        terminal.record(wallet.offlineCode(), 1_000n),
        terminal.record(wallet.offlineCode(), 1_000n),
      ]);
      ctx.expect.outcome(a.results[0], RecordOutcome.SETTLED, "record 1 (1000 of 2500)");
      ctx.expect.outcome(a.results[1], RecordOutcome.SETTLED, "record 2 (2000 of 2500)");
      const b = await t2.upload([
        t2.record(wallet.offlineCode(), 1_000n),
        t2.record(wallet.offlineCode(), 500n),
      ]);
      ctx.expect.outcome(b.results[0], RecordOutcome.REJECTED_LIMIT, "record 3 (3000 > 2500)");
      ctx.expect.outcome(b.results[1], RecordOutcome.SETTLED, "record 4 (2500 of 2500)");
      await balances(ctx, wallet, merchant, 7_500n, 2_500n, "after both batches");
    },
  }),
  defineCase({
    id: "double-offline/settles-into-debt",
    title: "An accepted record settles even when the payer's balance goes negative",
    requirements: ["SETTLE-16", "CTRL-4", "PAY-5"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 200n });
      const r = await terminal.upload([terminal.record(wallet.offlineCode(), 1_000n)]);
      ctx.expect.outcome(r.results[0], RecordOutcome.SETTLED, "upload above the balance");
      await balances(ctx, wallet, merchant, -800n, 1_000n, "after settlement");
      const g = await wallet.client.getWallet({});
      ctx.expect.money(g.balance, -800n, "GetWallet.balance");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "double-offline/revoked-before-sync",
    title: "A record of a wallet revoked before the terminal's key sync is REJECTED_REVOKED",
    requirements: ["SETTLE-12", "WALLET-7", "SETTLE-2"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const terminal = await ctx.fixtures.terminal(merchant);
      const before = await terminal.sync();
      await wallet.client.revokeSeed({ reason: "lost phone" });
      const keys = await terminal.sync();
      ctx.expect.that(
        keys.revokedWalletIds.includes(wallet.walletId),
        "GetIssuerKeys after RevokeSeed does not list the wallet in revoked_wallet_ids",
      );
      ctx.expect.that(
        keys.revocationListVersion > before.revocationListVersion,
        `revocation_list_version did not grow (${before.revocationListVersion} → ${keys.revocationListVersion})`,
      );
      const r = await terminal.upload([terminal.record(wallet.offlineCode(), 1_000n)]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.REJECTED_REVOKED,
        "upload after the synced revocation",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/revoked-after-sync-settles",
    title:
      "A record of a wallet revoked after the terminal's key sync still settles (issuer's risk)",
    requirements: ["SETTLE-13"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      // Revoke strictly after the sync second, so "revoked ≤ keys_synced_at" cannot hold.
      await sleep(1_100, ctx.signal);
      await wallet.client.revokeSeed({ reason: "lost phone" });
      await ctx.clock.sync();
      const r = await terminal.upload([terminal.record(wallet.offlineCode(), 1_000n)]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.SETTLED,
        "upload with a key sync older than the revocation",
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after settlement");
    },
  }),
  defineCase({
    id: "double-offline/stale-keys",
    title:
      "A record accepted more than max_key_age_seconds after the terminal's key sync is REJECTED_STALE_KEYS",
    requirements: ["SETTLE-11", "CTRL-6"],
    features: [...OFFLINE, "controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      await ctx.clock.advance(wallet.profile.maxKeyAgeSeconds + 60);
      const r = await terminal.upload([terminal.record(wallet.offlineCode(), 1_000n)]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.REJECTED_STALE_KEYS,
        "upload with a stale key sync",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/presented-online-then-uploaded",
    title:
      "An offline code paid at a till and then uploaded by terminals settles at the issuer's cost; the payer pays once",
    requirements: ["SETTLE-20", "SETTLE-21", "SCAN-4"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const t2 = await ctx.fixtures.terminal(merchant);
      await t2.sync();
      const code = wallet.offlineCode();
      ctx.expect.succeeded(await merchant.scan(code, 1_000n), "Scan at a till");
      const r = await terminal.upload([terminal.record(code, 1_000n)]);
      expectSettled(ctx, r.results[0], true, "upload of the same code");
      const r2 = await t2.upload([t2.record(code, 400n)]);
      expectSettled(ctx, r2.results[0], true, "upload of the same code by a second terminal");
      await balances(ctx, wallet, merchant, 9_000n, 2_400n, "the payer paid once");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "double-offline/settled-then-scanned",
    title: "An offline code that settled is declined CODE_REUSED when presented at a till",
    requirements: ["SETTLE-17", "SCAN-5"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const code = wallet.offlineCode();
      const r = await terminal.upload([terminal.record(code, 1_000n)]);
      ctx.expect.outcome(r.results[0], RecordOutcome.SETTLED, "upload");
      ctx.expect.declined(
        await merchant.scan(code, 1_000n),
        DeclineReason.CODE_REUSED,
        "Scan of the settled code",
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "money moved once");
    },
  }),
  defineCase({
    id: "double-offline/malformed-records",
    title:
      "Records with a zero amount, a bad currency or a missing time are REJECTED_MALFORMED; garbage codes REJECTED_INVALID",
    requirements: ["SETTLE-9", "VERIFY-9", "SEC-1"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const zero = terminal.record(wallet.offlineCode(), 1n);
      zero.amount!.amountMinor = 0n;
      const badCurrency = terminal.record(wallet.offlineCode(), 100n, { currency: "xx1" });
      const noTime = create(OfflineRecordSchema, {
        ...terminal.record(wallet.offlineCode(), 100n),
        acceptedAt: undefined,
      });
      const noSync = create(OfflineRecordSchema, {
        ...terminal.record(wallet.offlineCode(), 100n),
        keysSyncedAt: undefined,
      });
      const garbage = terminal.record("PC1:NOT-A-CODE", 100n);
      const r = await terminal.upload([zero, badCurrency, noTime, noSync, garbage]);
      ctx.expect.outcome(r.results[0], RecordOutcome.REJECTED_MALFORMED, "record with amount 0");
      ctx.expect.outcome(
        r.results[1],
        RecordOutcome.REJECTED_MALFORMED,
        "record with currency xx1",
      );
      ctx.expect.outcome(
        r.results[2],
        RecordOutcome.REJECTED_MALFORMED,
        "record without accepted_at",
      );
      ctx.expect.outcome(
        r.results[3],
        RecordOutcome.REJECTED_MALFORMED,
        "record without keys_synced_at",
      );
      ctx.expect.outcome(
        r.results[4],
        RecordOutcome.REJECTED_INVALID,
        "record with a garbage code",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "double-offline/rejected-record-not-burned",
    title: "A record rejected as malformed records nothing: fixed and re-uploaded, it settles",
    requirements: ["SETTLE-9"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const code = wallet.offlineCode();
      const bad = terminal.record(code, 1n);
      bad.amount!.amountMinor = 0n;
      const a = await terminal.upload([bad]);
      ctx.expect.outcome(a.results[0], RecordOutcome.REJECTED_MALFORMED, "malformed record");
      const b = await terminal.upload([terminal.record(code, 800n)]);
      ctx.expect.outcome(b.results[0], RecordOutcome.SETTLED, "the fixed record");
      await balances(ctx, wallet, merchant, 9_200n, 800n, "after settlement");
    },
  }),
  defineCase({
    id: "double-offline/ledger-balanced-after-mixed-batch",
    title:
      "After a batch mixing settled, duplicate and rejected records the ledger sums to zero and payer debt is exact",
    requirements: ["PAY-5", "CTRL-5", "SETTLE-16", "SETTLE-4"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, {
        balance: 500n,
        limits: { perPaymentOffline: 2_000n, cumulativeOffline: 3_000n },
      });
      const before = await ctx.control.getLedgerTotal({ currency: ctx.profile.currency });
      const c1 = wallet.offlineCode();
      const records = [
        terminal.record(c1, 2_000n),
        terminal.record(c1, 2_000n),
        terminal.record(wallet.offlineCode(), 2_001n),
        terminal.record(wallet.offlineCode(), 1_000n),
        terminal.record(wallet.offlineCode(), 1n),
      ];
      const r = await terminal.upload(records);
      // [SETTLE-4] One result per record, in request order, each with its record_id.
      ctx.expect.equal(r.results.length, records.length, "number of results");
      ctx.expect.equal(
        r.results.map((x) => x.recordId).join(","),
        records.map((x) => x.recordId).join(","),
        "record_ids of the results, in order",
      );
      const got = r.results.map((x) => RecordOutcome[x.outcome]).join(",");
      ctx.expect.equal(
        got,
        "SETTLED,DUPLICATE,REJECTED_LIMIT,SETTLED,REJECTED_LIMIT",
        "outcomes of the mixed batch",
      );
      await balances(ctx, wallet, merchant, -2_500n, 3_000n, "after the batch");
      const after = await ctx.control.getLedgerTotal({ currency: ctx.profile.currency });
      ctx.expect.equal(after.total?.amountMinor ?? -1n, 0n, "GetLedgerTotal.total");
      ctx.expect.that(
        after.transferCount >= before.transferCount + 2n,
        `GetLedgerTotal.transfer_count grew by ${after.transferCount - before.transferCount}, expected at least 2`,
      );
      await ctx.expect.balance(payerOf(wallet), -2_500n, "payer debt");
    },
  }),
  defineCase({
    id: "double-offline/duplicate-after-days",
    title:
      "A settled code uploaded again days later (within its certificate's validity) is still DUPLICATE",
    requirements: ["SEC-9", "SETTLE-14", "CTRL-6"],
    features: [...OFFLINE, "controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      const rec = terminal.record(wallet.offlineCode(), 1_000n);
      const a = await terminal.upload([rec]);
      ctx.expect.outcome(a.results[0], RecordOutcome.SETTLED, "first upload");
      await ctx.clock.advance(3 * 86_400);
      const again = create(OfflineRecordSchema, { ...rec, recordId: "again" });
      const b = await terminal.upload([again]);
      ctx.expect.outcome(
        b.results[0],
        RecordOutcome.DUPLICATE,
        "the same record three days later, in a new batch",
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "money moved once");
    },
  }),
  defineCase({
    id: "double-offline/signature-s-plus-l",
    title:
      "An offline code whose wallet or issuer signature carries S + L (S ≥ L) is declined CODE_INVALID and burns nothing",
    requirements: ["QR-8", "VERIFY-7"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const first = wallet.offlineCode();
      const second = wallet.offlineCode();
      const a = decodeOwnOfflineCode(first).envelope;
      const b = decodeOwnOfflineCode(second).envelope;
      const bCert = b.certificate!;
      for (const [what, bad] of [
        [
          "the wallet signature",
          encodeOfflineEnvelope(
            create(OfflineCodeSchema, { ...a, signature: withSPlusL(a.signature) }),
          ),
        ],
        [
          "the issuer signature",
          encodeOfflineEnvelope(
            create(OfflineCodeSchema, {
              ...b,
              certificate: create(WalletCertificateSchema, {
                ...bCert,
                issuerSignature: withSPlusL(bCert.issuerSignature),
              }),
            }),
          ),
        ],
      ] as const) {
        ctx.expect.declined(
          await merchant.scan(bad, 100n),
          DeclineReason.CODE_INVALID,
          `Scan of a code with S + L in ${what}`,
        );
      }
      ctx.expect.succeeded(await merchant.scan(first, 100n), "the first genuine code");
      ctx.expect.succeeded(await merchant.scan(second, 100n), "the second genuine code");
      await balances(ctx, wallet, merchant, 9_800n, 200n, "after the two genuine codes");
    },
  }),
  defineCase({
    id: "double-offline/revocation-listed-while-certificate-valid",
    title:
      "A revoked wallet stays in GetIssuerKeys.revoked_wallet_ids beyond max_key_age_seconds while its certificate is valid",
    requirements: ["WALLET-7", "CTRL-6"],
    features: [...OFFLINE, "controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, terminal } = await offlineSetup(ctx, { balance: 10_000n });
      await wallet.client.revokeSeed({ reason: "lost phone" });
      const first = await terminal.sync();
      ctx.expect.that(
        first.revokedWalletIds.includes(wallet.walletId),
        "GetIssuerKeys right after RevokeSeed does not list the wallet",
      );
      // Past max_key_age_seconds (when every terminal has synced since), still
      // before the certificate's not_after.
      const now = await ctx.clock.sync();
      const notAfter = Number(wallet.certificateBody.notAfter);
      const span = Math.min(wallet.profile.maxKeyAgeSeconds + 3_600, notAfter - now - 600);
      ctx.expect.that(span > 0, `certificate expires too soon (not_after ${notAfter}, now ${now})`);
      await ctx.clock.advance(span);
      const later = await terminal.sync();
      ctx.expect.that(
        later.revokedWalletIds.includes(wallet.walletId),
        `GetIssuerKeys ${span} s after the revocation no longer lists the wallet, whose certificate is still valid`,
      );
      ctx.expect.that(
        later.revocationListVersion >= first.revocationListVersion,
        `revocation_list_version went back (${first.revocationListVersion} → ${later.revocationListVersion})`,
      );
    },
  }),
];
