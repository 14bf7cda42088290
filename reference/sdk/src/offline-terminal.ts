import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import {
  type Clock,
  issuerKeyEntryFromProto,
  OfflineCodeVerifier,
  systemClock,
} from "@paycode/protocol";
import type { IssuerProfile } from "@paycode/protocol/v1";
import {
  type GetIssuerKeysResponse,
  GetIssuerKeysResponseSchema,
  RecordOutcome,
  SettlementService,
  UploadOfflineBatchRequestSchema,
} from "@paycode/protocol/v1";
import { isTransientError, PaycodeProtocolError } from "./errors.js";
import { DEFAULT_RETRY, type RetryPolicy, realSleep, type Sleep } from "./merchant-client.js";
import { type AmountInput, toMoney } from "./money.js";
import { type JournalBatch, type JournalRecord, TerminalJournal } from "./terminal-journal.js";

/** Why the terminal refused a code. The first group is the terminal's own state; the rest mirror the codec. */
export type RefusalReason =
  | "NO_KEYS"
  | "STALE_KEYS"
  | "REVOKED"
  | "DUPLICATE"
  | "CUMULATIVE_LIMIT"
  | "MALFORMED"
  | "KEY_UNKNOWN"
  | "ISSUER_SIGNATURE_INVALID"
  | "SIGNATURE_INVALID"
  | "WALLET_MISMATCH"
  | "CERT_NOT_YET_VALID"
  | "CERT_EXPIRED"
  | "CODE_EXPIRED"
  | "CODE_NOT_YET_VALID"
  | "CURRENCY_MISMATCH"
  | "OVER_LIMIT";

export type AcceptResult =
  | { accepted: true; record: JournalRecord }
  | {
      accepted: false;
      reason: RefusalReason;
      message: string;
      walletId?: string;
      counter?: bigint;
    };

export interface UploadProgress {
  batchId: string;
  /** Records sent so far in this upload, including the current batch. */
  recordsSent: number;
  /** Records this upload expects to send (open batches plus unbatched records when it started). */
  recordsTotal: number;
  batchesSent: number;
  /** The batch was re-sent after an interrupted upload. */
  resumed: boolean;
}

export interface UploadSummary {
  batches: number;
  records: number;
  /** Count per RecordOutcome name (SETTLED, DUPLICATE, REJECTED_REVOKED, ...). */
  outcomes: Record<string, number>;
  /**
   * Of the SETTLED records, those the issuer paid (`issuer_liable`): another
   * terminal or a till had the same code first (spec §10.3).
   */
  issuerLiable: number;
}

export interface TerminalStatus {
  /** `generated_at` of the last key sync, Unix ms; undefined before the first sync. */
  keysSyncedAtMs?: number;
  /** Terminal clock minus keysSyncedAt. */
  keyAgeMs?: number;
  /** Whether the key sync is recent enough to accept codes. */
  keysFresh: boolean;
  /**
   * With `followIssuerClock`: issuer clock minus the terminal's own clock,
   * measured at the last sync.
   */
  clockOffsetMs?: number;
  revocationListVersion?: bigint;
  revokedWallets: number;
  unbatchedRecords: number;
  openBatches: number;
  profile?: IssuerProfile;
}

export interface OfflineTerminalOptions {
  /** SQLite journal file; created if missing, resumed if present. */
  journalPath: string;
  /** A transport carrying the terminal API key; needed for sync and upload only. */
  transport?: Transport;
  /** The terminal's own clock (default: the machine's). */
  clock?: Clock;
  /**
   * Keep an offset to the issuer clock, measured at every sync
   * (`generated_at` minus the midpoint of the call) and stored in the
   * journal, and decide on that clock instead of the terminal's own: for a
   * terminal whose clock cannot be trusted, or a test deployment whose
   * issuer clock was moved or set. Default false: the terminal's own clock.
   */
  followIssuerClock?: boolean;
  sleep?: Sleep;
  retry?: Partial<RetryPolicy>;
  callTimeoutMs?: number;
}

const META_KEYS = "issuer_keys";
/** Journal key of the issuer clock offset (`followIssuerClock`), decimal ms. */
const META_CLOCK_OFFSET = "cli_issuer_clock_offset_ms";

/**
 * A double-offline terminal (bus, metro gate). It accepts signed offline
 * codes with no network, applying every check the protocol lets a terminal
 * make, journals each accepted record durably before saying yes, and
 * uploads the journal in idempotent batches when it is online.
 */
