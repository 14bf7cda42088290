import { create } from "@bufbuild/protobuf";
import { type ScanRequest, type ScanResponse, ScanResponseSchema } from "@paycode/protocol/v1";
import type {
  AccountRecord,
  DeclineReasonName,
  PaymentRecord,
  WalletRecord,
} from "../store/records.js";
import {
  type OneCallScan,
  type ScanThrottleInput,
  TransactionRetry,
  type Tx,
} from "../store/store.js";
import { type DecodedCode, decodeScannedCode } from "./code-decoder.js";
import { bytesEqual, sha256 } from "./digest.js";
import { newTimeOrderedId } from "./ids.js";
import type { MerchantPrincipal } from "./issuer-api.js";
import type { Decision, IssuerContext } from "./issuer-context.js";
import { transferPayment } from "./ledger.js";
import { stepUpReason } from "./limits.js";
import { lazyClose } from "./payment-transitions.js";
import { raceWindow } from "./race-window.js";
import type { RuleSwitches } from "./rule-switches.js";
import { newScanPayment } from "./scan-payment.js";
import {
  isVerificationFailure,
  MAC_FAILURE_REVOKE_REASON,
  MERCHANT_WINDOW_MS,
  merchantWindowStart,
  stepUpUntil,
} from "./scan-throttle.js";
import { throttled } from "./throttled.js";
import { paymentToProto } from "./to-proto.js";
import { utcDay } from "./utc-day.js";
import {
  alreadyExists,
  requireAmount,
  requireCode,
  requireFreeText,
  requireReference,
} from "./validation.js";

/** MerchantService.Scan (§7.3.1): idempotency, then the decision steps in order. */
export class ScanService {
  /**
   * Whether a new Scan goes through `Store.scanOnce`, which runs the steps of
   * `decide` below inside the store (one round trip on PostgreSQL). Only an
   * issuer with every rule switch off takes it: a mutant, whatever rule it
   * breaks, takes the general path, where each switch sits at its rule.
   */
  private readonly oneCall: boolean;

  constructor(private readonly ctx: IssuerContext) {
    this.oneCall = !Object.values(ctx.breaks).some(Boolean);
  }

