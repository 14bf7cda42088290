import { randomBytes, randomInt } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { isSmallOrderEd25519PublicKey, issueCertificate, profileToProto } from "@paycode/protocol";
import {
  type ConfirmPaymentRequest,
  type ConfirmPaymentResponse,
  ConfirmPaymentResponseSchema,
  type GetWalletResponse,
  GetWalletResponseSchema,
  type ProvisionSeedRequest,
  type ProvisionSeedResponse,
  ProvisionSeedResponseSchema,
  type RevokeSeedRequest,
  type RevokeSeedResponse,
  RevokeSeedResponseSchema,
  WalletCertificateSchema,
} from "@paycode/protocol/v1";
import type { PaymentRecord, WalletRecord } from "../store/records.js";
import { TransactionRetry } from "../store/store.js";
import { hashBearerKey, newBearerKey } from "./api-keys.js";
import { newId } from "./ids.js";
import type { WalletPrincipal } from "./issuer-api.js";
import type { Decision, IssuerContext } from "./issuer-context.js";
import { transferPayment } from "./ledger.js";
import { limitsToProto } from "./limits.js";
import { sealGuard } from "./master-key-rotation.js";
import { beginPasswordAttempt, passwordWasRight, passwordWasWrong } from "./password-throttle.js";
import { burnPasswordTime, verifyPassword } from "./passwords.js";
import { lazyClose, setStatus } from "./payment-transitions.js";
import { raceWindow } from "./race-window.js";
import { money, paymentToProto, timestamp } from "./to-proto.js";
import { utcDay } from "./utc-day.js";
import {
  failedPrecondition,
  invalidArgument,
  notFound,
  permissionDenied,
  requireFreeText,
  requireId,
  requirePassword,
  unauthenticated,
} from "./validation.js";

const HANDLE_SPACE = 2 ** 28;

/** WalletService (§7.2) and step-up confirmation (§9.2). */
export class WalletService {
  constructor(private readonly ctx: IssuerContext) {}