export class OfflineTerminal {
  readonly journal: TerminalJournal;
  private readonly clock: Clock;
  private readonly ownClock: Clock;
  private readonly followIssuerClock: boolean;
  private clockOffsetMs = 0;
  private readonly sleep: Sleep;
  private readonly retry: RetryPolicy;
  private readonly callTimeoutMs: number;
  private readonly transport: Transport | undefined;
  private rpc: Client<typeof SettlementService> | undefined;
  private keys:
    | { response: GetIssuerKeysResponse; revoked: Set<string>; verifier: OfflineCodeVerifier }
    | undefined;

  private constructor(options: OfflineTerminalOptions) {
    this.journal = new TerminalJournal(options.journalPath);
    this.ownClock = options.clock ?? systemClock;
    this.followIssuerClock = options.followIssuerClock ?? false;
    if (this.followIssuerClock) {
      const stored = this.journal.getMeta(META_CLOCK_OFFSET);
      const ms = stored && Number(new TextDecoder().decode(stored));
      if (ms && Number.isSafeInteger(ms)) this.clockOffsetMs = ms;
    }
    this.clock = this.followIssuerClock
      ? { now: () => this.ownClock.now() + this.clockOffsetMs }
      : this.ownClock;
    this.sleep = options.sleep ?? realSleep;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.callTimeoutMs = options.callTimeoutMs ?? 30_000;
    this.transport = options.transport;
    const stored = this.journal.getMeta(META_KEYS);
    if (stored) this.installKeys(fromBinary(GetIssuerKeysResponseSchema, stored));
  }

  /** Opens (or creates) the journal and restores the last key sync from it. */
  static open(options: OfflineTerminalOptions): OfflineTerminal {
    return new OfflineTerminal(options);
  }

  close(): void {
    this.journal.close();
  }

  /**
   * Fetches issuer keys, revocation list and profile, and persists them.
   * A revocation list older than the one held is refused: replaying it would
   * un-revoke wallets.
   */
  async sync(): Promise<TerminalStatus> {
    let sentAt = 0;
    const res = await this.withRetry(() => {
      sentAt = this.ownClock.now();
      return this.client().getIssuerKeys({}, { timeoutMs: this.callTimeoutMs });
    });
    const receivedAt = this.ownClock.now();
    checkIssuerKeys(res);
    const held = this.keys?.response;
    if (held && res.revocationListVersion < held.revocationListVersion) {
      throw new PaycodeProtocolError(
        `GetIssuerKeys: revocation list version ${res.revocationListVersion} is older than the one held (${held.revocationListVersion})`,
      );
    }
    this.journal.setMeta(META_KEYS, toBinary(GetIssuerKeysResponseSchema, res));
    if (this.followIssuerClock) {
      this.clockOffsetMs = Math.round(timestampMs(res.generatedAt!) - (sentAt + receivedAt) / 2);
      this.journal.setMeta(META_CLOCK_OFFSET, String(this.clockOffsetMs));
    }
    this.installKeys(res);
    return this.status();
  }

  status(): TerminalStatus {
    const k = this.keys;
    const base = {
      unbatchedRecords: this.journal.countUnbatched(),
      openBatches: this.journal.countOpenBatches(),
      ...(this.followIssuerClock ? { clockOffsetMs: this.clockOffsetMs } : {}),
    };
    if (!k) return { ...base, keysFresh: false, revokedWallets: 0 };
    const syncedAt = timestampMs(k.response.generatedAt!);
    const age = this.clock.now() - syncedAt;
    return {
      ...base,
      keysSyncedAtMs: syncedAt,
      keyAgeMs: age,
      keysFresh: age <= k.response.profile!.maxKeyAgeSeconds * 1000,
      revocationListVersion: k.response.revocationListVersion,
      revokedWallets: k.revoked.size,
      profile: k.response.profile!,
    };
  }

