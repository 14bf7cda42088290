import type Database from "better-sqlite3";
import type { DeclineReasonName, PaymentRecord } from "./records.js";
import { ADD_MAC_FAILURE_SQL, ADD_MERCHANT_FAILURE_SQL } from "./scan-throttle-sql.js";
import type { OneCallScan, ScanOnceResult } from "./store.js";

/** Thrown inside a group member whose order exists (from before, or a member just ahead): roll the member back, replay. */
export class ScanReplay extends Error {
  constructor() {
    super("concurrent Scan with the same out_trade_no");
    this.name = "ScanReplay";
  }
}

/**
 * `Store.scanOnce` on SQLite: the steps of `paycode_scan_v2` (postgres-scan-function.ts)
 * as one synchronous run of prepared statements inside the caller's group
 * member. Compared with the general path through `SqlTx` it reads only the
 * columns it needs (no `SELECT *` of a wallet with its seed envelope and
 * certificate, no row mappers), folds the payer read and today's usage into
 * one statement, and awaits nothing between statements.
 */
export class SqliteScan {
  private readonly existing: Database.Statement;
  private readonly wallet: Database.Statement;
  private readonly burn: Database.Statement;
  private readonly payer: Database.Statement;
  private readonly insertPayment: Database.Statement;
  private readonly insertTransfer: Database.Statement;
  private readonly debit: Database.Statement;
  private readonly addUsage: Database.Statement;
  private readonly failuresOf: Database.Statement;
  private readonly addFailure: Database.Statement;
  private readonly addMacFailure: Database.Statement;
  private readonly revoke: Database.Statement;
  private readonly bumpRevocations: Database.Statement;