  async scan(merchant: MerchantPrincipal, req: ScanRequest): Promise<ScanResponse> {
    const { ctx } = this;
    // [SCAN-1] Validation throws before anything is read, recorded or burned.
    requireReference("out_trade_no", req.outTradeNo);
    requireAmount("amount", req.amount);
    requireCode(req.code);
    requireFreeText("subject", req.subject, 256);
    const amount = req.amount.amountMinor;
    const currency = req.amount.currency;
    // Issue 9 part 3: pick up rotated issuer keys (a comparison unless due).
    await ctx.freshKeys();
    // [VERIFY-1] / [VERIFY-7] Verified at the issuer clock when the Scan arrives.
    const now = ctx.clock.now();
    const codeDigest = sha256(req.code);
    const merchantAccount = await ctx.merchantAccountId(merchant.merchantId);
    const decoded = await decodeScannedCode(ctx.decoder, req.code, amount, currency, now);
    // [SCAN-6] The burn-check-then-insert mutant reads the usage key on its own first.
    let burnedBefore: boolean | undefined;
    if (ctx.breaks.burnCheckThenInsert && decoded.verdict === "usable") {
      burnedBefore = await ctx.store.transaction((tx) => tx.isBurned(decoded.usageKey));
      await raceWindow();
    }

    const fresh = newScanPayment(
      {
        merchantId: merchant.merchantId,
        outTradeNo: req.outTradeNo,
        amount,
        currency,
        codeKind: decoded.kind,
        codeDigest,
        subject: req.subject,
      },
      now,
    );
    const throttle = this.throttleInput(decoded, now);
    if (this.oneCall) {
      const done = await ctx.store.scanOnce(
        this.oneCallScan(fresh, decoded, merchantAccount, now, throttle),
      );
      if (done && "throttled" in done) throw this.refuse(now);
      if (done) {
        await this.report(merchant.merchantId, decoded, now, done);
        return create(ScanResponseSchema, { payment: paymentToProto(done.payment) });
      }
    }

    let counts: ThrottleCounts = {
      merchantFailures: null,
      macFailures: null,
      walletBlocked: false,
    };
    const payment = await ctx.decide(async (tx): Promise<Decision<PaymentRecord>> => {
      // [SCAN-2] The throttle-before-idempotency mutant refuses retries of stored orders too.
      if (
        throttle &&
        ctx.breaks.throttleBeforeIdempotency &&
        (await tx.merchantFailures(merchant.merchantId, throttle.windowStart)) >=
          throttle.merchantLimit
      ) {
        return { error: this.refuse(now) };
      }
      // [AUTH-3] out_trade_no is looked up in the calling merchant's namespace only.
      if (!ctx.breaks.noIdempotency) {
        const existing = await tx.getPaymentByOutTradeNo(merchant.merchantId, req.outTradeNo);
        if (existing) {
          const same =
            existing.amount === amount &&
            existing.currency === currency &&
            bytesEqual(existing.codeDigest, codeDigest);
          // [SCAN-3]
          if (!same) {
            return {
              error: alreadyExists(
                `out_trade_no "${req.outTradeNo}" was already used with a different amount or code`,
              ),
            };
          }
          // [SCAN-2] A retry gets the stored payment: no burn, no money, only the deadline applied.
          return { ok: await lazyClose(ctx, tx, existing, now) };
        }
      }
      counts = { merchantFailures: null, macFailures: null, walletBlocked: false };
      // [SEC-4] [SEC-11] The merchant throttle refuses before anything is revealed or written
      // (the throttle-after-decide mutant decides, records and burns first).
      if (throttle && !ctx.breaks.throttleAfterDecide) {
        const refused = await this.merchantThrottle(
          tx,
          merchant.merchantId,
          decoded,
          throttle,
          counts,
        );
        if (refused) return { error: this.refuse(now) };
      }
      // A fresh id per attempt: a retry must not collide with what the last attempt tried.
      const p: PaymentRecord = { ...fresh, id: newTimeOrderedId("pay", now) };
      if (throttle?.macFailureWalletId) {
        await this.macFailure(tx, throttle.macFailureWalletId, throttle, now, counts);
      }
      await this.decide(tx, p, decoded, merchantAccount, now, burnedBefore);
      // [SCAN-12] / [RPC-6] Every outcome, declines included, is a stored payment, not an error.
      if (!(await tx.insertPayment(p))) {
        if (!ctx.breaks.noIdempotency) {
          // Another scan of this order committed first: start over and replay it.
          throw new TransactionRetry("concurrent Scan with the same out_trade_no");
        }
        await tx.insertPayment({ ...p, outTradeNo: `${req.outTradeNo}#${p.id}` });
      }
      if (p.status === "SUCCEEDED") {
        // [SCAN-11] Exactly one transfer, in the transaction that records the payment.
        await transferPayment(tx, p, p.payerAccountId!, merchantAccount, now);
        // [LIMIT-4] Only direct password-free successes count toward today's totals.
        await tx.addDailyUsage(usageOwner(ctx.breaks, p), passwordFreeDay(ctx, now), amount);
      }
      if (throttle && decoded.verdict === "usable" && p.declineReason === "CODE_INVALID") {
        // [SEC-4] An authentic offline code of a wallet never provisioned fails verification too.
        counts.merchantFailures =
          (await tx.addMerchantFailure(merchant.merchantId, throttle.windowStart, null)) ?? null;
      }
      if (throttle && ctx.breaks.throttleAfterDecide) {
        const refused = await this.merchantThrottle(
          tx,
          merchant.merchantId,
          decoded,
          throttle,
          counts,
        );
        // The mutant's refusal comes after the payment, the burn and the transfer were written.
        if (refused) return { error: this.refuse(now) };
      }
      return { ok: p };
    });
    await this.report(merchant.merchantId, decoded, now, counts);
    return create(ScanResponseSchema, { payment: paymentToProto(payment) });
  }

  /** The throttle input of a new Scan at `now`, or null when the issuer runs without throttles. */
  private throttleInput(decoded: DecodedCode, now: number): ScanThrottleInput | null {
    const config = this.ctx.scanThrottle;
    if (!config) return null;
    return {
      windowStart: merchantWindowStart(now),
      merchantLimit: this.ctx.breaks.noMerchantThrottle
        ? 2 ** 31
        : config.merchantFailuresPerWindow,
      macFailureWalletId:
        decoded.verdict === "declined" ? (decoded.macFailureWalletId ?? null) : null,
      stepUpAt: config.walletStepUpFailures,
      stepUpUntil: stepUpUntil(now),
      blockAt: this.ctx.breaks.noMacBlock ? 2 ** 31 : config.walletBlockFailures,
      revokeReason: MAC_FAILURE_REVOKE_REASON,
    };
  }

  /**
   * [SEC-4] A verification failure takes a place in the merchant's window
   * (refused when the window is full); any other Scan is refused when the
   * window is full. True when refused; nothing is written then.
   */
  private async merchantThrottle(
    tx: Tx,
    merchantId: string,
    decoded: DecodedCode,
    t: ScanThrottleInput,
    counts: ThrottleCounts,
  ): Promise<boolean> {
    if (decoded.verdict === "declined" && isVerificationFailure(decoded.reason)) {
      const n = await tx.addMerchantFailure(merchantId, t.windowStart, t.merchantLimit);
      if (n === undefined) return true;
      counts.merchantFailures = n;
      return false;
    }
    return (await tx.merchantFailures(merchantId, t.windowStart)) >= t.merchantLimit;
  }