  async provisionSeed(req: ProvisionSeedRequest): Promise<ProvisionSeedResponse> {
    const { ctx } = this;
    requireId("account_id", req.accountId);
    requirePassword("password", req.password);
    // [WALLET-2]
    if (req.walletPublicKey.length !== 32) {
      throw invalidArgument(
        `wallet_public_key must be 32 bytes (Ed25519), got ${req.walletPublicKey.length}`,
      );
    }
    if (isSmallOrderEd25519PublicKey(req.walletPublicKey)) {
      throw invalidArgument("wallet_public_key is not a usable Ed25519 key (small order)");
    }
    requireFreeText("device_label", req.deviceLabel, 128);

    // [WALLET-1] An unknown account costs the same scrypt time and gets the same answer as a wrong password.
    const account = await ctx.store.transaction((tx) => tx.getAccount(req.accountId));
    const known = account?.kind === "payer" && !!account.passwordHash;
    // [SEC-3] / [SEC-15] / [SEC-16] Refused unchecked during a delay or a lock, else counted;
    // [SEC-18] an unknown account id is counted and refused alike.
    const attempt = await beginPasswordAttempt(ctx, req.accountId, known);
    if (account?.kind !== "payer" || !account.passwordHash) {
      await burnPasswordTime(req.password);
      await passwordWasWrong(ctx, attempt, "ProvisionSeed");
      throw unauthenticated("unknown account or wrong password");
    }
    if (!(await verifyPassword(req.password, account.passwordHash))) {
      await passwordWasWrong(ctx, attempt, "ProvisionSeed");
      throw unauthenticated("unknown account or wrong password");
    }
    // [LIMIT-6] Limits stored unset take the issuer's defaults.
    const limits = account.limits ?? ctx.profile.defaultLimits;

    // [QR-7] [KEY-5] Sign with the key in force now, re-read if a rotation may have changed it.
    await ctx.freshKeys();
    const made = await ctx.store.transaction(async (tx) => {
      // [KEY-8] Nothing is sealed under a master key that was rotated away.
      const sealer = await sealGuard(tx, ctx.vault);
      const now = ctx.clock.now();
      const nowSec = Math.floor(now / 1000);
      // [SEC-3] The right password clears the count in the transaction that acts on it.
      await passwordWasRight(ctx, tx, attempt);
      await tx.lockAccounts([account.id]);
      // [WALLET-4] A new device replaces the old one: its codes stop paying (WALLET_REVOKED)
      // and its id enters the revocation list terminals download.
      const previous = ctx.breaks.reprovisionKeepsPrevious
        ? []
        : await tx.listActiveWallets(account.id);
      for (const w of previous) await tx.revokeWallet(w.id, now, "re-provisioned");

      const walletId = newId("w");
      // [CODE-7] A fresh CSPRNG seed per wallet, never derived from anything else.
      const seed = new Uint8Array(randomBytes(32));
      const token = newBearerKey("wallet");
      // [QR-6] The certificate carries the wallet key, the account currency and offline
      // limits, valid from now − backdate to now + validity.
      const offline = ctx.breaks.certificateDefaultOfflineLimits
        ? ctx.profile.defaultLimits
        : limits;
      const notBefore = nowSec - ctx.profile.certificateBackdateSeconds;
      const notAfter = nowSec + ctx.profile.certificateValiditySeconds;
      // [QR-7] Signed by the newest issuer key valid now, which GetIssuerKeys lists.
      const certificate = issueCertificate(
        {
          walletId,
          walletPublicKey: req.walletPublicKey,
          currency: account.currency,
          perPaymentLimitMinor: offline.perPaymentOffline,
          cumulativeLimitMinor: offline.cumulativeOffline,
          notBefore: BigInt(notBefore),
          notAfter: BigInt(notAfter),
        },
        ctx.signingKey.keyId,
        ctx.signingKey.privateKey,
      );
      const record: WalletRecord = {
        id: walletId,
        accountId: account.id,
        handle: 0,
        tokenHash: hashBearerKey(token),
        seedEnvelope: sealer.seal(seed, `wallet-seed:${walletId}`),
        publicKey: req.walletPublicKey,
        certificate: toBinary(WalletCertificateSchema, certificate),
        certNotAfter: notAfter * 1000,
        deviceLabel: req.deviceLabel,
        createdAt: now,
        revokedAt: null,
        revokeReason: null,
      };
      // [CODE-5] The store refuses a handle any wallet ever held, revoked ones included.
      // Handles are random so they reveal nothing about how many wallets exist.
      for (let attempt = 0; ; attempt++) {
        record.handle = randomInt(0, HANDLE_SPACE);
        if (await tx.insertWallet(record)) break;
        if (attempt >= 32) throw new TransactionRetry("no free wallet handle found");
      }
      return { record, seed, token, certificate, now, previous };
    });
    for (const w of made.previous) ctx.forgetWallet(w.handle);
    ctx.rememberWallet(made.record.handle, { walletId: made.record.id, seed: made.seed });
    // [AUDIT-4] Audit, after the commit (never the token, seed or password): a new wallet
    // credential, and each wallet it replaced.
    await ctx.audit.record({
      type: "wallet.provisioned",
      at: made.now,
      subject: { kind: "wallet", id: made.record.id },
      detail: { account: account.id, replaced: made.previous.length },
    });
    for (const w of made.previous) {
      await ctx.audit.record({
        type: "wallet.revoked",
        at: made.now,
        subject: { kind: "wallet", id: w.id },
        detail: {
          account: account.id,
          rpc: "ProvisionSeed",
          reason: "re-provisioned",
          replacedBy: made.record.id,
        },
      });
    }

    // [WALLET-3] Every field set; [WALLET-5] the wallet is committed, so its codes pay from now on;
    // [RPC-1] the same profile as GetIssuerKeys and GetCapabilities.
    return create(ProvisionSeedResponseSchema, {
      walletId: made.record.id,
      handle: made.record.handle,
      seed: made.seed,
      certificate: made.certificate,
      profile: profileToProto(ctx.profile, ctx.codeKey, ctx.codeKeyVersion),
      serverTime: timestamp(made.now),
      limits: limitsToProto(limits, account.currency),
      walletToken: made.token,
    });
  }

