import type {
  AccountKind,
  AccountRecord,
  ApiKeyPrincipal,
  ApiKeyRecord,
  AuditEventRecord,
  AuditQuery,
  BatchResultRecord,
  BurnRecord,
  CodeKindName,
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
  PaymentSource,
  PaymentStatusName,
  PaymentUpdate,
  RefundRecord,
  SettlementAggregates,
  TerminalRecord,
  TerminalRejectionsRecord,
  TransferRecord,
  WalletRecord,
} from "./records.js";
import { ADD_MAC_FAILURE_SQL, ADD_MERCHANT_FAILURE_SQL } from "./scan-throttle-sql.js";
import type { SqlDialect } from "./sql-dialect.js";
import type { Row, SqlExecutor, SqlValue } from "./sql-executor.js";
import type { ReadOptions, Tx } from "./store.js";

// Driver values: SQLite (safe integers) gives bigint, PostgreSQL gives string
// for BIGINT/NUMERIC and Buffer for BYTEA; these normalise both.
const num = (v: unknown): number => Number(v);
const big = (v: unknown): bigint => BigInt(v as string | number | bigint);
const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const optStr = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const bytes = (v: unknown): Uint8Array => Uint8Array.from(v as Uint8Array);
const optBytes = (v: unknown): Uint8Array | null =>
  v === null || v === undefined ? null : Uint8Array.from(v as Uint8Array);
const bin = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/**
 * The balance of an account in one expression over `accounts a`: a payer's
 * row balance, or a ledger-derived account's opening amount plus the net of
 * its transfers. One statement reads one snapshot even at READ COMMITTED, so
 * the sum never mixes transfers committed before and after the row read.
 */
const ACCOUNT_BALANCE = `CASE WHEN a.kind = 'payer' THEN a.balance ELSE a.balance
    + COALESCE((SELECT SUM(t.amount) FROM transfers t WHERE t.credit_account_id = a.id), 0)
    - COALESCE((SELECT SUM(t.amount) FROM transfers t WHERE t.debit_account_id = a.id), 0) END`;

function accountFromRow(r: Row): AccountRecord {
  const limits: LimitsRecord | null =
    r.limit_per_payment_password_free === null || r.limit_per_payment_password_free === undefined
      ? null
      : {
          perPaymentPasswordFree: big(r.limit_per_payment_password_free),
          dailyPasswordFreeAmount: big(r.limit_daily_password_free_amount),
          dailyPasswordFreeCount: num(r.limit_daily_password_free_count),
          perPaymentOffline: big(r.limit_per_payment_offline),
          cumulativeOffline: big(r.limit_cumulative_offline),
        };
  return {
    id: String(r.id),
    kind: String(r.kind) as AccountKind,
    currency: String(r.currency),
    balance: big(r.effective_balance),
    passwordHash: optStr(r.password_hash),
    limits,
    createdAt: num(r.created_at),
  };
}

function merchantFromRow(r: Row): MerchantRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    accountId: String(r.account_id),
    apiKeyHash: bytes(r.api_key_hash),
    createdAt: num(r.created_at),
  };
}

function terminalFromRow(r: Row): TerminalRecord {
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    apiKeyHash: bytes(r.api_key_hash),
    createdAt: num(r.created_at),
  };
}

function passwordFailuresFromRow(r: Row): PasswordFailuresRecord {
  return {
    accountId: String(r.account_id),
    failures: num(r.failures),
    retryAt: num(r.retry_at),
    updatedAt: num(r.updated_at),
  };
}

function apiKeyFromRow(r: Row): ApiKeyRecord {
  return {
    keyId: String(r.key_id),
    keyHash: bytes(r.key_hash),
    ownerKind: String(r.owner_kind) as "merchant" | "terminal",
    ownerId: String(r.owner_id),
    createdAt: num(r.created_at),
    expiresAt: optNum(r.expires_at),
    revokedAt: optNum(r.revoked_at),
  };
}

function firstKey(
  ownerKind: "merchant" | "terminal",
  ownerId: string,
  keyHash: Uint8Array,
  createdAt: number,
): ApiKeyRecord {
  return {
    keyId: `ak-${ownerId}`,
    keyHash,
    ownerKind,
    ownerId,
    createdAt,
    expiresAt: null,
    revokedAt: null,
  };
}

function walletFromRow(r: Row): WalletRecord {
  return {
    id: String(r.id),
    accountId: String(r.account_id),
    handle: num(r.handle),
    tokenHash: bytes(r.token_hash),
    seedEnvelope: bytes(r.seed_envelope),
    publicKey: bytes(r.public_key),
    certificate: bytes(r.certificate),
    certNotAfter: num(r.cert_not_after),
    deviceLabel: String(r.device_label),
    createdAt: num(r.created_at),
    revokedAt: optNum(r.revoked_at),
    revokeReason: optStr(r.revoke_reason),
    ...(r.step_up_until === null || r.step_up_until === undefined
      ? {}
      : { stepUpUntil: num(r.step_up_until) }),
  };
}

function issuerKeyFromRow(r: Row): IssuerKeyRecord {
  return {
    keyId: String(r.key_id),
    publicKey: bytes(r.public_key),
    privateKeyEnvelope: bytes(r.private_key_envelope),
    notBefore: num(r.not_before),
    notAfter: num(r.not_after),
    createdAt: num(r.created_at),
  };
}