  /** [SEC-5] Counts a MAC failure on its wallet; [SEC-13] revokes the wallet past the block bound. */
  private async macFailure(
    tx: Tx,
    walletId: string,
    t: ScanThrottleInput,
    now: number,
    counts: ThrottleCounts,
  ): Promise<void> {
    const c = await tx.addMacFailure(walletId, utcDay(now), t.stepUpAt, t.stepUpUntil);
    if (!c) return;
    counts.macFailures = c;
    if (c.total >= t.blockAt) {
      counts.walletBlocked = await tx.revokeWallet(walletId, now, t.revokeReason);
    }
  }

  /** The refusal of a throttled Scan: resource_exhausted until the merchant window ends. */
  private refuse(now: number) {
    const retryAfterMs = merchantWindowStart(now) + MERCHANT_WINDOW_MS - now;
    return throttled(
      "too many codes failed verification for this merchant",
      this.ctx.breaks.noRetryAfter ? 0 : retryAfterMs,
    );
  }

  /** Audit: the transitions a Scan caused (a throttle engaging, a step-up, a block), never each failure. */
  private async report(
    merchantId: string,
    decoded: DecodedCode,
    now: number,
    counts: ThrottleCounts,
  ): Promise<void> {
    const config = this.ctx.scanThrottle;
    if (!config) return;
    const { audit } = this.ctx;
    if (counts.merchantFailures === config.merchantFailuresPerWindow) {
      await audit.record({
        type: "throttle.merchant",
        at: now,
        subject: { kind: "merchant", id: merchantId },
        detail: {
          failures: counts.merchantFailures,
          windowStart: merchantWindowStart(now),
          retryAfterSeconds: Math.ceil(
            (merchantWindowStart(now) + MERCHANT_WINDOW_MS - now) / 1000,
          ),
        },
      });
    }
    const walletId = decoded.verdict === "declined" ? decoded.macFailureWalletId : undefined;
    if (!walletId || !counts.macFailures) return;
    if (counts.macFailures.today === config.walletStepUpFailures) {
      await audit.record({
        type: "throttle.wallet-step-up",
        at: now,
        subject: { kind: "wallet", id: walletId },
        detail: { macFailuresToday: counts.macFailures.today, until: stepUpUntil(now) },
      });
    }
    if (counts.walletBlocked) {
      await audit.record({
        type: "throttle.wallet-blocked",
        at: now,
        subject: { kind: "wallet", id: walletId },
        detail: { macFailuresTotal: counts.macFailures.total, revoked: true },
      });
    }
  }

  /** What `Store.scanOnce` needs to decide `p` as `decide` would. */
  private oneCallScan(
    p: PaymentRecord,
    decoded: DecodedCode,
    merchantAccountId: string,
    now: number,
    throttle: ScanThrottleInput | null,
  ): OneCallScan {
    const { profile } = this.ctx;
    const usable = decoded.verdict === "usable" ? decoded : undefined;
    return {
      payment: p,
      declined: decoded.verdict === "declined" ? decoded.reason : null,
      walletId: usable?.walletId ?? null,
      usageKey: usable?.usageKey ?? null,
      offlineRefusal: usable?.offlineRefusal ?? null,
      merchantAccountId,
      transferId: newTimeOrderedId("tr", now),
      day: utcDay(now),
      defaultLimits: profile.defaultLimits,
      confirmDeadline: now + profile.confirmationTimeoutSeconds * 1000,
      throttle,
    };
  }

