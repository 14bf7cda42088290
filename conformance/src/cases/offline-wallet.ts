import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { generateEd25519 } from "@paycode/protocol";
import type { Money } from "@paycode/protocol/v1";
import {
  CodeKind,
  DeclineReason,
  type IssuerProfile,
  IssuerProfileSchema,
  WalletCertificateBodySchema,
} from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { balances, walletAndMerchant } from "./common.js";

/** Fields in which two profiles differ, described for a failure message. */
function profileDifferences(a: IssuerProfile, b: IssuerProfile): string[] {
  const out: string[] = [];
  for (const f of IssuerProfileSchema.fields) {
    const x = (a as unknown as Record<string, unknown>)[f.localName];
    const y = (b as unknown as Record<string, unknown>)[f.localName];
    const show = (v: unknown) =>
      v instanceof Uint8Array
        ? `${v.length} bytes ${Buffer.from(v).toString("hex").slice(0, 12)}…`
        : JSON.stringify(v);
    const same =
      x instanceof Uint8Array && y instanceof Uint8Array
        ? Buffer.from(x).equals(Buffer.from(y))
        : x === y;
    if (!same) out.push(`${f.name} ProvisionSeed ${show(x)} vs ${show(y)}`);
  }
  return out;
}

/**
 * The wallet provisions once, then makes online codes with no network: the
 * codes must pay, stay distinct within a minute, and tolerate a bounded
 * clock skew.
 */