  async revokeSeed(wallet: WalletPrincipal, req: RevokeSeedRequest): Promise<RevokeSeedResponse> {
    const { ctx } = this;
    requireFreeText("reason", req.reason, 256);
    const { w, first } = await ctx.store.transaction(async (tx) => {
      // [WALLET-8] The store keeps the first revoked_at of an already revoked wallet;
      // [WALLET-7] a first revocation raises the revocation list version.
      const first = await tx.revokeWallet(
        wallet.walletId,
        ctx.clock.now(),
        req.reason || "revoked by the wallet",
      );
      return { w: await tx.getWallet(wallet.walletId), first };
    });
    if (!w || w.revokedAt === null) throw notFound("wallet not found");
    ctx.forgetWallet(w.handle);
    // [AUDIT-4] Audit the transition only; a repeated RevokeSeed changes nothing.
    if (first) {
      await ctx.audit.record({
        type: "wallet.revoked",
        at: w.revokedAt,
        subject: { kind: "wallet", id: w.id },
        detail: { account: w.accountId, rpc: "RevokeSeed", reason: w.revokeReason ?? "" },
      });
    }
    return create(RevokeSeedResponseSchema, { revokedAt: timestamp(w.revokedAt) });
  }

  async getWallet(wallet: WalletPrincipal): Promise<GetWalletResponse> {
    const { ctx } = this;
    const r = await ctx.store.transaction(async (tx) => {
      const now = ctx.clock.now();
      const w = await tx.getWallet(wallet.walletId);
      const account = await tx.getAccount(wallet.accountId);
      if (!w || !account) return undefined;
      // [WALLET-9] / [PAY-3] Only payments still pending after their deadline is applied.
      if (!ctx.breaks.noAutoClose && !ctx.breaks.walletPendingIgnoresDeadline) {
        await tx.closeExpiredPaymentsOfWallet(w.id, ctx.breaks.deadlineExclusive ? now - 1 : now);
      }
      return { w, account, pending: await tx.listPendingPayments(w.id), now };
    });
    if (!r) throw notFound("wallet not found");
    return create(GetWalletResponseSchema, {
      walletId: r.w.id,
      accountId: r.account.id,
      balance: money(r.account.balance, r.account.currency),
      revoked: r.w.revokedAt !== null,
      pendingPayments: r.pending.map(paymentToProto),
      limits: limitsToProto(r.account.limits ?? ctx.profile.defaultLimits, r.account.currency),
      // [RPC-2] The issuer clock the deadlines above were applied at; wallets re-sync from it.
      serverTime: timestamp(r.now),
    });
  }

