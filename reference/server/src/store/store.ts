import type {
  AccountRecord,
  ApiKeyPrincipal,
  ApiKeyRecord,
  AuditEventRecord,
  AuditQuery,
  BatchResultRecord,
  BurnRecord,
  DailyUsage,
  DeclineReasonName,
  IssuerKeyRecord,
  LedgerMismatch,
  LedgerTotal,
  LimitsRecord,
  MerchantRecord,
  NewAccount,
  NewAuditEvent,
  OfflineBatchRecord,
  OfflineSettledTotals,
  OfflineSettlementRecord,
  PasswordFailuresRecord,
  PaymentRecord,
  PaymentUpdate,
  RefundRecord,
  SettlementAggregates,
  TerminalRecord,
  TerminalRejectionsRecord,
  TransferRecord,
  WalletRecord,
} from "./records.js";

export interface ReadOptions {
  /** Lock the row until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite holds a write lock anyway). */
  forUpdate?: boolean;
}

/**
 * The record-level operations of one transaction. Every method runs inside
 * the transaction it was handed to; nothing is visible to others before the
 * transaction commits. Methods that return `boolean` report whether a row was
 * inserted (false = a UNIQUE key already existed).
 */
export interface Tx {
  /** Serialises transactions that take the same named lock (PostgreSQL advisory lock; a no-op on SQLite, which holds the database lock). */
  lock(name: string): Promise<void>;

  // Accounts and the double-entry ledger.
  insertAccount(account: NewAccount): Promise<boolean>;
  /**
   * A merchant's or the issuer's balance is derived from its transfers (see
   * `SqlTx`); `forUpdate` locks the row but cannot freeze such a balance.
   */
  getAccount(id: string, options?: ReadOptions): Promise<AccountRecord | undefined>;
  /**
   * Locks the payer accounts among `ids` in a fixed order (sorted ids) so
   * concurrent transfers do not deadlock. Merchant and issuer accounts are
   * not locked: transfers only insert entries for them, so payments to one
   * merchant do not queue on its row.
   */
  lockAccounts(ids: readonly string[]): Promise<void>;
  /** Records one transfer and moves both balances; the ledger stays balanced by construction. */
  transfer(transfer: TransferRecord): Promise<void>;
  /**
   * Adds `amount` to a payer's stored balance without a transfer, unbalancing
   * the ledger; only the `offline-credit-without-debit` mutant uses it.
   */
  mutantRestorePayerBalance(accountId: string, amount: bigint): Promise<void>;
  ledgerTotal(currency: string): Promise<LedgerTotal>;
  /** Accounts whose balance is not the sum of their transfers; empty in a consistent ledger. */
  ledgerAudit(): Promise<LedgerMismatch[]>;

  // Merchants and terminals.
  insertMerchant(merchant: MerchantRecord): Promise<void>;
  getMerchant(id: string): Promise<MerchantRecord | undefined>;
  getMerchantByKeyHash(hash: Uint8Array): Promise<MerchantRecord | undefined>;
  insertTerminal(terminal: TerminalRecord): Promise<void>;
  getTerminalByKeyHash(hash: Uint8Array): Promise<TerminalRecord | undefined>;
  getTerminal(id: string): Promise<TerminalRecord | undefined>;