function paymentFromRow(r: Row): PaymentRecord {
  return {
    id: String(r.id),
    merchantId: String(r.merchant_id),
    outTradeNo: optStr(r.out_trade_no),
    amount: big(r.amount),
    currency: String(r.currency),
    status: String(r.status) as PaymentStatusName,
    declineReason: optStr(r.decline_reason) as DeclineReasonName | null,
    codeKind: String(r.code_kind) as CodeKindName,
    codeDigest: optBytes(r.code_digest),
    subject: String(r.subject),
    walletId: optStr(r.wallet_id),
    payerAccountId: optStr(r.payer_account_id),
    passwordFree: num(r.password_free) !== 0,
    refundedAmount: big(r.refunded_amount),
    confirmDeadline: optNum(r.confirm_deadline),
    source: String(r.source) as PaymentSource,
    terminalId: optStr(r.terminal_id),
    recordId: optStr(r.record_id),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function refundFromRow(r: Row): RefundRecord {
  return {
    id: String(r.id),
    paymentId: String(r.payment_id),
    merchantId: String(r.merchant_id),
    outRefundNo: optStr(r.out_refund_no),
    amount: big(r.amount),
    currency: String(r.currency),
    reason: String(r.reason),
    createdAt: num(r.created_at),
  };
}

function batchFromRow(r: Row): OfflineBatchRecord {
  return {
    terminalId: String(r.terminal_id),
    batchId: String(r.batch_id),
    requestDigest: bytes(r.request_digest),
    results: JSON.parse(String(r.results)) as BatchResultRecord[],
    createdAt: num(r.created_at),
  };
}

const PAYMENT_COLUMNS =
  "id, merchant_id, out_trade_no, amount, currency, status, decline_reason, code_kind, code_digest, subject, wallet_id, payer_account_id, password_free, refunded_amount, confirm_deadline, source, terminal_id, record_id, created_at, updated_at";

/**
 * The record operations, written once in the SQL both SQLite and PostgreSQL
 * accept (`ON CONFLICT`, partial indexes); the dialect supplies row locks.
 *
 * Balances (schema v2). Only payer accounts keep their balance in their row:
 * a payment's funds check must read it and hold it against concurrent
 * debits, so a transfer updates it under the row lock (`lockAccounts`), and
 * contention stays per payer. Merchant and issuer accounts are credited by
 * every payer at once and never need a funds check (refunds are capped by
 * the payment, not by the merchant's balance), so a transfer leaves their
 * row alone: the transfer row itself is their insert-only ledger entry, and
 * their balance is `accounts.balance` (an opening amount, 0 for accounts
 * created since v2) plus credits minus debits over `transfers`. Concurrent
 * payments to one merchant then share no row lock, and the ledger stays
 * double-entry and sums to zero exactly: each transfer is one row that is
 * both sides' entry, written in the same transaction as the payer's update.
 * The price is that reading such a balance sums its transfers (an index-only
 * scan); only the conformance GetBalance and the ledger checks do that.
 */
export class SqlTx implements Tx {
  /** Accounts this transaction already holds a row lock on (or needs none for). */
  private readonly locked = new Set<string>();
  /** Payer rows as `lockAccounts` read them, until this transaction changes them. */
  private readonly lockedRows = new Map<string, AccountRecord>();

  constructor(
    private readonly db: SqlExecutor,
    private readonly dialect: SqlDialect,
  ) {}

  private one(sql: string, params: readonly SqlValue[]): Promise<Row | undefined> {
    return this.db.query(sql, params).then((rows) => rows[0]);
  }

  private lockSuffix(options?: ReadOptions): string {
    return options?.forUpdate ? this.dialect.forUpdate : "";
  }

  async lock(name: string): Promise<void> {
    if (this.dialect.name === "postgres") {
      await this.db.query("SELECT pg_advisory_xact_lock(hashtext(?)) AS locked", [name]);
    }
  }

  // ---- accounts and ledger

  async insertAccount(a: NewAccount): Promise<boolean> {
    const l = a.limits;
    const changed = await this.db.run(
      `INSERT INTO accounts (id, kind, currency, balance, password_hash,
         limit_per_payment_password_free, limit_daily_password_free_amount,
         limit_daily_password_free_count, limit_per_payment_offline, limit_cumulative_offline, created_at)
       VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [
        a.id,
        a.kind,
        a.currency,
        a.passwordHash,
        l?.perPaymentPasswordFree ?? null,
        l?.dailyPasswordFreeAmount ?? null,
        l?.dailyPasswordFreeCount ?? null,
        l?.perPaymentOffline ?? null,
        l?.cumulativeOffline ?? null,
        a.createdAt,
      ],
    );
    return changed === 1;
  }

  async getAccount(id: string, options?: ReadOptions): Promise<AccountRecord | undefined> {
    const held = this.lockedRows.get(id);
    if (held) return { ...held };
    const r = await this.one(
      `SELECT a.*, ${ACCOUNT_BALANCE} AS effective_balance FROM accounts a WHERE a.id = ?${this.lockSuffix(options)}`,
      [id],
    );
    if (r && options?.forUpdate) this.locked.add(id);
    return r ? accountFromRow(r) : undefined;
  }

  async lockAccounts(ids: readonly string[]): Promise<void> {
    if (this.dialect.name !== "postgres") return;
    const todo = [...new Set(ids)].filter((id) => !this.locked.has(id));
    if (todo.length === 0) return;
    // Only payer rows are locked (ledger-derived accounts are never updated);
    // ORDER BY makes PostgreSQL lock them in id order, so transactions locking
    // overlapping sets cannot deadlock. The locked rows are kept: nobody else
    // can change them now, so the funds check that follows needs no query.
    const rows = await this.db.query(
      `SELECT a.*, a.balance AS effective_balance FROM accounts a
       WHERE a.id IN (${todo.map(() => "?").join(", ")}) AND a.kind = 'payer' ORDER BY a.id FOR UPDATE`,
      todo,
    );
    for (const id of todo) this.locked.add(id);
    for (const r of rows) this.lockedRows.set(String(r.id), accountFromRow(r));
  }

  async transfer(t: TransferRecord): Promise<void> {
    if (t.amount <= 0n) throw new Error(`transfer amount must be positive, got ${t.amount}`);
    await this.lockAccounts([t.debitAccountId, t.creditAccountId]);
    // Inserted only when both accounts exist in the transfer's currency.
    const inserted = await this.db.run(
      `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency, kind, payment_id, refund_id, created_at)
       SELECT ?, d.id, c.id, ?, ?, ?, ?, ?, ? FROM accounts d, accounts c
       WHERE d.id = ? AND c.id = ? AND d.currency = ? AND c.currency = ?`,
      [
        t.id,
        t.amount,
        t.currency,
        t.kind,
        t.paymentId,
        t.refundId,
        t.createdAt,
        t.debitAccountId,
        t.creditAccountId,
        t.currency,
        t.currency,
      ],
    );
    if (inserted !== 1) {
      // Throwing rolls the whole transaction back, so the ledger cannot go out of balance.
      throw new Error(
        `transfer ${t.id}: account missing or not in ${t.currency} (${t.debitAccountId} → ${t.creditAccountId})`,
      );
    }
    // The payer sides (zero, one or two; kinds never change) move their row,
    // already locked above; a merchant or issuer side needs nothing more, the
    // transfer row is its ledger entry.
    await this.db.run(
      `UPDATE accounts SET balance = CASE WHEN id = ? THEN balance - ? ELSE balance + ? END
       WHERE id IN (?, ?) AND kind = 'payer'`,
      [t.debitAccountId, t.amount, t.amount, t.debitAccountId, t.creditAccountId],
    );
    this.lockedRows.delete(t.debitAccountId);
    this.lockedRows.delete(t.creditAccountId);
  }

  async mutantRestorePayerBalance(accountId: string, amount: bigint): Promise<void> {
    await this.db.run("UPDATE accounts SET balance = balance + ? WHERE id = ? AND kind = 'payer'", [
      amount,
      accountId,
    ]);
    this.lockedRows.delete(accountId);
  }

  async ledgerTotal(currency: string): Promise<LedgerTotal> {
    // One statement, so PostgreSQL sums payer rows and transfers in one snapshot.
    // Each int64 is summed as its high and low 32 bits: the payer balances
    // (or the issuer's funding debits) of a consistent ledger can pass 2^63
    // before the other side cancels them, and SQLite's SUM then fails with
    // "integer overflow" instead of answering.
    const split = (value: string, name: string) =>
      `COALESCE(SUM((${value}) >> 32), 0) AS ${name}_hi, ` +
      `COALESCE(SUM((${value}) & 4294967295), 0) AS ${name}_lo`;
    const r = await this.one(
      `SELECT b.*, m.*
       FROM (SELECT ${split("balance", "balance")} FROM accounts WHERE currency = ?) b,
            (SELECT ${split("CASE WHEN c.kind <> 'payer' THEN t.amount ELSE 0 END", "credit")},
                    ${split("CASE WHEN d.kind <> 'payer' THEN t.amount ELSE 0 END", "debit")},
                    COUNT(*) AS n
               FROM transfers t
               JOIN accounts c ON c.id = t.credit_account_id
               JOIN accounts d ON d.id = t.debit_account_id
              WHERE t.currency = ?) m`,
      [currency, currency],
    );
    const part = (hi: string, lo: string) => big(r?.[hi] ?? 0) * 2n ** 32n + big(r?.[lo] ?? 0);
    return {
      total:
        part("balance_hi", "balance_lo") +
        part("credit_hi", "credit_lo") -
        part("debit_hi", "debit_lo"),
      transferCount: num(r?.n ?? 0),
    };
  }

  async ledgerAudit(): Promise<LedgerMismatch[]> {
    // For a ledger-derived account this reports a non-zero opening amount,
    // i.e. a balance that is not the sum of its transfers.
    const rows = await this.db.query(
      `SELECT a.id AS id, ${ACCOUNT_BALANCE} AS balance,
         COALESCE((SELECT SUM(amount) FROM transfers t WHERE t.credit_account_id = a.id), 0)
           - COALESCE((SELECT SUM(amount) FROM transfers t WHERE t.debit_account_id = a.id), 0) AS computed
       FROM accounts a`,
    );
    const out: LedgerMismatch[] = [];
    for (const r of rows) {
      const balance = big(r.balance);
      const fromTransfers = big(r.computed);
      if (balance !== fromTransfers) out.push({ accountId: String(r.id), balance, fromTransfers });
    }
    return out;
  }

  // ---- merchants and terminals

  async insertMerchant(m: MerchantRecord): Promise<void> {
    await this.db.run(
      "INSERT INTO merchants (id, name, account_id, api_key_hash, created_at) VALUES (?, ?, ?, ?, ?)",
      [m.id, m.name, m.accountId, bin(m.apiKeyHash), m.createdAt],
    );
    // The first key, named as migration 6 names the keys it moved.
    await this.insertApiKey(firstKey("merchant", m.id, m.apiKeyHash, m.createdAt));
  }

  async getMerchant(id: string): Promise<MerchantRecord | undefined> {
    const r = await this.one("SELECT * FROM merchants WHERE id = ?", [id]);
    return r ? merchantFromRow(r) : undefined;
  }

  /** Any key of the merchant, whatever its state; apiKeyHash is the key found. */
  async getMerchantByKeyHash(hash: Uint8Array): Promise<MerchantRecord | undefined> {
    const r = await this.one(
      `SELECT m.id, m.name, m.account_id, k.key_hash AS api_key_hash, m.created_at
         FROM api_keys k JOIN merchants m ON m.id = k.owner_id
        WHERE k.key_hash = ? AND k.owner_kind = 'merchant'`,
      [bin(hash)],
    );
    return r ? merchantFromRow(r) : undefined;
  }

  async insertTerminal(t: TerminalRecord): Promise<void> {
    await this.db.run(
      "INSERT INTO terminals (id, merchant_id, api_key_hash, created_at) VALUES (?, ?, ?, ?)",
      [t.id, t.merchantId, bin(t.apiKeyHash), t.createdAt],
    );
    await this.insertApiKey(firstKey("terminal", t.id, t.apiKeyHash, t.createdAt));
  }

  /** Any key of the terminal, whatever its state; apiKeyHash is the key found. */
  async getTerminalByKeyHash(hash: Uint8Array): Promise<TerminalRecord | undefined> {
    const r = await this.one(
      `SELECT t.id, t.merchant_id, k.key_hash AS api_key_hash, t.created_at
         FROM api_keys k JOIN terminals t ON t.id = k.owner_id
        WHERE k.key_hash = ? AND k.owner_kind = 'terminal'`,
      [bin(hash)],
    );
    return r ? terminalFromRow(r) : undefined;
  }

  async getTerminal(id: string): Promise<TerminalRecord | undefined> {
    const r = await this.one("SELECT * FROM terminals WHERE id = ?", [id]);
    return r ? terminalFromRow(r) : undefined;
  }

  // ---- API keys

  async insertApiKey(k: ApiKeyRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO api_keys (key_id, key_hash, owner_kind, owner_id, created_at, expires_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        k.keyId,
        bin(k.keyHash),
        k.ownerKind,
        k.ownerId,
        k.createdAt,
        k.expiresAt ?? null,
        k.revokedAt ?? null,
      ],
    );
  }

  async findApiKey(hash: Uint8Array): Promise<ApiKeyPrincipal | undefined> {
    // One read: the key and, by its owner kind, the merchant or the terminal.
    const r = await this.one(
      `SELECT k.*, m.account_id AS m_account_id, t.merchant_id AS t_merchant_id
         FROM api_keys k
         LEFT JOIN merchants m ON k.owner_kind = 'merchant' AND m.id = k.owner_id
         LEFT JOIN terminals t ON k.owner_kind = 'terminal' AND t.id = k.owner_id
        WHERE k.key_hash = ?`,
      [bin(hash)],
    );
    if (!r) return undefined;
    const key = apiKeyFromRow(r);
    if (key.ownerKind === "merchant") {
      if (r.m_account_id === null || r.m_account_id === undefined) return undefined;
      return { key, merchantId: key.ownerId, merchantAccountId: String(r.m_account_id) };
    }
    if (r.t_merchant_id === null || r.t_merchant_id === undefined) return undefined;
    return { key, merchantId: String(r.t_merchant_id), merchantAccountId: null };
  }

  async getApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.one("SELECT * FROM api_keys WHERE key_id = ?", [keyId]);
    return r ? apiKeyFromRow(r) : undefined;
  }

  async listApiKeys(ownerKind: "merchant" | "terminal", ownerId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db.query(
      "SELECT * FROM api_keys WHERE owner_kind = ? AND owner_id = ? ORDER BY created_at, key_id",
      [ownerKind, ownerId],
    );
    return rows.map(apiKeyFromRow);
  }

  async revokeApiKey(keyId: string, at: number): Promise<boolean> {
    const changed = await this.db.run(
      "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
      [at, keyId],
    );
    return changed > 0;
  }

  async expireApiKeys(
    ownerKind: "merchant" | "terminal",
    ownerId: string,
    at: number,
    exceptKeyId: string,
  ): Promise<string[]> {
    const rows = await this.db.query(
      `SELECT key_id FROM api_keys
        WHERE owner_kind = ? AND owner_id = ? AND key_id <> ? AND revoked_at IS NULL
          AND (expires_at IS NULL OR expires_at > ?)
        ORDER BY key_id`,
      [ownerKind, ownerId, exceptKeyId, at],
    );
    const ids = rows.map((r) => String(r.key_id));
    for (const id of ids) {
      await this.db.run("UPDATE api_keys SET expires_at = ? WHERE key_id = ?", [at, id]);
    }
    return ids;
  }

  // ---- wallets

  async insertWallet(w: WalletRecord): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO wallets (id, account_id, handle, token_hash, seed_envelope, public_key, certificate,
         cert_not_after, device_label, created_at, revoked_at, revoke_reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [
        w.id,
        w.accountId,
        w.handle,
        bin(w.tokenHash),
        bin(w.seedEnvelope),
        bin(w.publicKey),
        bin(w.certificate),
        w.certNotAfter,
        w.deviceLabel,
        w.createdAt,
        w.revokedAt,
        w.revokeReason,
      ],
    );
    return changed === 1;
  }

  async getWallet(id: string): Promise<WalletRecord | undefined> {
    const r = await this.one("SELECT * FROM wallets WHERE id = ?", [id]);
    return r ? walletFromRow(r) : undefined;
  }

  async getWalletByHandle(handle: number): Promise<WalletRecord | undefined> {
    const r = await this.one("SELECT * FROM wallets WHERE handle = ?", [handle]);
    return r ? walletFromRow(r) : undefined;
  }

  async getWalletByTokenHash(hash: Uint8Array): Promise<WalletRecord | undefined> {
    const r = await this.one("SELECT * FROM wallets WHERE token_hash = ?", [bin(hash)]);
    return r ? walletFromRow(r) : undefined;
  }

  async listActiveWallets(accountId: string): Promise<WalletRecord[]> {
    const rows = await this.db.query(
      "SELECT * FROM wallets WHERE account_id = ? AND revoked_at IS NULL ORDER BY created_at, id",
      [accountId],
    );
    return rows.map(walletFromRow);
  }

  async revokeWallet(id: string, at: number, reason: string): Promise<boolean> {
    const changed = await this.db.run(
      "UPDATE wallets SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL",
      [at, reason, id],
    );
    if (changed === 1) {
      await this.db.run(
        "UPDATE counters SET value = value + 1 WHERE name = 'revocation_list_version'",
      );
    }
    return changed === 1;
  }

  async revocationList(now: number): Promise<{ walletIds: string[]; version: bigint }> {
    const rows = await this.db.query(
      "SELECT id FROM wallets WHERE revoked_at IS NOT NULL AND cert_not_after > ? ORDER BY id",
      [now],
    );
    const v = await this.one(
      "SELECT value FROM counters WHERE name = 'revocation_list_version'",
      [],
    );
    return { walletIds: rows.map((r) => String(r.id)), version: big(v?.value ?? 0) };
  }

  // ---- issuer keys and settings

  async insertIssuerKey(k: IssuerKeyRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO issuer_keys (key_id, public_key, private_key_envelope, not_before, not_after, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [k.keyId, bin(k.publicKey), bin(k.privateKeyEnvelope), k.notBefore, k.notAfter, k.createdAt],
    );
  }

  async listIssuerKeys(): Promise<IssuerKeyRecord[]> {
    const rows = await this.db.query("SELECT * FROM issuer_keys ORDER BY created_at, key_id");
    return rows.map(issuerKeyFromRow);
  }

  async getSetting(name: string): Promise<Uint8Array | undefined> {
    const r = await this.one("SELECT value FROM issuer_settings WHERE name = ?", [name]);
    return r ? bytes(r.value) : undefined;
  }

  async putSettingIfAbsent(name: string, value: Uint8Array): Promise<Uint8Array> {
    await this.db.run(
      "INSERT INTO issuer_settings (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
      [name, bin(value)],
    );
    return (await this.getSetting(name))!;
  }

  async putSetting(name: string, value: Uint8Array): Promise<void> {
    await this.db.run(
      `INSERT INTO issuer_settings (name, value) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      [name, bin(value)],
    );
  }

  // ---- sealed secrets (master-key rotation)

  async listWalletSeedEnvelopes(): Promise<{ id: string; seedEnvelope: Uint8Array }[]> {
    const rows = await this.db.query("SELECT id, seed_envelope FROM wallets ORDER BY id");
    return rows.map((r) => ({ id: String(r.id), seedEnvelope: bytes(r.seed_envelope) }));
  }

  async setWalletSeedEnvelope(walletId: string, envelope: Uint8Array): Promise<void> {
    await this.db.run("UPDATE wallets SET seed_envelope = ? WHERE id = ?", [
      bin(envelope),
      walletId,
    ]);
  }

  async setIssuerKeyEnvelope(keyId: string, envelope: Uint8Array): Promise<void> {
    await this.db.run("UPDATE issuer_keys SET private_key_envelope = ? WHERE key_id = ?", [
      bin(envelope),
      keyId,
    ]);
  }

  async setIssuerKeyNotAfter(keyId: string, notAfter: number): Promise<void> {
    await this.db.run("UPDATE issuer_keys SET not_after = ? WHERE key_id = ?", [notAfter, keyId]);
  }

  // ---- burns: [SEC-9] kept for good (no pruning yet), which is at least the
  // certificate validity plus max_key_age_seconds that a late upload needs.

  async burn(b: BurnRecord): Promise<boolean> {
    const changed = await this.db.run(
      "INSERT INTO used_codes (usage_key, wallet_id, payment_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      [b.usageKey, b.walletId, b.paymentId, b.createdAt],
    );
    return changed === 1;
  }

  async isBurned(usageKey: string): Promise<boolean> {
    return (
      (await this.one("SELECT 1 AS x FROM used_codes WHERE usage_key = ?", [usageKey])) !==
      undefined
    );
  }

  async unburn(usageKey: string): Promise<void> {
    await this.db.run("DELETE FROM used_codes WHERE usage_key = ?", [usageKey]);
  }

  async pruneBurns(prefix: string, before: number): Promise<void> {
    // The prefixes used ("off:") hold no LIKE wildcard.
    await this.db.run("DELETE FROM used_codes WHERE usage_key LIKE ? AND created_at < ?", [
      `${prefix}%`,
      before,
    ]);
    // An offline code's usage is also kept per terminal (§10.2 rule 7); the mutant forgets both.
    if (prefix === "off:") {
      await this.db.run("DELETE FROM offline_record_terminals WHERE created_at < ?", [before]);
    }
  }

  // ---- payments

  async insertPayment(p: PaymentRecord): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO payments (${PAYMENT_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [
        p.id,
        p.merchantId,
        p.outTradeNo,
        p.amount,
        p.currency,
        p.status,
        p.declineReason,
        p.codeKind,
        p.codeDigest ? bin(p.codeDigest) : null,
        p.subject,
        p.walletId,
        p.payerAccountId,
        p.passwordFree ? 1 : 0,
        p.refundedAmount,
        p.confirmDeadline,
        p.source,
        p.terminalId,
        p.recordId,
        p.createdAt,
        p.updatedAt,
      ],
    );
    return changed === 1;
  }

  async getPayment(id: string, options?: ReadOptions): Promise<PaymentRecord | undefined> {
    const r = await this.one(`SELECT * FROM payments WHERE id = ?${this.lockSuffix(options)}`, [
      id,
    ]);
    return r ? paymentFromRow(r) : undefined;
  }

  async getPaymentByOutTradeNo(
    merchantId: string,
    outTradeNo: string,
    options?: ReadOptions,
  ): Promise<PaymentRecord | undefined> {
    const r = await this.one(
      `SELECT * FROM payments WHERE merchant_id = ? AND out_trade_no = ?${this.lockSuffix(options)}`,
      [merchantId, outTradeNo],
    );
    return r ? paymentFromRow(r) : undefined;
  }

  async updatePayment(id: string, u: PaymentUpdate): Promise<void> {
    const changed = await this.db.run(
      `UPDATE payments SET status = ?, decline_reason = ?, refunded_amount = ?, confirm_deadline = ?,
         password_free = ?, updated_at = ? WHERE id = ?`,
      [
        u.status,
        u.declineReason,
        u.refundedAmount,
        u.confirmDeadline,
        u.passwordFree ? 1 : 0,
        u.updatedAt,
        id,
      ],
    );
    if (changed !== 1) throw new Error(`payment ${id} not found`);
  }

  async listPendingPayments(walletId: string): Promise<PaymentRecord[]> {
    const rows = await this.db.query(
      "SELECT * FROM payments WHERE wallet_id = ? AND status = 'PENDING_CONFIRMATION' ORDER BY created_at, id",
      [walletId],
    );
    return rows.map(paymentFromRow);
  }

  closeExpiredPayments(now: number): Promise<number> {
    return this.db.run(
      `UPDATE payments SET status = 'CLOSED', updated_at = confirm_deadline
       WHERE status = 'PENDING_CONFIRMATION' AND confirm_deadline <= ?`,
      [now],
    );
  }

  closeExpiredPaymentsOfWallet(walletId: string, now: number): Promise<number> {
    return this.db.run(
      `UPDATE payments SET status = 'CLOSED', updated_at = confirm_deadline
       WHERE wallet_id = ? AND status = 'PENDING_CONFIRMATION' AND confirm_deadline <= ?`,
      [walletId, now],
    );
  }

  // ---- refunds

  async insertRefund(r: RefundRecord): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO refunds (id, payment_id, merchant_id, out_refund_no, amount, currency, reason, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [r.id, r.paymentId, r.merchantId, r.outRefundNo, r.amount, r.currency, r.reason, r.createdAt],
    );
    return changed === 1;
  }

  async getRefund(paymentId: string, outRefundNo: string): Promise<RefundRecord | undefined> {
    const r = await this.one("SELECT * FROM refunds WHERE payment_id = ? AND out_refund_no = ?", [
      paymentId,
      outRefundNo,
    ]);
    return r ? refundFromRow(r) : undefined;
  }

  // ---- daily usage

  async getDailyUsage(accountId: string, day: string): Promise<DailyUsage> {
    const r = await this.one(
      "SELECT amount, count FROM daily_usage WHERE account_id = ? AND day = ?",
      [accountId, day],
    );
    return r ? { amount: big(r.amount), count: num(r.count) } : { amount: 0n, count: 0 };
  }

  async addDailyUsage(accountId: string, day: string, amount: bigint): Promise<void> {
    await this.db.run(
      `INSERT INTO daily_usage (account_id, day, amount, count) VALUES (?, ?, ?, 1)
       ON CONFLICT (account_id, day) DO UPDATE
       SET amount = daily_usage.amount + excluded.amount, count = daily_usage.count + 1`,
      [accountId, day, amount],
    );
  }

  // ---- throttles

  async getPasswordFailures(accountId: string): Promise<PasswordFailuresRecord | undefined> {
    const r = await this.one("SELECT * FROM password_failures WHERE account_id = ?", [accountId]);
    return r ? passwordFailuresFromRow(r) : undefined;
  }

  async putPasswordFailures(p: PasswordFailuresRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO password_failures (account_id, failures, retry_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE
       SET failures = excluded.failures, retry_at = excluded.retry_at, updated_at = excluded.updated_at`,
      [p.accountId, p.failures, p.retryAt, p.updatedAt],
    );
  }

  async clearPasswordFailures(accountId: string): Promise<number> {
    const r = await this.one("SELECT failures FROM password_failures WHERE account_id = ?", [
      accountId,
    ]);
    if (!r) return 0;
    await this.db.run("DELETE FROM password_failures WHERE account_id = ?", [accountId]);
    return num(r.failures);
  }

  async listPasswordFailures(minFailures: number): Promise<PasswordFailuresRecord[]> {
    const rows = await this.db.query(
      "SELECT * FROM password_failures WHERE failures >= ? ORDER BY account_id",
      [minFailures],
    );
    return rows.map(passwordFailuresFromRow);
  }

  async getTerminalRejections(terminalId: string): Promise<TerminalRejectionsRecord | undefined> {
    const r = await this.one("SELECT * FROM terminal_rejections WHERE terminal_id = ?", [
      terminalId,
    ]);
    return r
      ? {
          terminalId: String(r.terminal_id),
          windowStart: num(r.window_start),
          rejected: num(r.rejected),
        }
      : undefined;
  }

  async putTerminalRejections(t: TerminalRejectionsRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO terminal_rejections (terminal_id, window_start, rejected) VALUES (?, ?, ?)
       ON CONFLICT (terminal_id) DO UPDATE
       SET window_start = excluded.window_start, rejected = excluded.rejected`,
      [t.terminalId, t.windowStart, t.rejected],
    );
  }

  // ---- Scan throttles (§12.3)

  async merchantFailures(merchantId: string, windowStart: number): Promise<number> {
    const r = await this.one(
      "SELECT failures FROM scan_failures WHERE merchant_id = ? AND window_start = ?",
      [merchantId, windowStart],
    );
    return r ? num(r.failures) : 0;
  }

  async addMerchantFailure(
    merchantId: string,
    windowStart: number,
    limit: number | null,
  ): Promise<number | undefined> {
    const r = await this.one(ADD_MERCHANT_FAILURE_SQL, [merchantId, windowStart, limit ?? 2 ** 31]);
    return r ? num(r.failures) : undefined;
  }

  async addMacFailure(
    walletId: string,
    day: string,
    stepUpAt: number,
    stepUpUntil: number,
  ): Promise<{ today: number; total: number } | undefined> {
    const r = await this.one(ADD_MAC_FAILURE_SQL, [day, day, day, stepUpAt, stepUpUntil, walletId]);
    return r ? { today: num(r.mac_failures), total: num(r.mac_failures_total) } : undefined;
  }

  async pruneJunkPayments(before: number, limit: number): Promise<number> {
    return this.db.run(
      `DELETE FROM payments WHERE id IN (
         SELECT id FROM payments WHERE decline_reason IN ('CODE_INVALID', 'CODE_MALFORMED')
           AND created_at < ? AND status = 'DECLINED' AND source = 'scan'
         LIMIT ?)`,
      [before, limit],
    );
  }

  // ---- offline settlement

  async insertBatch(b: OfflineBatchRecord): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO offline_batches (terminal_id, batch_id, request_digest, results, created_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [b.terminalId, b.batchId, bin(b.requestDigest), JSON.stringify(b.results), b.createdAt],
    );
    return changed === 1;
  }

  async getBatch(terminalId: string, batchId: string): Promise<OfflineBatchRecord | undefined> {
    const r = await this.one(
      "SELECT * FROM offline_batches WHERE terminal_id = ? AND batch_id = ?",
      [terminalId, batchId],
    );
    return r ? batchFromRow(r) : undefined;
  }

  async setBatchResults(
    terminalId: string,
    batchId: string,
    results: BatchResultRecord[],
  ): Promise<void> {
    await this.db.run(
      "UPDATE offline_batches SET results = ? WHERE terminal_id = ? AND batch_id = ?",
      [JSON.stringify(results), terminalId, batchId],
    );
  }

  async insertOfflineSettlement(s: OfflineSettlementRecord): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO offline_settlements (wallet_id, counter, payment_id, terminal_id, merchant_id, record_id,
         amount, currency, accepted_at, settled_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [
        s.walletId,
        s.counter.toString(),
        s.paymentId,
        s.terminalId,
        s.merchantId,
        s.recordId,
        s.amount,
        s.currency,
        s.acceptedAt,
        s.settledAt,
      ],
    );
    return changed === 1;
  }

  async insertIssuerLiableSettlement(s: OfflineSettlementRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO offline_issuer_liable (payment_id, wallet_id, counter, terminal_id, merchant_id, record_id,
         amount, currency, accepted_at, settled_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        s.paymentId,
        s.walletId,
        s.counter.toString(),
        s.terminalId,
        s.merchantId,
        s.recordId,
        s.amount,
        s.currency,
        s.acceptedAt,
        s.settledAt,
      ],
    );
  }

  async offlineSettledTotals(walletId: string): Promise<OfflineSettledTotals> {
    const r = await this.one(
      `SELECT (SELECT COALESCE(SUM(amount), 0) FROM offline_settlements WHERE wallet_id = ?) AS payer,
              (SELECT COALESCE(SUM(amount), 0) FROM offline_issuer_liable WHERE wallet_id = ?) AS issuer`,
      [walletId, walletId],
    );
    return { payer: big(r?.payer ?? 0), issuer: big(r?.issuer ?? 0) };
  }

  async recordOfflineUse(
    walletId: string,
    counter: bigint,
    terminalId: string,
    at: number,
  ): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO offline_record_terminals (wallet_id, counter, terminal_id, created_at)
       VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [walletId, counter.toString(), terminalId, at],
    );
    return changed === 1;
  }

  async burnedByScan(usageKey: string): Promise<boolean> {
    const r = await this.one(
      `SELECT 1 AS found FROM used_codes u JOIN payments p ON p.id = u.payment_id
       WHERE u.usage_key = ? AND p.source = 'scan'`,
      [usageKey],
    );
    return r !== undefined;
  }

  // ---- reports

  async settlementAggregates(
    merchantId: string,
    currency: string,
    fromMs: number,
    toMs: number,
  ): Promise<SettlementAggregates> {
    // "Succeeded online payments created that day": a later refund does not
    // remove the payment from the day's sales; the refund is counted on its own day.
    const p = await this.one(
      `SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM payments
       WHERE merchant_id = ? AND currency = ? AND source = 'scan'
         AND status IN ('SUCCEEDED', 'REFUNDED') AND created_at >= ? AND created_at < ?`,
      [merchantId, currency, fromMs, toMs],
    );
    const r = await this.one(
      `SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM refunds
       WHERE merchant_id = ? AND currency = ? AND created_at >= ? AND created_at < ?`,
      [merchantId, currency, fromMs, toMs],
    );
    const o = await this.one(
      `SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM offline_settlements
       WHERE merchant_id = ? AND currency = ? AND settled_at >= ? AND settled_at < ?`,
      [merchantId, currency, fromMs, toMs],
    );
    // [SETTLE-23] Issuer-liable duplicates: settled records of the merchant too, and the issuer's loss.
    const l = await this.one(
      `SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM offline_issuer_liable
       WHERE merchant_id = ? AND currency = ? AND settled_at >= ? AND settled_at < ?`,
      [merchantId, currency, fromMs, toMs],
    );
    return {
      paymentCount: num(p?.n ?? 0),
      paymentTotal: big(p?.total ?? 0),
      refundCount: num(r?.n ?? 0),
      refundTotal: big(r?.total ?? 0),
      offlineCount: num(o?.n ?? 0) + num(l?.n ?? 0),
      offlineTotal: big(o?.total ?? 0) + big(l?.total ?? 0),
      issuerLiableCount: num(l?.n ?? 0),
      issuerLiableTotal: big(l?.total ?? 0),
    };
  }

  // ---- audit log

  async insertAuditEvents(events: readonly NewAuditEvent[]): Promise<void> {
    for (const e of events) {
      await this.db.run(
        "INSERT INTO audit_events (at, type, subject_kind, subject_id, detail) VALUES (?, ?, ?, ?, ?)",
        [
          e.at,
          e.type,
          e.subjectKind,
          e.subjectId,
          e.detail === null ? null : JSON.stringify(e.detail),
        ],
      );
    }
  }

  async listAuditEvents(q: AuditQuery): Promise<AuditEventRecord[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (clause: string, value: SqlValue) => {
      where.push(clause);
      params.push(value);
    };
    if (q.since !== undefined) add("at >= ?", q.since);
    if (q.until !== undefined) add("at < ?", q.until);
    if (q.type !== undefined) {
      // "auth." selects a family: a prefix match without LIKE's wildcards.
      if (q.type.endsWith(".")) add(`substr(type, 1, ${q.type.length}) = ?`, q.type);
      else add("type = ?", q.type);
    }
    if (q.subjectKind !== undefined) add("subject_kind = ?", q.subjectKind);
    if (q.subjectId !== undefined) add("subject_id = ?", q.subjectId);
    if (q.afterId !== undefined) add("id > ?", q.afterId);
    let sql = "SELECT id, at, type, subject_kind, subject_id, detail FROM audit_events";
    if (where.length > 0) sql += ` WHERE ${where.join(" AND ")}`;
    sql += " ORDER BY id";
    if (q.limit !== undefined) {
      sql += " LIMIT ?";
      params.push(q.limit);
    }
    const rows = await this.db.query(sql, params);
    return rows.map((r) => ({
      id: num(r.id),
      at: num(r.at),
      type: String(r.type),
      subjectKind: optStr(r.subject_kind),
      subjectId: optStr(r.subject_id),
      detail:
        r.detail === null || r.detail === undefined
          ? null
          : (JSON.parse(String(r.detail)) as AuditEventRecord["detail"]),
    }));
  }

  async pruneAuditEvents(before: number): Promise<number> {
    return this.db.run("DELETE FROM audit_events WHERE at < ?", [before]);
  }
}
