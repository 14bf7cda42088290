import { create, toBinary } from "@bufbuild/protobuf";
import { profileToProto } from "@paycode/protocol";
import {
  type GetIssuerKeysResponse,
  GetIssuerKeysResponseSchema,
  type GetSettlementReportRequest,
  type GetSettlementReportResponse,
  GetSettlementReportResponseSchema,
  IssuerKeySchema,
  RecordOutcome,
  RecordResultSchema,
  type UploadOfflineBatchRequest,
  UploadOfflineBatchRequestSchema,
  type UploadOfflineBatchResponse,
  UploadOfflineBatchResponseSchema,
} from "@paycode/protocol/v1";
import type {
  BatchResultRecord,
  IssuerKeyRecord,
  TerminalRejectionsRecord,
} from "../store/records.js";
import { TransactionRetry } from "../store/store.js";
import { bytesEqual, sha256 } from "./digest.js";
import type { MerchantPrincipal, TerminalPrincipal } from "./issuer-api.js";
import type { Decision, IssuerContext } from "./issuer-context.js";
import { checkRecord, type OutcomeName, settleRecord } from "./offline-records.js";
import { throttled } from "./throttled.js";
import { money, timestamp } from "./to-proto.js";
import { utcDayRange } from "./utc-day.js";
import {
  alreadyExists,
  invalidArgument,
  MAX_BATCH_RECORDS,
  requireCurrency,
  requireReference,
} from "./validation.js";

/**
 * [SEC-21] A terminal whose uploads had this many records rejected
 * REJECTED_INVALID or REJECTED_MALFORMED within one window is refused until
 * the window ends. A terminal that follows §10.1 uploads none such.
 */
export const TERMINAL_REJECTION_BOUND = 100;
/** [SEC-21] A window starts at the first counted rejection after the previous one ended. */
export const TERMINAL_WINDOW_MS = 3_600_000;
const COUNTED_OUTCOMES: ReadonlySet<string> = new Set(["REJECTED_INVALID", "REJECTED_MALFORMED"]);

/** SettlementService (§7.4): key sync, offline batch upload (§10.2), settlement report. */
export class SettlementService {
  constructor(private readonly ctx: IssuerContext) {}

  async getIssuerKeys(
    _caller: MerchantPrincipal | TerminalPrincipal,
  ): Promise<GetIssuerKeysResponse> {
    const { ctx } = this;
    await ctx.freshKeys();
    // [SETTLE-2] The list is read after taking `now`, so it holds every revocation up to it.
    const now = ctx.clock.now();
    const revoked = await ctx.store.transaction((tx) => tx.revocationList(now));
    // [SETTLE-1] A key stays listed while certificates it signed may still be valid.
    // A key rotated out stays listed until its certificates expire (the
    // drop-retired-issuer-key mutant forgets it as soon as a newer key exists).
    const certLifetimeMs = ctx.profile.certificateValiditySeconds * 1000;
    const keys = (ctx.breaks.dropRetiredIssuerKey ? newestOnly(ctx.issuerKeys) : ctx.issuerKeys)
      .filter((k) => k.notAfter + certLifetimeMs > now)
      .map((k) =>
        create(IssuerKeySchema, {
          keyId: k.keyId,
          publicKey: k.publicKey,
          notBefore: BigInt(Math.floor(k.notBefore / 1000)),
          notAfter: BigInt(Math.floor(k.notAfter / 1000)),
        }),
      );
    // [WALLET-7] Revoked wallets are listed with the store's revocation list version;
    // [RPC-1] the profile in force, without the code key.
    return create(GetIssuerKeysResponseSchema, {
      keys,
      revokedWalletIds: revoked.walletIds,
      revocationListVersion: revoked.version,
      generatedAt: timestamp(now),
      profile: profileToProto(ctx.profile, undefined, ctx.codeKeyVersion),
    });
  }