  // API keys (issue 9 part 3): several per merchant or terminal.
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  /** The key with this hash and its principal, whatever its state (the caller checks revoked/expired). */
  findApiKey(hash: Uint8Array): Promise<ApiKeyPrincipal | undefined>;
  getApiKey(keyId: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(ownerKind: "merchant" | "terminal", ownerId: string): Promise<ApiKeyRecord[]>;
  /** Sets revoked_at unless already revoked; false when there is no such key or it was revoked. */
  revokeApiKey(keyId: string, at: number): Promise<boolean>;
  /** Sets the grace deadline of every unrevoked key of the owner except `exceptKeyId` to min(its own, `at`); returns the keys it changed. */
  expireApiKeys(
    ownerKind: "merchant" | "terminal",
    ownerId: string,
    at: number,
    exceptKeyId: string,
  ): Promise<string[]>;

  // Wallets and revocation.
  /** False when the handle (or token hash) is taken; pick another and retry. */
  insertWallet(wallet: WalletRecord): Promise<boolean>;
  getWallet(id: string): Promise<WalletRecord | undefined>;
  getWalletByHandle(handle: number): Promise<WalletRecord | undefined>;
  getWalletByTokenHash(hash: Uint8Array): Promise<WalletRecord | undefined>;
  listActiveWallets(accountId: string): Promise<WalletRecord[]>;
  /** Revokes the wallet and bumps the revocation list version; false if it was already revoked. */
  revokeWallet(id: string, at: number, reason: string): Promise<boolean>;
  /** Revoked wallets whose certificate is still valid at `now`, and the list version. */
  revocationList(now: number): Promise<{ walletIds: string[]; version: bigint }>;

  // Issuer signing keys and settings.
  insertIssuerKey(key: IssuerKeyRecord): Promise<void>;
  listIssuerKeys(): Promise<IssuerKeyRecord[]>;
  getSetting(name: string): Promise<Uint8Array | undefined>;
  /** Stores `value` unless the setting exists; returns the value in force. */
  putSettingIfAbsent(name: string, value: Uint8Array): Promise<Uint8Array>;
  /** Stores `value`, replacing any earlier one. */
  putSetting(name: string, value: Uint8Array): Promise<void>;

  // Sealed secrets, for master-key rotation (issue 9 part 3).
  /** Every wallet's sealed seed, revoked wallets included, by wallet id. */
  listWalletSeedEnvelopes(): Promise<{ id: string; seedEnvelope: Uint8Array }[]>;
  setWalletSeedEnvelope(walletId: string, envelope: Uint8Array): Promise<void>;
  setIssuerKeyEnvelope(keyId: string, envelope: Uint8Array): Promise<void>;
  /** Changes an issuer key's validity end (signing-key rotation retires a key). */
  setIssuerKeyNotAfter(keyId: string, notAfter: number): Promise<void>;

  // Code burns.
  /** Records a usage key; false when it was burned before (REUSED). */
  burn(burn: BurnRecord): Promise<boolean>;
  isBurned(usageKey: string): Promise<boolean>;
  /** Removes a burn; only the `no-burn-on-decline` mutant uses it. */
  unburn(usageKey: string): Promise<void>;
  /**
   * Removes burns whose key starts with `prefix`, made before `before` (for
   * "off:" also the terminals that presented those codes); only the
   * `prune-offline-burns` mutant uses it.
   */
  pruneBurns(prefix: string, before: number): Promise<void>;

  // Payments.
  /** False on a (merchant_id, out_trade_no) conflict. */
  insertPayment(payment: PaymentRecord): Promise<boolean>;
  getPayment(id: string, options?: ReadOptions): Promise<PaymentRecord | undefined>;
  getPaymentByOutTradeNo(
    merchantId: string,
    outTradeNo: string,
    options?: ReadOptions,
  ): Promise<PaymentRecord | undefined>;
  updatePayment(id: string, update: PaymentUpdate): Promise<void>;
  listPendingPayments(walletId: string): Promise<PaymentRecord[]>;
  /**
   * Closes every pending payment whose deadline is ≤ now; returns how many.
   * `updated_at` becomes the deadline (when the payment closed), so the
   * record does not depend on when the sweep happened to run.
   */
  closeExpiredPayments(now: number): Promise<number>;
  /** Same, for one wallet's payments. */
  closeExpiredPaymentsOfWallet(walletId: string, now: number): Promise<number>;

  // Refunds.
  /** False on a (payment_id, out_refund_no) conflict. */
  insertRefund(refund: RefundRecord): Promise<boolean>;
  getRefund(paymentId: string, outRefundNo: string): Promise<RefundRecord | undefined>;

  // Daily password-free usage per payer account and UTC day ("YYYY-MM-DD").
  getDailyUsage(accountId: string, day: string): Promise<DailyUsage>;
  addDailyUsage(accountId: string, day: string, amount: bigint): Promise<void>;

  // Scan throttles (§12.3), shared by every server on the database.
  /** [SEC-4] Verification failures of a merchant in the window starting at `windowStart`. */
  merchantFailures(merchantId: string, windowStart: number): Promise<number>;
  /**
   * [SEC-4] Counts one verification failure of a merchant unless its window
   * already holds `limit` (null: no limit). The count after it, or undefined
   * when the window is full (nothing written).
   */
  addMerchantFailure(
    merchantId: string,
    windowStart: number,
    limit: number | null,
  ): Promise<number | undefined>;
  /**
   * [SEC-5] Counts one MAC failure of a wallet in UTC day `day` and since it
   * was provisioned; from the `stepUpAt`-th of a day on, [SEC-6] the wallet
   * is in step-up until `stepUpUntil`. The counts after it (undefined: no such wallet).
   */
  addMacFailure(
    walletId: string,
    day: string,
    stepUpAt: number,
    stepUpUntil: number,
  ): Promise<{ today: number; total: number } | undefined>;
  /** [SEC-14] Deletes up to `limit` Scan payments declined CODE_INVALID / CODE_MALFORMED created before `before`; how many. */
  pruneJunkPayments(before: number, limit: number): Promise<number>;

  // Offline settlement.
  /** False on a (terminal_id, batch_id) conflict. */
  insertBatch(batch: OfflineBatchRecord): Promise<boolean>;
  getBatch(terminalId: string, batchId: string): Promise<OfflineBatchRecord | undefined>;
  setBatchResults(terminalId: string, batchId: string, results: BatchResultRecord[]): Promise<void>;
  /** The payer-debited settlement of a (wallet_id, counter); false on a conflict (one exists). */
  insertOfflineSettlement(settlement: OfflineSettlementRecord): Promise<boolean>;
  /** An issuer-liable settlement (§10.3): a further record of a (wallet_id, counter), paid by the issuer. */
  insertIssuerLiableSettlement(settlement: OfflineSettlementRecord): Promise<void>;
  /** Amounts settled under `walletId`, payer-debited and issuer-liable. */
  offlineSettledTotals(walletId: string): Promise<OfflineSettledTotals>;
  /**
   * Records that `terminalId` presented (wallet_id, counter) for settlement;
   * false when that terminal had presented it before.
   */
  recordOfflineUse(
    walletId: string,
    counter: bigint,
    terminalId: string,
    at: number,
  ): Promise<boolean>;
  /** Whether a `Scan` recorded `usageKey` (the burn names a payment of source "scan"). */
  burnedByScan(usageKey: string): Promise<boolean>;

  // Throttles ([SEC-3], [SEC-21]). Callers serialise on `lock` first (one name per account or terminal).
  getPasswordFailures(accountId: string): Promise<PasswordFailuresRecord | undefined>;
  putPasswordFailures(record: PasswordFailuresRecord): Promise<void>;
  /** Forgets the account's wrong passwords (a right one, or an operator's unlock); returns how many there were. */
  clearPasswordFailures(accountId: string): Promise<number>;
  /** Account ids with at least `minFailures` consecutive wrong passwords, by id. */
  listPasswordFailures(minFailures: number): Promise<PasswordFailuresRecord[]>;
  getTerminalRejections(terminalId: string): Promise<TerminalRejectionsRecord | undefined>;
  putTerminalRejections(record: TerminalRejectionsRecord): Promise<void>;

  // Reports.
  settlementAggregates(
    merchantId: string,
    currency: string,
    fromMs: number,
    toMs: number,
  ): Promise<SettlementAggregates>;

  // Audit log (migration 7). Written in a transaction of its own, never in a decision's.
  /** Appends the events in order. */
  insertAuditEvents(events: readonly NewAuditEvent[]): Promise<void>;
  /** The matching events, oldest first (by id). */
  listAuditEvents(query: AuditQuery): Promise<AuditEventRecord[]>;
  /** Deletes events with `at` < before (retention); returns how many. */
  pruneAuditEvents(before: number): Promise<number>;
}

/**
 * A persistent store. One money decision = one `transaction`: [SEC-2] the
 * ledger stays balanced and money moves at most once per payment however
 * many requests, or servers on one database, race.
 */
export interface Store {
  readonly kind: "sqlite" | "postgres";
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when
   * it throws. The returned promise resolves only once the commit is durable.
   * (SQLite may share one commit among concurrent transactions; one that
   * throws is rolled back alone.) `fn` may run more than once (PostgreSQL
   * retries serialization failures and deadlocks, and both stores retry
   * `TransactionRetry`), so it must not have effects outside the transaction
   * before it resolves.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `fn`, which must only read, over committed data. PostgreSQL runs
   * it without BEGIN/COMMIT (one round trip per statement, each statement
   * its own snapshot: use `transaction` when reads must agree); SQLite runs
   * it as a queued transaction like any other.
   */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * A new Scan decided and recorded in one store call (one round trip on
   * PostgreSQL, one statement sequence on SQLite): the steps of §7.3.1 that
   * `ScanService` otherwise runs through `Tx`, with every rule switch off.
   * Resolves to the recorded payment once durable, or to undefined when the
   * merchant already has an order with this `out_trade_no` (found, or
   * inserted concurrently): then nothing was written and the caller takes
   * the general path, which replays or refuses it.
   */
  scanOnce(scan: OneCallScan): Promise<ScanOnceResult | undefined>;
  /**
   * The id and sealed seed of the wallet with this handle, only what
   * decoding a code needs: the seed-cache miss of a Scan. PostgreSQL answers
   * concurrent lookups with one statement; SQLite reads at once on its
   * connection, inside a group if one is open (the Scan is answered only
   * after its own flush either way).
   */
  walletSeed(handle: number): Promise<{ id: string; seedEnvelope: Uint8Array } | undefined>;
  /** The highest applied migration version. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

/** What `Store.scanOnce` decides a new Scan from. */
export interface OneCallScan {
  /**
   * The payment to record with everything but the decision filled in; the
   * store sets status, decline reason, wallet, payer, password-free and
   * deadline on a copy.
   */
  readonly payment: PaymentRecord;
  /** Set when the code's verdict already declines it (§7.3.1 step 1): no wallet, no burn. */
  readonly declined: DeclineReasonName | null;
  /** A usable code's wallet and burn key (null when `declined`). */
  readonly walletId: string | null;
  readonly usageKey: string | null;
  /** What an offline code's certificate refuses of this payment, if anything. */
  readonly offlineRefusal: "OVER_LIMIT" | "CURRENCY_MISMATCH" | null;
  readonly merchantAccountId: string;
  /** Id of the payment's transfer, used only when it succeeds. */
  readonly transferId: string;
  /** [LIMIT-5] The UTC day of the payment, "YYYY-MM-DD". */
  readonly day: string;
  /** [LIMIT-6] The limits of a payer account that has none of its own. */
  readonly defaultLimits: LimitsRecord;
  /** [PAY-2] The deadline of a payment that waits for the password. */
  readonly confirmDeadline: number;
  /** The Scan throttles of §12.3; null when the issuer runs without them. */
  readonly throttle: ScanThrottleInput | null;
}

/** What the throttles of §12.3 need of a new Scan, decided in the same store call. */
export interface ScanThrottleInput {
  /** [SEC-4] Start (Unix ms) of the merchant window of the Scan. */
  readonly windowStart: number;
  /** [SEC-4] Verification failures the merchant may cause per window. */
  readonly merchantLimit: number;
  /**
   * [SEC-5] The wallet whose MAC failed: an online code whose handle it
   * holds, whose step4 names a step of the window, declined CODE_INVALID.
   */
  readonly macFailureWalletId: string | null;
  /** [SEC-6] MAC failures of a UTC day from which the wallet is in step-up, until `stepUpUntil`. */
  readonly stepUpAt: number;
  readonly stepUpUntil: number;
  /** [SEC-13] MAC failures since provisioning at which the wallet is revoked, with `revokeReason`. */
  readonly blockAt: number;
  readonly revokeReason: string;
}

/** A new Scan decided by `Store.scanOnce`. */
export type ScanOnceResult =
  | {
      readonly payment: PaymentRecord;
      /** [SEC-4] The merchant's failures in the window after this Scan (null: not counted). */
      readonly merchantFailures: number | null;
      /** [SEC-5] The wallet's MAC failures today and in total after this Scan (null: none counted). */
      readonly macFailures: { readonly today: number; readonly total: number } | null;
      /** [SEC-13] This Scan's MAC failure revoked the wallet. */
      readonly walletBlocked: boolean;
    }
  | {
      /** [SEC-4] [SEC-11] Refused by the merchant throttle: nothing was written. */
      readonly throttled: true;
    };

/** Thrown inside a transaction to roll it back and run it again (bounded). */
export class TransactionRetry extends Error {
  constructor(reason: string) {
    super(`transaction retry: ${reason}`);
    this.name = "TransactionRetry";
  }
}

/** Retries per transaction before giving up. */
export const MAX_TRANSACTION_ATTEMPTS = 8;