export const offlineWalletCases: Case[] = [
  defineCase({
    id: "offline-wallet/code-pays",
    title:
      "An online code the wallet made offline from its provisioned seed pays once, moving the amount",
    requirements: ["WALLET-5", "VERIFY-1", "VERIFY-5", "SCAN-11", "SCAN-13"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 50_000n });
      const p = await merchant.scan(wallet.onlineCode(), 1_234n);
      ctx.expect.succeeded(p, "Scan of a fresh code");
      ctx.expect.money(p.amount, 1_234n, "Payment.amount");
      ctx.expect.equal(p.codeKind, CodeKind.ONLINE, "Payment.code_kind");
      ctx.expect.that(p.paymentId !== "", "Scan: payment_id is empty");
      await balances(ctx, wallet, merchant, 48_766n, 1_234n, "after payment");
      await ctx.expect.ledgerBalanced();
    },
  }),
  defineCase({
    id: "offline-wallet/eight-codes-one-minute",
    title: "Eight codes made in one time step (counters 0..7) are all distinct and all pay",
    requirements: ["CODE-2", "CODE-3", "SCAN-11"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { dailyPasswordFreeCount: 20, dailyPasswordFreeAmount: 100_000n },
      });
      // Codes of the current step stay valid for window_back_steps more
      // minutes, so crossing a minute boundary mid-case is harmless.
      await ctx.clock.sync();
      const step = ctx.clock.step();
      const codes = Array.from({ length: 8 }, (_, counter) => wallet.onlineCode({ step, counter }));
      ctx.expect.equal(new Set(codes).size, 8, "distinct codes among 8 of one step");
      for (const [i, code] of codes.entries()) {
        const p = await merchant.scan(code, 100n);
        ctx.expect.succeeded(p, `Scan of code ${i + 1}/8 (counter ${i})`);
      }
      await balances(ctx, wallet, merchant, 9_200n, 800n, "after 8 payments");
    },
  }),
  defineCase({
    id: "offline-wallet/clock-ahead-within-tolerance",
    title: "A code from a wallet clock one step ahead (window_ahead_steps) pays",
    requirements: ["VERIFY-5"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      await ctx.clock.awayFromStepBoundary();
      const ahead = wallet.profile.windowAheadSteps;
      ctx.expect.that(
        ahead >= 1,
        `profile window_ahead_steps is ${ahead}; the default profile has 1`,
      );
      const p = await merchant.scan(wallet.onlineCode({ stepOffset: ahead }), 500n);
      ctx.expect.succeeded(p, `Scan of a code ${ahead} step(s) ahead`);
    },
  }),
  defineCase({
    id: "offline-wallet/clock-ahead-beyond-tolerance",
    title:
      "A code from a wallet clock beyond window_ahead_steps is declined CODE_INVALID, no money moves",
    requirements: ["VERIFY-3", "SEC-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 5_000n });
      await ctx.clock.awayFromStepBoundary();
      const p = await merchant.scan(
        wallet.onlineCode({ stepOffset: wallet.profile.windowAheadSteps + 1 }),
        500n,
      );
      ctx.expect.declined(
        p,
        DeclineReason.CODE_INVALID,
        "Scan of a code from too far in the future",
      );
      await balances(ctx, wallet, merchant, 5_000n, 0n, "after the decline");
    },
  }),
  defineCase({
    id: "offline-wallet/clock-behind-within-tolerance",
    title: "A code from a wallet clock running slow by window_back_steps pays",
    requirements: ["VERIFY-5"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      await ctx.clock.awayFromStepBoundary();
      const p = await merchant.scan(
        wallet.onlineCode({ stepOffset: -wallet.profile.windowBackSteps }),
        700n,
      );
      ctx.expect.succeeded(p, `Scan of a code ${wallet.profile.windowBackSteps} steps old`);
    },
  }),
  defineCase({
    id: "offline-wallet/provision-response-complete",
    title:
      "ProvisionSeed returns wallet id, 28-bit handle, 32-byte seed, certificate for the given key, profile, limits and token",
    requirements: ["WALLET-3", "QR-6", "QR-7", "CODE-1", "RPC-1", "SETTLE-1", "LIMIT-6", "CTRL-2"],
    async run(ctx: CaseContext) {
      const account = await ctx.fixtures.account();
      const key = generateEd25519();
      const r = await ctx.raw.wallet().provisionSeed({
        accountId: account.accountId,
        password: account.password,
        walletPublicKey: key.publicKey,
        deviceLabel: "conformance",
      });
      ctx.expect.that(r.walletId !== "", "ProvisionSeed: wallet_id is empty");
      ctx.expect.that(r.handle < 2 ** 28, `ProvisionSeed: handle ${r.handle} is not below 2^28`);
      ctx.expect.equal(r.seed.length, 32, "ProvisionSeed: seed length");
      ctx.expect.that(r.walletToken !== "", "ProvisionSeed: wallet_token is empty");
      ctx.expect.that(r.serverTime !== undefined, "ProvisionSeed: server_time not set");
      const prof = r.profile;
      ctx.expect.that(prof, "ProvisionSeed: profile not set");
      ctx.expect.that(
        prof.issuerPrefix >= 10 && prof.issuerPrefix <= 99,
        `profile issuer_prefix ${prof.issuerPrefix} is not in 10..99`,
      );
      ctx.expect.equal(prof.codeKey.length, 32, "profile code_key length");
      ctx.expect.that(
        prof.windowBackSteps + prof.windowAheadSteps + 1 <= 16 &&
          prof.lookbackSteps >= prof.windowBackSteps,
        "profile windows break B + F + 1 ≤ 16 or L ≥ B",
      );
      const l = r.limits;
      ctx.expect.that(
        l?.perPaymentPasswordFree &&
          l.dailyPasswordFreeAmount &&
          l.perPaymentOffline &&
          l.cumulativeOffline &&
          l.dailyPasswordFreeCount > 0,
        "ProvisionSeed: limits must have every field set",
      );
      const cert = r.certificate;
      ctx.expect.that(cert, "ProvisionSeed: certificate not set");
      const body = fromBinary(WalletCertificateBodySchema, cert.body);
      ctx.expect.equal(body.walletId, r.walletId, "certificate body wallet_id");
      ctx.expect.equal(
        Buffer.from(body.walletPublicKey).toString("hex"),
        Buffer.from(key.publicKey).toString("hex"),
        "certificate body wallet_public_key",
      );
      ctx.expect.equal(body.currency, prof.currency, "certificate body currency");
      ctx.expect.equal(
        body.perPaymentLimitMinor,
        l.perPaymentOffline!.amountMinor,
        "certificate per_payment_limit_minor",
      );
      ctx.expect.equal(
        body.cumulativeLimitMinor,
        l.cumulativeOffline!.amountMinor,
        "certificate cumulative_limit_minor",
      );
      const now = Number(r.serverTime!.seconds);
      ctx.expect.that(
        body.notBefore <= BigInt(now) && body.notAfter > BigInt(now),
        `certificate validity [${body.notBefore}, ${body.notAfter}) does not contain server_time ${now}`,
      );
      // The certificate's key must be published, valid at not_before.
      const merchant = await ctx.fixtures.merchant();
      const keys = await merchant.settlement.getIssuerKeys({});
      const k = keys.keys.find((x) => x.keyId === cert.issuerKeyId);
      ctx.expect.that(k, `GetIssuerKeys does not list the certificate's key ${cert.issuerKeyId}`);
      ctx.expect.equal(k.publicKey.length, 32, "issuer public key length");
      ctx.expect.that(
        k.notBefore <= body.notBefore && body.notBefore < k.notAfter,
        "issuer key validity does not contain the certificate's not_before",
      );
      const caps = await ctx.control.getCapabilities({});
      // GetCapabilities: the same profile; GetIssuerKeys: the same without K_code.
      ctx.expect.that(caps.profile, "GetCapabilities: profile not set");
      const capsDiff = profileDifferences(prof, caps.profile);
      ctx.expect.that(
        capsDiff.length === 0,
        `GetCapabilities returns another profile than ProvisionSeed: ${capsDiff.join("; ")}`,
      );
      ctx.expect.that(keys.profile, "GetIssuerKeys: profile not set");
      ctx.expect.equal(
        keys.profile.codeKey.length,
        0,
        "GetIssuerKeys profile code_key length (merchants and terminals never get K_code)",
      );
      const keysDiff = profileDifferences(prof, keys.profile).filter(
        (d) => !d.startsWith("code_key "),
      );
      ctx.expect.that(
        keysDiff.length === 0,
        `GetIssuerKeys returns another profile than ProvisionSeed: ${keysDiff.join("; ")}`,
      );
      if (prof.profileId === "paycode-default-v1") {
        // The default profile fixes the default limits (spec §3.2).
        const want = {
          perPaymentPasswordFree: 100_000n,
          dailyPasswordFreeAmount: 500_000n,
          perPaymentOffline: 5_000n,
          cumulativeOffline: 20_000n,
        };
        for (const [field, amount] of Object.entries(want)) {
          ctx.expect.money(
            (l as unknown as Record<string, Money | undefined>)[field],
            amount,
            `default limit ${field}`,
          );
        }
        ctx.expect.equal(l.dailyPasswordFreeCount, 10, "default limit daily_password_free_count");
      }
    },
  }),
  defineCase({
    id: "offline-wallet/provision-wrong-password",
    title: "ProvisionSeed with a wrong password or an unknown account fails unauthenticated",
    requirements: ["WALLET-1"],
    async run(ctx: CaseContext) {
      const account = await ctx.fixtures.account();
      const key = generateEd25519();
      const w = ctx.raw.wallet();
      await ctx.expect.error(
        w.provisionSeed({
          accountId: account.accountId,
          password: `${account.password}x`,
          walletPublicKey: key.publicKey,
          deviceLabel: "x",
        }),
        Code.Unauthenticated,
        "ProvisionSeed with a wrong password",
      );
      await ctx.expect.error(
        w.provisionSeed({
          accountId: `${account.accountId}-nope`,
          password: account.password,
          walletPublicKey: key.publicKey,
          deviceLabel: "x",
        }),
        Code.Unauthenticated,
        "ProvisionSeed for an unknown account",
      );
    },
  }),
  defineCase({
    id: "offline-wallet/reprovision-revokes-previous",
    title:
      "Provisioning a new wallet revokes the account's previous one: its codes are declined WALLET_REVOKED",
    requirements: ["WALLET-4", "WALLET-6", "VERIFY-5", "CODE-5", "CODE-7"],
    async run(ctx: CaseContext) {
      const account = await ctx.fixtures.account({ balance: 10_000n });
      const merchant = await ctx.fixtures.merchant();
      const first = await ctx.fixtures.wallet(account);
      const second = await ctx.fixtures.wallet(account);
      ctx.expect.that(first.walletId !== second.walletId, "the new wallet has the old wallet's id");
      ctx.expect.that(
        first.handle !== second.handle,
        `the new wallet got the revoked wallet's handle ${first.handle}`,
      );
      ctx.expect.that(
        !Buffer.from(first.seed).equals(Buffer.from(second.seed)),
        "the new wallet got the old wallet's seed",
      );
      const old = await merchant.scan(first.onlineCode(), 300n);
      ctx.expect.declined(old, DeclineReason.WALLET_REVOKED, "Scan of the replaced wallet's code");
      const ok = await merchant.scan(second.onlineCode(), 300n);
      ctx.expect.succeeded(ok, "Scan of the new wallet's code");
      await ctx.expect.balance({ accountId: account.accountId }, 9_700n, "payer after one payment");
    },
  }),
  defineCase({
    id: "offline-wallet/revoked-wallet-declined",
    title:
      "After RevokeSeed the wallet's online and offline codes are declined WALLET_REVOKED; GetWallet says revoked",
    requirements: ["WALLET-6", "WALLET-8", "VERIFY-5"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const r1 = await wallet.client.revokeSeed({ reason: "lost phone" });
      ctx.expect.that(r1.revokedAt, "RevokeSeed: revoked_at not set");
      const online = await merchant.scan(wallet.onlineCode(), 100n);
      ctx.expect.declined(
        online,
        DeclineReason.WALLET_REVOKED,
        "Scan of a revoked wallet's online code",
      );
      const offline = await merchant.scan(wallet.offlineCode(), 100n);
      ctx.expect.declined(
        offline,
        DeclineReason.WALLET_REVOKED,
        "Scan of a revoked wallet's offline code",
      );
      const r2 = await wallet.client.revokeSeed({ reason: "again" });
      ctx.expect.equal(
        r2.revokedAt?.seconds,
        r1.revokedAt.seconds,
        "second RevokeSeed revoked_at (must be the original)",
      );
      const g = await wallet.client.getWallet({});
      ctx.expect.equal(g.revoked, true, "GetWallet.revoked");
      await balances(ctx, wallet, merchant, 10_000n, 0n, "after the declines");
    },
  }),
  defineCase({
    id: "offline-wallet/get-wallet-balance",
    title:
      "GetWallet reports the account balance, its limits and exactly the wallet's pending payments",
    requirements: ["WALLET-9", "LIMIT-6"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 8_000n,
        limits: { perPaymentPasswordFree: 3_000n },
      });
      ctx.expect.succeeded(await merchant.scan(wallet.onlineCode(), 2_500n), "Scan of 2500");
      const pending = await merchant.scan(wallet.onlineCode(), 4_000n);
      ctx.expect.pending(pending, "Scan of 4000 (above the password-free limit)");
      const g = await wallet.client.getWallet({});
      ctx.expect.equal(g.walletId, wallet.walletId, "GetWallet.wallet_id");
      ctx.expect.equal(g.accountId, wallet.accountId, "GetWallet.account_id");
      ctx.expect.money(g.balance, 5_500n, "GetWallet.balance");
      ctx.expect.equal(g.revoked, false, "GetWallet.revoked");
      ctx.expect.money(
        g.limits?.perPaymentPasswordFree,
        3_000n,
        "GetWallet.limits.per_payment_password_free",
      );
      for (const f of [
        "dailyPasswordFreeAmount",
        "perPaymentOffline",
        "cumulativeOffline",
      ] as const) {
        ctx.expect.money(
          g.limits?.[f],
          wallet.limits?.[f]?.amountMinor ?? -1n,
          `GetWallet.limits.${f} (ProvisionSeed's)`,
        );
      }
      ctx.expect.equal(
        g.limits?.dailyPasswordFreeCount,
        wallet.limits?.dailyPasswordFreeCount,
        "GetWallet.limits.daily_password_free_count",
      );
      ctx.expect.equal(
        g.pendingPayments.map((p) => p.paymentId).join(","),
        pending.paymentId,
        "GetWallet.pending_payments",
      );
      await merchant.client.cancelPayment({
        lookup: { case: "paymentId", value: pending.paymentId },
      });
      const after = await wallet.client.getWallet({});
      ctx.expect.equal(after.pendingPayments.length, 0, "GetWallet.pending_payments after cancel");
      ctx.expect.money(after.balance, 5_500n, "GetWallet.balance after cancel");
    },
  }),
  defineCase({
    id: "offline-wallet/offline-code-pays-online",
    title:
      "An offline (PC1:) code presented to Scan pays like an online one, with code_kind OFFLINE",
    requirements: ["VERIFY-7", "SCAN-11", "SCAN-13", "QR-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 9_000n });
      const p = await merchant.scan(wallet.offlineCode(), 1_500n);
      ctx.expect.succeeded(p, "Scan of an offline code");
      ctx.expect.equal(p.codeKind, CodeKind.OFFLINE, "Payment.code_kind");
      await balances(ctx, wallet, merchant, 7_500n, 1_500n, "after payment");
    },
  }),
  defineCase({
    id: "offline-wallet/reference-wallet-client",
    title:
      "Codes of the reference wallet client, provisioned against the target, pay online and offline",
    requirements: ["CODE-2", "CODE-4", "QR-1", "QR-2", "QR-3", "WALLET-5"],
    async run(ctx: CaseContext) {
      const account = await ctx.fixtures.account({ balance: 10_000n });
      const merchant = await ctx.fixtures.merchant();
      const wallet = ctx.fixtures.referenceWallet();
      await wallet.provision({
        accountId: account.accountId,
        password: account.password,
        deviceLabel: "conformance",
      });
      const a = wallet.onlineCode();
      const b = wallet.onlineCode();
      ctx.expect.that(a !== b, "the reference wallet made the same online code twice");
      ctx.expect.succeeded(await merchant.scan(a, 100n), "Scan of the first online code");
      ctx.expect.succeeded(await merchant.scan(b, 200n), "Scan of the second online code");
      ctx.expect.succeeded(
        await merchant.scan(wallet.offlineCode(), 300n),
        "Scan of an offline code",
      );
      ctx.expect.succeeded(
        await merchant.scan(wallet.offlineCode(), 400n),
        "Scan of a second offline code",
      );
      await ctx.expect.balance({ accountId: account.accountId }, 9_000n, "payer");
    },
  }),
  defineCase({
    id: "offline-wallet/certificate-body-exact",
    title:
      "ProvisionSeed's certificate body is the canonical encoding of the wallet id, key, currency, the account's own offline limits and server_time − 300 .. + 30 days",
    requirements: ["QR-6", "LIMIT-6"],
    async run(ctx: CaseContext) {
      const account = await ctx.fixtures.account({
        limits: {
          perPaymentPasswordFree: 4_500n,
          perPaymentOffline: 3_100n,
          cumulativeOffline: 12_300n,
        },
      });
      const key = generateEd25519();
      const r = await ctx.raw.wallet().provisionSeed({
        accountId: account.accountId,
        password: account.password,
        walletPublicKey: key.publicKey,
        deviceLabel: "conformance",
      });
      const cert = r.certificate;
      ctx.expect.that(cert, "ProvisionSeed: certificate not set");
      ctx.expect.that(r.serverTime, "ProvisionSeed: server_time not set");
      const body = fromBinary(WalletCertificateBodySchema, cert.body);
      ctx.expect.equal(
        Buffer.from(toBinary(WalletCertificateBodySchema, body)).toString("hex"),
        Buffer.from(cert.body).toString("hex"),
        "certificate body bytes (must be the canonical encoding of its values)",
      );
      ctx.expect.equal(body.walletId, r.walletId, "certificate body wallet_id");
      ctx.expect.equal(
        Buffer.from(body.walletPublicKey).toString("hex"),
        Buffer.from(key.publicKey).toString("hex"),
        "certificate body wallet_public_key",
      );
      ctx.expect.equal(body.currency, ctx.profile.currency, "certificate body currency");
      ctx.expect.equal(
        body.perPaymentLimitMinor,
        3_100n,
        "certificate per_payment_limit_minor (the account's)",
      );
      ctx.expect.equal(
        body.cumulativeLimitMinor,
        12_300n,
        "certificate cumulative_limit_minor (the account's)",
      );
      const now = r.serverTime.seconds;
      ctx.expect.equal(body.notBefore, now - 300n, "certificate not_before (server_time − 300)");
      ctx.expect.equal(
        body.notAfter,
        now + 2_592_000n,
        "certificate not_after (server_time + 30 days)",
      );
      const l = r.limits;
      ctx.expect.money(
        l?.perPaymentPasswordFree,
        4_500n,
        "ProvisionSeed limits.per_payment_password_free",
      );
      ctx.expect.money(l?.perPaymentOffline, 3_100n, "ProvisionSeed limits.per_payment_offline");
      ctx.expect.money(l?.cumulativeOffline, 12_300n, "ProvisionSeed limits.cumulative_offline");
      if (ctx.profile.profileId === "paycode-default-v1") {
        // Limits the account was created without take the defaults of §3.2.
        ctx.expect.money(
          l?.dailyPasswordFreeAmount,
          500_000n,
          "default limit daily_password_free_amount",
        );
        ctx.expect.equal(l?.dailyPasswordFreeCount, 10, "default limit daily_password_free_count");
      }
    },
  }),
  defineCase({
    id: "offline-wallet/get-wallet-applies-deadline",
    title:
      "GetWallet no longer lists a pending payment once its confirmation deadline has passed, even when nothing else read it",
    requirements: ["WALLET-9", "PAY-3"],
    features: ["controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { perPaymentPasswordFree: 1_000n },
      });
      const p = await merchant.scan(wallet.onlineCode(), 3_000n);
      ctx.expect.pending(p, "Scan of 3000 (above the password-free limit)");
      const before = await wallet.client.getWallet({});
      ctx.expect.equal(
        before.pendingPayments.map((x) => x.paymentId).join(","),
        p.paymentId,
        "GetWallet.pending_payments before the deadline",
      );
      await ctx.clock.advance(wallet.profile.confirmationTimeoutSeconds + 1);
      const after = await wallet.client.getWallet({});
      ctx.expect.equal(
        after.pendingPayments.map((x) => x.paymentId).join(","),
        "",
        "GetWallet.pending_payments after the deadline (the first call after it)",
      );
      ctx.expect.money(after.balance, 10_000n, "GetWallet.balance after the deadline");
    },
  }),
  defineCase({
    id: "offline-wallet/revoke-again-later",
    title:
      "A RevokeSeed repeated minutes later returns the original revoked_at and leaves the revocation list version unchanged",
    requirements: ["WALLET-8"],
    features: ["controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx);
      const r1 = await wallet.client.revokeSeed({ reason: "lost phone" });
      ctx.expect.that(r1.revokedAt, "RevokeSeed: revoked_at not set");
      const k1 = await merchant.settlement.getIssuerKeys({});
      await ctx.clock.advance(120);
      const r2 = await wallet.client.revokeSeed({ reason: "again" });
      ctx.expect.equal(
        r2.revokedAt && timestampMs(r2.revokedAt),
        timestampMs(r1.revokedAt),
        "second RevokeSeed revoked_at (must be the original, in ms)",
      );
      const k2 = await merchant.settlement.getIssuerKeys({});
      ctx.expect.equal(
        k2.revocationListVersion,
        k1.revocationListVersion,
        "revocation_list_version after the repeated RevokeSeed",
      );
      ctx.expect.that(
        k2.revokedWalletIds.includes(wallet.walletId),
        "GetIssuerKeys.revoked_wallet_ids no longer lists the wallet",
      );
      ctx.expect.equal((await wallet.client.getWallet({})).revoked, true, "GetWallet.revoked");
    },
  }),
];