  /**
   * Decides on an offline code for `amount`, offline. On acceptance the
   * record is already on disk when this returns.
   */
  accept(qrText: string, amount: AmountInput): AcceptResult {
    const money = toMoney(amount);
    const k = this.keys;
    if (!k) return refuse("NO_KEYS", "no issuer keys: sync the terminal first");
    const profile = k.response.profile!;
    const nowMs = this.clock.now();
    const syncedAt = timestampMs(k.response.generatedAt!);
    if (nowMs - syncedAt > profile.maxKeyAgeSeconds * 1000) {
      return refuse(
        "STALE_KEYS",
        `issuer keys are ${Math.floor((nowMs - syncedAt) / 1000)} s old (max ${profile.maxKeyAgeSeconds} s): sync the terminal`,
      );
    }
    const v = k.verifier.verify(qrText, {
      nowSeconds: Math.floor(nowMs / 1000),
      amountMinor: money.amountMinor,
      currency: money.currency,
    });
    switch (v.result) {
      case "malformed":
        return refuse("MALFORMED", "not a well-formed offline code");
      case "invalid":
        return refuse(v.reason, `code is not authentic (${v.reason})`);
      case "expired":
        // A certificate-time refusal carries no counter: the payload was not yet authenticated.
        return refuse(
          v.reason,
          `code is not valid now (${v.reason})`,
          v.walletId,
          "counter" in v ? v.counter : undefined,
        );
      case "over-limit":
        return refuse(
          v.reason,
          `amount not allowed for this wallet (${v.reason})`,
          v.walletId,
          v.counter,
        );
      case "valid":
        break;
    }
    const { walletId, counter, body } = v;
    if (k.revoked.has(walletId)) {
      return refuse("REVOKED", "wallet is on the revocation list", walletId, counter);
    }
    return this.journal.immediate((): AcceptResult => {
      if (this.journal.seen(walletId, counter)) {
        return refuse("DUPLICATE", "this code was already accepted here", walletId, counter);
      }
      const total = this.journal.walletTotal(walletId, money.currency);
      if (total + money.amountMinor > body.cumulativeLimitMinor) {
        return refuse(
          "CUMULATIVE_LIMIT",
          `wallet's offline total here would exceed its cumulative limit ${body.cumulativeLimitMinor}`,
          walletId,
          counter,
        );
      }
      const record = this.journal.insertRecord({
        recordId: randomUUID(),
        code: qrText,
        walletId,
        counter,
        currency: money.currency,
        amountMinor: money.amountMinor,
        acceptedAtMs: nowMs,
        keysSyncedAtMs: syncedAt,
      });
      return { accepted: true, record };
    });
  }

  /** Every journaled record, oldest first. */
  records(): JournalRecord[] {
    return this.journal.records();
  }

  /** Every batch, oldest first. */
  batches(): JournalBatch[] {
    return this.journal.batches();
  }