  async uploadOfflineBatch(
    terminal: TerminalPrincipal,
    req: UploadOfflineBatchRequest,
  ): Promise<UploadOfflineBatchResponse> {
    const { ctx } = this;
    // [SETTLE-3]
    requireReference("batch_id", req.batchId);
    if (req.records.length > MAX_BATCH_RECORDS) {
      throw invalidArgument(
        `records must hold at most ${MAX_BATCH_RECORDS} records, got ${req.records.length}`,
      );
    }
    const digest = sha256(
      toBinary(
        UploadOfflineBatchRequestSchema,
        create(UploadOfflineBatchRequestSchema, { records: req.records }),
      ),
    );
    await ctx.freshKeys();
    const now = ctx.clock.now();
    // [SEC-21] A throttled terminal costs no signature checks: refused on a plain read first
    // (the settling transaction decides again under the terminal's lock).
    const throttledFor = (w: TerminalRejectionsRecord | undefined) =>
      w !== undefined &&
      now < w.windowStart + TERMINAL_WINDOW_MS &&
      w.rejected >= TERMINAL_REJECTION_BOUND &&
      !ctx.breaks.noTerminalThrottle
        ? throttled(
            "too many invalid or malformed offline records from this terminal",
            w.windowStart + TERMINAL_WINDOW_MS - now,
          )
        : undefined;
    const refused = throttledFor(
      await ctx.store.read((tx) => tx.getTerminalRejections(terminal.terminalId)),
    );
    if (refused) throw refused;
    const checks = req.records.map((r) => checkRecord(ctx, r, now));
    // [AUTH-4] Money settles into the account of the merchant the terminal was created for.
    const merchantAccount = await ctx.merchantAccountId(terminal.merchantId);
    const early = await this.batchPreCheck(terminal, req.batchId, digest);
    let engaged: number | undefined;
    const results = await ctx.decide(async (tx): Promise<Decision<BatchResultRecord[]>> => {
      engaged = undefined;
      // [SEC-21] A throttled terminal is refused before anything is decided or recorded.
      await tx.lock(`terminal-rejections:${terminal.terminalId}`);
      const window = await tx.getTerminalRejections(terminal.terminalId);
      const open = window !== undefined && now < window.windowStart + TERMINAL_WINDOW_MS;
      const refusal = throttledFor(window);
      if (refusal) return { error: refusal };
      const count = async (decided: readonly BatchResultRecord[]) => {
        const n = decided.filter((r) => COUNTED_OUTCOMES.has(r.outcome)).length;
        if (n === 0) return;
        const before = open ? window.rejected : 0;
        await tx.putTerminalRejections({
          terminalId: terminal.terminalId,
          windowStart: open ? window.windowStart : now,
          rejected: before + n,
        });
        if (before < TERMINAL_REJECTION_BOUND && before + n >= TERMINAL_REJECTION_BOUND) {
          engaged = before + n;
        }
      };
      if (early) return { ok: early };
      const fresh = await tx.insertBatch({
        terminalId: terminal.terminalId,
        batchId: req.batchId,
        requestDigest: digest,
        results: [],
        createdAt: now,
      });
      // The batch-check-not-atomic mutant settles a batch it found fresh before this transaction.
      if (!fresh && !ctx.breaks.batchCheckNotAtomic) {
        const prior = await tx.getBatch(terminal.terminalId, req.batchId);
        if (!prior) throw new TransactionRetry("batch vanished");
        // [SETTLE-5] The same records get the stored results and move no money again.
        if (bytesEqual(prior.requestDigest, digest)) {
          // [SEC-22] Stored results were counted when they were decided.
          if (ctx.breaks.terminalThrottleCountsReplays) await count(prior.results);
          return { ok: prior.results };
        }
        // [SETTLE-6]
        return {
          error: alreadyExists(
            `batch_id "${req.batchId}" was already uploaded with different records`,
          ),
        };
      }
      // [SEC-9] Burns are kept for good; only the mutant prunes them after the code's validity.
      if (ctx.breaks.pruneOfflineBurns) {
        const v = ctx.profile.offlineCodeValiditySeconds + ctx.profile.offlineClockSkewSeconds;
        await tx.pruneBurns("off:", now - v * 1000);
      }
      // [SETTLE-4] / [SETTLE-9] One result per record, decided in request order.
      const out: BatchResultRecord[] = [];
      for (let i = 0; i < req.records.length; i++) {
        out.push(
          await settleRecord(
            ctx.breaks,
            tx,
            req.records[i]!,
            checks[i]!,
            terminal,
            merchantAccount,
            now,
          ),
        );
      }
      await tx.setBatchResults(terminal.terminalId, req.batchId, out);
      // [SEC-21] Counted in the transaction that decides them.
      await count(out);
      return { ok: out };
    });
    if (engaged !== undefined) {
      await ctx.audit.record({
        type: "throttle.terminal",
        at: now,
        subject: { kind: "terminal", id: terminal.terminalId },
        detail: { rejected: engaged, windowMs: TERMINAL_WINDOW_MS },
      });
    }
    return create(UploadOfflineBatchResponseSchema, {
      results: results.map((r) =>
        create(RecordResultSchema, {
          recordId: r.recordId,
          outcome: RecordOutcome[r.outcome as OutcomeName],
          paymentId: r.paymentId,
          // [SETTLE-21] Stored with the result, so a retry ([SETTLE-5]) says the same.
          issuerLiable: r.issuerLiable === true,
        }),
      ),
    });
  }