  /**
   * [SCAN-7] Decides a new scan by the steps of §7.3.1, in order, the first
   * that applies winning: verdict, burn, revocation, currency, offline limit,
   * funds, step-up. Fills in `p`.
   */
  private async decide(
    tx: Tx,
    p: PaymentRecord,
    decoded: DecodedCode,
    merchantAccount: string,
    now: number,
    burnedBefore: boolean | undefined,
  ): Promise<void> {
    const { breaks, profile } = this.ctx;
    const decline = (reason: DeclineReasonName) => {
      p.status = "DECLINED";
      p.declineReason = reason;
    };
    // [VERIFY-9] Step 1: the verdict of §6 mapped by §6.3.
    if (decoded.verdict === "declined") return decline(decoded.reason);
    const wallet = await tx.getWallet(decoded.walletId);
    // §7.3.1 step 1: an authentic offline code of a wallet never provisioned.
    if (!wallet) return decline("CODE_INVALID");
    p.walletId = wallet.id;
    p.payerAccountId = wallet.accountId;

    // [SCAN-4] Burn first, whatever the outcome: a code declined for funds cannot be retried.
    // [SCAN-6] The burn is an atomic insert, so of concurrent scans of a code one wins;
    // [SETTLE-17] an offline code burns the same usage key that settlement burns.
    const inserted = await tx.burn({
      usageKey: decoded.usageKey,
      walletId: wallet.id,
      paymentId: p.id,
      createdAt: now,
    });
    const burned = burnedBefore === undefined ? inserted : !burnedBefore;
    // [SCAN-5] Burned by anyone before, whatever came of it.
    if (!burned && !breaks.acceptReusedCode) return decline("CODE_REUSED");
    const refuse = async (reason: DeclineReasonName) => {
      if (burned && breaks.noBurnOnDecline) await tx.unburn(decoded.usageKey);
      decline(reason);
    };

    // [WALLET-6] / [VERIFY-5] A revoked wallet's authentic code gets this far, burns, then stops.
    if (wallet.revokedAt !== null && !breaks.ignoreRevocation) return refuse("WALLET_REVOKED");
    await tx.lockAccounts([wallet.accountId, merchantAccount]);
    const payer = await tx.getAccount(wallet.accountId, { forUpdate: true });
    if (!payer) throw new Error(`account ${wallet.accountId} of wallet ${wallet.id} is missing`);
    // [SCAN-8] (The ignore-currency mutant takes the amount to be in the account's currency.)
    if (breaks.ignoreCurrency) p.currency = payer.currency;
    if (decoded.offlineRefusal === "CURRENCY_MISMATCH" || p.currency !== payer.currency) {
      return refuse("CURRENCY_MISMATCH");
    }
    // [SCAN-9] The certificate's per-payment limit; the cumulative one is settlement's alone.
    if (decoded.offlineRefusal === "OVER_LIMIT" && !breaks.ignoreOfflineLimit) {
      return refuse("LIMIT_EXCEEDED");
    }
    const pending = () => {
      p.status = "PENDING_CONFIRMATION";
      // [PAY-2] created_at is `now`, so the deadline is created_at + the timeout.
      p.confirmDeadline =
        now + profile.confirmationTimeoutSeconds * (breaks.deadlineInMilliseconds ? 1 : 1000);
    };
    // [SCAN-7] The step-up-before-funds mutant swaps steps 6 and 7.
    if (breaks.stepUpBeforeFunds && (await this.needsStepUp(tx, payer, p, now, wallet))) {
      return pending();
    }
    // [SCAN-10] Before step-up: a payment the balance cannot cover never waits for a password.
    if (payer.balance < p.amount && !breaks.ignoreInsufficientFunds) {
      return refuse("INSUFFICIENT_FUNDS");
    }
    if (await this.needsStepUp(tx, payer, p, now, wallet)) return pending();
    p.status = "SUCCEEDED";
    p.passwordFree = true;
  }

  /** §9.1 step-up: does a payment of `amount` need the password, given today's usage? */
  private async needsStepUp(
    tx: Tx,
    payer: AccountRecord,
    p: PaymentRecord,
    now: number,
    wallet: WalletRecord,
  ): Promise<boolean> {
    const { breaks, profile } = this.ctx;
    // [SEC-6] A wallet in step-up after MAC failures needs the password whatever the amount.
    if (
      this.ctx.scanThrottle &&
      wallet.stepUpUntil !== undefined &&
      now < wallet.stepUpUntil &&
      !breaks.noMacStepUp
    ) {
      return true;
    }
    // [LIMIT-6] Unset limits are the profile's defaults; [LIMIT-5] "today" is the UTC day.
    const limits = payer.limits ?? profile.defaultLimits;
    const usage = await tx.getDailyUsage(usageOwner(breaks, p), passwordFreeDay(this.ctx, now));
    return stepUpReason(limits, usage, p.amount) !== undefined && !breaks.ignorePasswordFreeLimit;
  }
}

/** What the throttles counted for one Scan (as `Store.scanOnce` reports it). */
interface ThrottleCounts {
  merchantFailures: number | null;
  macFailures: { today: number; total: number } | null;
  walletBlocked: boolean;
}

/** [LIMIT-5] The day password-free totals belong to: the UTC day (UTC+8 for the local-day mutant). */
function passwordFreeDay(ctx: IssuerContext, now: number): string {
  return utcDay(ctx.breaks.localDay ? now + 8 * 3_600_000 : now);
}

/**
 * [LIMIT-4] The password-free day is the payer account's, whichever of its
 * wallets pays; the daily-usage-per-wallet mutant keys it by wallet, so a
 * re-provisioned wallet starts a fresh day.
 */
function usageOwner(breaks: RuleSwitches, p: PaymentRecord): string {
  return breaks.dailyUsagePerWallet ? p.walletId! : p.payerAccountId!;
}
