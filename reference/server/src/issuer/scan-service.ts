import { create } from "@bufbuild/protobuf";
import { type ScanRequest, type ScanResponse, ScanResponseSchema } from "@paycode/protocol/v1";
import type { AccountRecord, DeclineReasonName, PaymentRecord } from "../store/records.js";
import { type OneCallScan, TransactionRetry, type Tx } from "../store/store.js";
import { type DecodedCode, decodeScannedCode } from "./code-decoder.js";
import { bytesEqual, sha256 } from "./digest.js";
import { newId } from "./ids.js";
import type { MerchantPrincipal } from "./issuer-api.js";
import type { Decision, IssuerContext } from "./issuer-context.js";
import { transferPayment } from "./ledger.js";
import { stepUpReason } from "./limits.js";
import { lazyClose } from "./payment-transitions.js";
import { raceWindow } from "./race-window.js";
import type { RuleSwitches } from "./rule-switches.js";
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

    // [SCAN-14] created_at is the issuer clock at the Scan.
    const fresh: PaymentRecord = {
      id: newId("pay"),
      merchantId: merchant.merchantId,
      outTradeNo: req.outTradeNo,
      amount,
      currency,
      status: "DECLINED",
      declineReason: null,
      // [SCAN-13] From the code's shape, also for codes that fail verification.
      codeKind: decoded.kind,
      codeDigest,
      subject: req.subject,
      walletId: null,
      payerAccountId: null,
      passwordFree: false,
      refundedAmount: 0n,
      confirmDeadline: null,
      source: "scan",
      terminalId: null,
      recordId: null,
      createdAt: now,
      updatedAt: now,
    };
    if (this.oneCall) {
      const done = await ctx.store.scanOnce(this.oneCallScan(fresh, decoded, merchantAccount, now));
      if (done) return create(ScanResponseSchema, { payment: paymentToProto(done) });
    }

    const payment = await ctx.decide(async (tx): Promise<Decision<PaymentRecord>> => {
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
      // A fresh id per attempt: a retry must not collide with what the last attempt tried.
      const p: PaymentRecord = { ...fresh, id: newId("pay") };
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
      return { ok: p };
    });
    return create(ScanResponseSchema, { payment: paymentToProto(payment) });
  }

  /** What `Store.scanOnce` needs to decide `p` as `decide` would. */
  private oneCallScan(
    p: PaymentRecord,
    decoded: DecodedCode,
    merchantAccountId: string,
    now: number,
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
      transferId: newId("tr"),
      day: utcDay(now),
      defaultLimits: profile.defaultLimits,
      confirmDeadline: now + profile.confirmationTimeoutSeconds * 1000,
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
    if (breaks.stepUpBeforeFunds && (await this.needsStepUp(tx, payer, p, now))) {
      return pending();
    }
    // [SCAN-10] Before step-up: a payment the balance cannot cover never waits for a password.
    if (payer.balance < p.amount && !breaks.ignoreInsufficientFunds) {
      return refuse("INSUFFICIENT_FUNDS");
    }
    if (await this.needsStepUp(tx, payer, p, now)) return pending();
    p.status = "SUCCEEDED";
    p.passwordFree = true;
  }

  /** §9.1 step-up: does a payment of `amount` need the password, given today's usage? */
  private async needsStepUp(
    tx: Tx,
    payer: AccountRecord,
    p: PaymentRecord,
    now: number,
  ): Promise<boolean> {
    const { breaks, profile } = this.ctx;
    // [LIMIT-6] Unset limits are the profile's defaults; [LIMIT-5] "today" is the UTC day.
    const limits = payer.limits ?? profile.defaultLimits;
    const usage = await tx.getDailyUsage(usageOwner(breaks, p), passwordFreeDay(this.ctx, now));
    return stepUpReason(limits, usage, p.amount) !== undefined && !breaks.ignorePasswordFreeLimit;
  }
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
