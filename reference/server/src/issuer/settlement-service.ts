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
import type { BatchResultRecord, IssuerKeyRecord } from "../store/records.js";
import { TransactionRetry } from "../store/store.js";
import { bytesEqual, sha256 } from "./digest.js";
import type { MerchantPrincipal, TerminalPrincipal } from "./issuer-api.js";
import type { Decision, IssuerContext } from "./issuer-context.js";
import { checkRecord, type OutcomeName, settleRecord } from "./offline-records.js";
import { money, timestamp } from "./to-proto.js";
import { utcDayRange } from "./utc-day.js";
import {
  alreadyExists,
  invalidArgument,
  MAX_BATCH_RECORDS,
  requireCurrency,
  requireReference,
} from "./validation.js";

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
    const checks = req.records.map((r) => checkRecord(ctx, r, now));
    // [AUTH-4] Money settles into the account of the merchant the terminal was created for.
    const merchantAccount = await ctx.merchantAccountId(terminal.merchantId);
    const early = await this.batchPreCheck(terminal, req.batchId, digest);
    const results = await ctx.decide(async (tx): Promise<Decision<BatchResultRecord[]>> => {
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
        if (bytesEqual(prior.requestDigest, digest)) return { ok: prior.results };
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
      return { ok: out };
    });
    return create(UploadOfflineBatchResponseSchema, {
      results: results.map((r) =>
        create(RecordResultSchema, {
          recordId: r.recordId,
          outcome: RecordOutcome[r.outcome as OutcomeName],
          paymentId: r.paymentId,
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
    });
  }
}

/** The keys no newer key replaced; only the drop-retired-issuer-key mutant uses it. */
export function newestOnly(keys: readonly IssuerKeyRecord[]): IssuerKeyRecord[] {
  const newest = Math.max(...keys.map((k) => k.notBefore));
  return keys.filter((k) => k.notBefore === newest);
}