  /**
   * The batch-check-not-atomic mutant ([SETTLE-5], [SEC-2]): the batch id is
   * looked up in a transaction of its own, then after a pause the batch is
   * settled whether or not a concurrent upload of it settled meanwhile.
   * Undefined (no early answer) in the issuer as the spec wants it, which
   * decides on the batch id inside the settling transaction.
   */
  private async batchPreCheck(
    terminal: TerminalPrincipal,
    batchId: string,
    digest: Uint8Array,
  ): Promise<BatchResultRecord[] | undefined> {
    const { ctx } = this;
    if (!ctx.breaks.batchCheckNotAtomic) return undefined;
    const prior = await ctx.store.transaction((tx) => tx.getBatch(terminal.terminalId, batchId));
    if (prior) {
      if (bytesEqual(prior.requestDigest, digest)) return prior.results;
      throw alreadyExists(`batch_id "${batchId}" was already uploaded with different records`);
    }
    // The pause stands for any slow step between the lookup and the settling.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return undefined;
  }

  async getSettlementReport(
    merchant: MerchantPrincipal,
    req: GetSettlementReportRequest,
  ): Promise<GetSettlementReportResponse> {
    const { ctx } = this;
    // [SETTLE-8]
    const range = utcDayRange(req.date);
    if (!range) throw invalidArgument(`date must be a UTC day as YYYY-MM-DD, got "${req.date}"`);
    requireCurrency("currency", req.currency);
    // [SETTLE-7] The calling merchant's payments, refunds and settled records of one UTC day.
    const a = await ctx.store.transaction((tx) =>
      tx.settlementAggregates(merchant.merchantId, req.currency, range.fromMs, range.toMs),
    );
    const c = req.currency;
    return create(GetSettlementReportResponseSchema, {
      date: req.date,
      paymentCount: BigInt(a.paymentCount),
      paymentTotal: money(a.paymentTotal, c),
      refundCount: BigInt(a.refundCount),
      refundTotal: money(a.refundTotal, c),
      offlineCount: BigInt(a.offlineCount),
      offlineTotal: money(a.offlineTotal, c),
      netTotal: money(a.paymentTotal + a.offlineTotal - a.refundTotal, c),
      // [SETTLE-23] What the issuer paid of offline_total (duplicates it is liable for).
      issuerLiableCount: BigInt(ctx.breaks.lossNotInReport ? 0 : a.issuerLiableCount),
      issuerLiableTotal: money(ctx.breaks.lossNotInReport ? 0n : a.issuerLiableTotal, c),
    });
  }
}

/** The keys no newer key replaced; only the drop-retired-issuer-key mutant uses it. */
export function newestOnly(keys: readonly IssuerKeyRecord[]): IssuerKeyRecord[] {
  const newest = Math.max(...keys.map((k) => k.notBefore));
  return keys.filter((k) => k.notBefore === newest);
}