  async confirmPayment(
    wallet: WalletPrincipal,
    req: ConfirmPaymentRequest,
  ): Promise<ConfirmPaymentResponse> {
    const { ctx } = this;
    requireId("payment_id", req.paymentId);
    requirePassword("password", req.password);
    // [PAY-9] Another wallet's payment is indistinguishable from none.
    const notYours = () => notFound(`payment ${req.paymentId} not found`);
    const ownedBy = (p: PaymentRecord) =>
      p.walletId === wallet.walletId || ctx.breaks.confirmAnyWallet;

    // 1. Ownership and state (closing it if its deadline passed), before the costly password check.
    const pending = await ctx.decide(async (tx): Promise<Decision<PaymentRecord>> => {
      const p = await tx.getPayment(req.paymentId);
      if (!p || !ownedBy(p)) return { error: notYours() };
      const w = await tx.getWallet(wallet.walletId);
      // [PAY-11]
      if (!w || (w.revokedAt !== null && !ctx.breaks.confirmByRevokedWallet)) {
        return { error: permissionDenied("the wallet is revoked") };
      }
      const current = await lazyClose(ctx, tx, p, ctx.clock.now());
      const refusal = notConfirmable(current, p, ctx.breaks.confirmCancelled);
      return refusal ? { error: refusal } : { ok: current };
    });

    // 2. The password, outside any transaction: scrypt is slow and must not hold locks.
    const account = await ctx.store.transaction((tx) => tx.getAccount(wallet.accountId));
    // [SEC-3] / [SEC-15] / [SEC-16] After steps 1–4: refused unchecked during a delay or a lock, else counted.
    const attempt = await beginPasswordAttempt(ctx, wallet.accountId, true);
    const passwordOk =
      account?.passwordHash !== null && account?.passwordHash !== undefined
        ? await verifyPassword(req.password, account.passwordHash)
        : false;
    // [PAY-8] A wrong password changes nothing: the payment stays pending with its deadline.
    if (!passwordOk && !ctx.breaks.confirmWithoutPassword) {
      await passwordWasWrong(ctx, attempt, "ConfirmPayment");
      throw permissionDenied("wrong payment password");
    }
    if (ctx.breaks.confirmWithoutLock) await raceWindow();

    // 3. The money decision, re-checking the state under the row lock.
    const merchantAccount = await ctx.merchantAccountId(pending.merchantId);
    // The confirm-check-not-atomic mutant writes on its first read, after a pause
    // standing for a slow password check ([PAY-6], [SEC-2]).
    if (ctx.breaks.confirmCheckNotAtomic) await new Promise((resolve) => setTimeout(resolve, 50));
    const done = await ctx.decide(async (tx): Promise<Decision<PaymentRecord>> => {
      // [SEC-3] The right password clears the count, whatever the payment's fate below.
      await passwordWasRight(ctx, tx, attempt);
      const now = ctx.clock.now();
      let current = pending;
      // [PAY-6] Re-checked under the lock: a second confirmation finds it SUCCEEDED
      // (the confirm-without-lock mutant trusts what it read before the password
      // check; confirm-check-not-atomic locks the row but judges the earlier read).
      if (!ctx.breaks.confirmWithoutLock) {
        const p = await tx.getPayment(req.paymentId, { forUpdate: true });
        if (!p || !ownedBy(p)) return { error: notYours() };
        current = ctx.breaks.confirmCheckNotAtomic ? pending : await lazyClose(ctx, tx, p, now);
        const refusal = notConfirmable(current, p, ctx.breaks.confirmCancelled);
        if (refusal) return { error: refusal };
      }
      await tx.lockAccounts([current.payerAccountId!, merchantAccount]);
      const payer = await tx.getAccount(current.payerAccountId!, { forUpdate: true });
      if (!payer) throw new Error(`payer account of payment ${current.id} is missing`);
      // [PAY-7] Funds are checked again at confirmation: the balance may have changed since Scan.
      if (
        payer.balance < current.amount &&
        !ctx.breaks.ignoreInsufficientFunds &&
        !ctx.breaks.confirmTrustsScanFunds
      ) {
        return {
          ok: await setStatus(ctx, tx, current, "DECLINED", {
            declineReason: "INSUFFICIENT_FUNDS",
            updatedAt: now,
          }),
        };
      }
      // [PAY-7] One transfer payer → merchant.
      if (!ctx.breaks.confirmMovesNoMoney) {
        await transferPayment(tx, current, payer.id, merchantAccount, now);
      }
      // [LIMIT-4] Confirmed payments do not count toward the password-free totals.
      if (ctx.breaks.countConfirmedPayments) {
        await tx.addDailyUsage(payer.id, utcDay(now), current.amount);
      }
      return {
        ok: await setStatus(ctx, tx, current, "SUCCEEDED", { passwordFree: false, updatedAt: now }),
      };
    });
    return create(ConfirmPaymentResponseSchema, {
      payment: paymentToProto(done),
      // [RPC-2] Wallets re-sync their clock offset from it.
      serverTime: timestamp(ctx.clock.now()),
    });
  }
}

/**
 * [PAY-10] Why a payment cannot be confirmed now, if it cannot; `before` is
 * the record prior to lazy closing, so an expired one is told apart.
 */
function notConfirmable(
  p: PaymentRecord,
  before: PaymentRecord,
  confirmCancelled: boolean,
): ConnectError | undefined {
  if (p.status === "CLOSED" && before.status === "PENDING_CONFIRMATION") {
    return failedPrecondition("the confirmation deadline has passed; the payment is closed");
  }
  // [PAY-1] The confirm-cancelled mutant only refuses payments that were paid.
  const refused = confirmCancelled
    ? p.status === "SUCCEEDED" || p.status === "REFUNDED"
    : p.status !== "PENDING_CONFIRMATION";
  if (refused) {
    return failedPrecondition(`payment is ${p.status}, not PENDING_CONFIRMATION`);
  }
  return undefined;
}