  constructor(db: Database.Database) {
    this.failuresOf = db
      .prepare("SELECT failures FROM scan_failures WHERE merchant_id = ? AND window_start = ?")
      .pluck();
    this.addFailure = db.prepare(ADD_MERCHANT_FAILURE_SQL).pluck();
    this.addMacFailure = db.prepare(ADD_MAC_FAILURE_SQL).raw();
    this.revoke = db.prepare(
      "UPDATE wallets SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL",
    );
    this.bumpRevocations = db.prepare(
      "UPDATE counters SET value = value + 1 WHERE name = 'revocation_list_version'",
    );
    this.existing = db
      .prepare("SELECT 1 FROM payments WHERE merchant_id = ? AND out_trade_no = ?")
      .pluck();
    this.wallet = db
      .prepare("SELECT account_id, revoked_at, step_up_until FROM wallets WHERE id = ?")
      .raw();
    this.burn = db.prepare(
      "INSERT INTO used_codes (usage_key, wallet_id, payment_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    );
    this.payer = db
      .prepare(
        `SELECT a.balance, a.currency, a.limit_per_payment_password_free,
           a.limit_daily_password_free_amount, a.limit_daily_password_free_count,
           COALESCE(u.amount, 0), COALESCE(u.count, 0)
         FROM accounts a LEFT JOIN daily_usage u ON u.account_id = a.id AND u.day = ?
         WHERE a.id = ? AND a.kind = 'payer'`,
      )
      .raw();
    this.insertPayment = db.prepare(
      `INSERT INTO payments (id, merchant_id, out_trade_no, amount, currency, status, decline_reason,
         code_kind, code_digest, subject, wallet_id, payer_account_id, password_free, refunded_amount,
         confirm_deadline, source, terminal_id, record_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'scan', NULL, NULL, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.insertTransfer = db.prepare(
      `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency, kind, payment_id, refund_id, created_at)
       SELECT ?, d.id, c.id, ?, ?, 'payment', ?, NULL, ? FROM accounts d, accounts c
       WHERE d.id = ? AND c.id = ? AND d.currency = ? AND c.currency = ?`,
    );
    this.debit = db.prepare(
      `UPDATE accounts SET balance = CASE WHEN id = ? THEN balance - ? ELSE balance + ? END
       WHERE id IN (?, ?) AND kind = 'payer'`,
    );
    this.addUsage = db.prepare(
      `INSERT INTO daily_usage (account_id, day, amount, count) VALUES (?, ?, ?, 1)
       ON CONFLICT (account_id, day) DO UPDATE
       SET amount = daily_usage.amount + excluded.amount, count = daily_usage.count + 1`,
    );
  }

  /**
   * Decides and records a new Scan inside the current transaction. An order
   * that exists is found by the payment's INSERT, as on PostgreSQL, and
   * throws `ScanReplay`, so its member's writes roll back; undefined when
   * the merchant throttle refuses a Scan whose order exists (nothing
   * written). The database holds the write lock (BEGIN IMMEDIATE), so what
   * is read here cannot change before COMMIT.
   */
  run(s: OneCallScan): ScanOnceResult | undefined {
    const p = s.payment;
    const now = p.createdAt;
    const t = s.throttle;
    let merchantFailures: number | null = null;
    let macFailures: { today: number; total: number } | null = null;
    let walletBlocked = false;
    if (t) {
      // [SEC-4] [SEC-11] The merchant throttle, before anything is revealed, burned or stored.
      if (s.declined === "CODE_INVALID" || s.declined === "CODE_MALFORMED") {
        const n = this.addFailure.get(p.merchantId, t.windowStart, t.merchantLimit) as
          | bigint
          | undefined;
        if (n === undefined) return this.refused(s);
        merchantFailures = Number(n);
      } else {
        const n = this.failuresOf.get(p.merchantId, t.windowStart) as bigint | undefined;
        if (n !== undefined && Number(n) >= t.merchantLimit) return this.refused(s);
      }
      // [SEC-5] A MAC failure counts on the wallet; [SEC-6] step-up; [SEC-13] block.
      if (t.macFailureWalletId !== null) {
        const m = this.addMacFailure.get(
          s.day,
          s.day,
          s.day,
          t.stepUpAt,
          t.stepUpUntil,
          t.macFailureWalletId,
        ) as [bigint, bigint] | undefined;
        if (m) {
          macFailures = { today: Number(m[0]), total: Number(m[1]) };
          if (
            macFailures.total >= t.blockAt &&
            this.revoke.run(now, t.revokeReason, t.macFailureWalletId).changes === 1
          ) {
            this.bumpRevocations.run();
            walletBlocked = true;
          }
        }
      }
    }
    let status: PaymentRecord["status"] = "DECLINED";
    let reason: DeclineReasonName | null = s.declined;
    let walletId: string | null = null;
    let payer: string | null = null;
    let deadline: number | null = null;
    // [VERIFY-9] Step 1: a code the codec declined reaches no wallet and burns nothing.
    if (reason === null) {
      const w = this.wallet.get(s.walletId) as [string, bigint | null, bigint | null] | undefined;
      if (!w) {
        reason = "CODE_INVALID";
        if (t) {
          // [SEC-4] An authentic offline code of a wallet never provisioned fails verification too.
          merchantFailures = Number(this.addFailure.get(p.merchantId, t.windowStart, 2 ** 31));
        }
      } else {
        walletId = s.walletId;
        payer = w[0];
        // [SCAN-4] [SCAN-6] Burn first, whatever the outcome.
        if (this.burn.run(s.usageKey, walletId, p.id, now).changes !== 1) {
          reason = "CODE_REUSED"; // [SCAN-5]
        } else if (w[1] !== null) {
          reason = "WALLET_REVOKED"; // [WALLET-6]
        } else {
          // [SEC-6] A wallet in step-up after MAC failures needs the password whatever the amount.
          const stepUp = t !== null && w[2] !== null && now < Number(w[2]);
          const funds = this.decideFunds(s, payer, stepUp);
          if (funds === "step-up") {
            reason = null;
            status = "PENDING_CONFIRMATION";
            deadline = s.confirmDeadline; // [PAY-2]
          } else if (funds === "password-free") {
            reason = null;
            status = "SUCCEEDED";
          } else {
            reason = funds;
          }
        }
      }
    }
    // [SCAN-12] Every outcome, declines included, is a stored payment.
    const inserted = this.insertPayment.run(
      p.id,
      p.merchantId,
      p.outTradeNo,
      p.amount,
      p.currency,
      status,
      reason,
      p.codeKind,
      p.codeDigest
        ? Buffer.from(p.codeDigest.buffer, p.codeDigest.byteOffset, p.codeDigest.byteLength)
        : null,
      p.subject,
      walletId,
      payer,
      status === "SUCCEEDED" ? 1 : 0,
      deadline,
      now,
      now,
    );
    // [AUTH-3] [SCAN-2] [SCAN-3] The order exists: the member rolls back (burn, counts and
    // all), and the caller replays or refuses it.
    if (inserted.changes !== 1) throw new ScanReplay();
    if (status === "SUCCEEDED") {
      // [SCAN-11] [PAY-5] Exactly one transfer, in the transaction that records the payment.
      const t = this.insertTransfer.run(
        s.transferId,
        p.amount,
        p.currency,
        p.id,
        now,
        payer,
        s.merchantAccountId,
        p.currency,
        p.currency,
      );
      if (t.changes !== 1) {
        throw new Error(
          `transfer ${s.transferId}: account missing or not in ${p.currency} (${payer} → ${s.merchantAccountId})`,
        );
      }
      this.debit.run(payer, p.amount, p.amount, payer, s.merchantAccountId);
      // [LIMIT-4] Only direct password-free successes count toward today's totals.
      this.addUsage.run(payer, s.day, p.amount);
    }
    return {
      payment: {
        ...p,
        status,
        declineReason: reason,
        walletId,
        payerAccountId: payer,
        passwordFree: status === "SUCCEEDED",
        confirmDeadline: deadline,
      },
      merchantFailures,
      macFailures,
      walletBlocked,
    };
  }

  /** [SEC-4] The merchant is throttled; [SCAN-2] a retry of an order that exists is replayed instead. */
  private refused(s: OneCallScan): ScanOnceResult | undefined {
    const exists = this.existing.get(s.payment.merchantId, s.payment.outTradeNo) !== undefined;
    return exists ? undefined : { throttled: true };
  }

  /** Steps [SCAN-8] to [SCAN-10], then whether the payment needs the password. */
  private decideFunds(
    s: OneCallScan,
    payerId: string,
    walletStepUp: boolean,
  ): DeclineReasonName | "step-up" | "password-free" {
    const a = this.payer.get(s.day, payerId) as
      | [bigint, string, bigint | null, bigint | null, bigint | null, bigint, bigint]
      | undefined;
    if (!a) throw new Error(`account ${payerId} of wallet ${s.walletId} is missing`);
    const amount = s.payment.amount;
    if (s.offlineRefusal === "CURRENCY_MISMATCH" || s.payment.currency !== a[1]) {
      return "CURRENCY_MISMATCH"; // [SCAN-8]
    }
    if (s.offlineRefusal === "OVER_LIMIT") return "LIMIT_EXCEEDED"; // [SCAN-9]
    if (a[0] < amount) return "INSUFFICIENT_FUNDS"; // [SCAN-10]
    // [LIMIT-6] Unset limits are the profile's defaults; [LIMIT-5] "today" is the UTC day.
    const d = s.defaultLimits;
    const own = a[2] !== null;
    const perPayment = own ? a[2]! : d.perPaymentPasswordFree;
    const dailyAmount = own ? a[3]! : d.dailyPasswordFreeAmount;
    const dailyCount = own ? a[4]! : BigInt(d.dailyPasswordFreeCount);
    // [LIMIT-1] [LIMIT-2] [LIMIT-3] Equality with a limit needs no password.
    const stepUp =
      amount > perPayment || a[5] + amount > dailyAmount || a[6] + 1n > dailyCount || walletStepUp;
    return stepUp ? "step-up" : "password-free";
  }
}