  /**
   * Uploads everything not yet settled. An interrupted batch (sent, no
   * answer recorded) is re-sent first with its stored batch id and bytes,
   * which settlement answers idempotently. Transport failures are retried;
   * when retries run out the error is thrown and the next upload resumes.
   */
  async upload(
    options: { batchSize?: number; onProgress?: (p: UploadProgress) => void } = {},
  ): Promise<UploadSummary> {
    const batchSize = options.batchSize ?? 100;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
      throw new RangeError("batchSize must be 1..1000");
    }
    const summary: UploadSummary = { batches: 0, records: 0, outcomes: {}, issuerLiable: 0 };
    const pendingInOpen = this.journal
      .batches()
      .filter((b) => b.completedAtMs === undefined)
      .reduce(
        (n, b) => n + fromBinary(UploadOfflineBatchRequestSchema, b.request).records.length,
        0,
      );
    const recordsTotal = pendingInOpen + this.journal.countUnbatched();
    for (;;) {
      let batch = this.journal.openBatch();
      const resumed = batch !== undefined;
      if (!batch) {
        const records = this.journal.unbatched(batchSize);
        if (records.length === 0) break;
        batch = this.newBatch(records);
      }
      const request = fromBinary(UploadOfflineBatchRequestSchema, batch.request);
      const res = await this.withRetry(() =>
        this.client().uploadOfflineBatch(request, { timeoutMs: this.callTimeoutMs }),
      );
      const results = res.results;
      if (results.length !== request.records.length) {
        throw new PaycodeProtocolError(
          `UploadOfflineBatch: ${results.length} results for ${request.records.length} records`,
        );
      }
      results.forEach((r, i) => {
        if (r.recordId !== request.records[i]!.recordId) {
          throw new PaycodeProtocolError(`UploadOfflineBatch: result ${i} is for another record`);
        }
        if (!(r.outcome in RecordOutcome) || r.outcome === RecordOutcome.UNSPECIFIED) {
          throw new PaycodeProtocolError(
            `UploadOfflineBatch: record ${r.recordId} has outcome ${r.outcome}`,
          );
        }
        if (r.outcome === RecordOutcome.SETTLED && !r.paymentId) {
          throw new PaycodeProtocolError(
            `UploadOfflineBatch: settled record ${r.recordId} has no payment_id`,
          );
        }
        if (r.issuerLiable && r.outcome !== RecordOutcome.SETTLED) {
          throw new PaycodeProtocolError(
            `UploadOfflineBatch: record ${r.recordId} is issuer_liable but not SETTLED`,
          );
        }
      });
      this.journal.completeBatch(batch.batchId, this.clock.now(), results);
      summary.batches++;
      summary.records += results.length;
      for (const r of results) {
        const name = RecordOutcome[r.outcome]!;
        summary.outcomes[name] = (summary.outcomes[name] ?? 0) + 1;
        if (r.issuerLiable) summary.issuerLiable++;
      }
      options.onProgress?.({
        batchId: batch.batchId,
        recordsSent: summary.records,
        recordsTotal,
        batchesSent: summary.batches,
        resumed,
      });
    }
    return summary;
  }

  private newBatch(records: JournalRecord[]): JournalBatch {
    const request = create(UploadOfflineBatchRequestSchema, {
      batchId: randomUUID(),
      records: records.map((r) => ({
        recordId: r.recordId,
        code: r.code,
        amount: { currency: r.currency, amountMinor: r.amountMinor },
        acceptedAt: timestampFromMs(r.acceptedAtMs),
        keysSyncedAt: timestampFromMs(r.keysSyncedAtMs),
      })),
    });
    const batch: JournalBatch = {
      batchId: request.batchId,
      createdAtMs: this.clock.now(),
      request: toBinary(UploadOfflineBatchRequestSchema, request),
    };
    // Durable before the first send, so a crash after sending resends the same batch.
    this.journal.createBatch(
      batch,
      records.map((r) => r.recordId),
    );
    return batch;
  }

  private installKeys(response: GetIssuerKeysResponse): void {
    const profile = response.profile!;
    this.keys = {
      response,
      revoked: new Set(response.revokedWalletIds),
      verifier: new OfflineCodeVerifier({
        keys: response.keys.map(issuerKeyEntryFromProto),
        validitySeconds: profile.offlineCodeValiditySeconds,
        clockSkewSeconds: profile.offlineClockSkewSeconds,
      }),
    };
  }

  private client(): Client<typeof SettlementService> {
    if (!this.transport)
      throw new Error("this terminal has no transport: sync and upload need one");
    this.rpc ??= createClient(SettlementService, this.transport);
    return this.rpc;
  }

  private async withRetry<T>(op: () => Promise<T>): Promise<T> {
    let delayMs = this.retry.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (!isTransientError(err) || attempt >= this.retry.maxAttempts) throw err;
        await this.sleep(delayMs);
        delayMs = Math.min(delayMs * this.retry.multiplier, this.retry.maxBackoffMs);
      }
    }
  }
}

function refuse(
  reason: RefusalReason,
  message: string,
  walletId?: string,
  counter?: bigint,
): AcceptResult {
  return {
    accepted: false,
    reason,
    message,
    ...(walletId !== undefined ? { walletId } : {}),
    ...(counter !== undefined ? { counter } : {}),
  };
}

/** Strict checks of a GetIssuerKeys response before the terminal trusts it. */
export function checkIssuerKeys(res: GetIssuerKeysResponse): void {
  const fail = (what: string): never => {
    throw new PaycodeProtocolError(`GetIssuerKeys response: ${what}`);
  };
  if (!res.generatedAt) fail("no generated_at");
  const p = res.profile ?? fail("no profile");
  if (p.maxKeyAgeSeconds === 0) fail("profile max_key_age_seconds is 0");
  if (p.offlineCodeValiditySeconds === 0) fail("profile offline_code_validity_seconds is 0");
  if (res.keys.length === 0) fail("no issuer keys");
  const ids = new Set<string>();
  for (const key of res.keys) {
    if (!key.keyId) fail("a key has no key_id");
    if (ids.has(key.keyId)) fail(`key id ${key.keyId} appears twice`);
    ids.add(key.keyId);
    if (key.publicKey.length !== 32) fail(`key ${key.keyId} is not 32 bytes`);
    if (key.notAfter <= key.notBefore) fail(`key ${key.keyId} has an empty validity`);
  }
  for (const id of res.revokedWalletIds) if (!id) fail("empty wallet id in the revocation list");
}
