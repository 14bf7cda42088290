import {
  PAYCODE_SCAN_BATCH_V1,
  PAYCODE_SCAN_V1,
  PAYCODE_SCAN_V2,
  PAYCODE_SCAN_V2_JOINED_READS,
  PAYCODE_SCAN_V2_ORDER_ON_INSERT,
} from "./postgres-scan-function.js";
import type { SqlDialect } from "./sql-dialect.js";

/** One schema change. `statements` are run in order inside one transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  statements(d: SqlDialect): string[];
}

/**
 * The schema history, oldest first. Never edit an applied migration; append
 * a new one. Money is integer minor units, times integer Unix milliseconds.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    statements: ({ int, bytes }) => [
      `CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('issuer', 'payer', 'merchant')),
        currency TEXT NOT NULL,
        balance ${int} NOT NULL DEFAULT 0,
        password_hash TEXT,
        limit_per_payment_password_free ${int},
        limit_daily_password_free_amount ${int},
        limit_daily_password_free_count ${int},
        limit_per_payment_offline ${int},
        limit_cumulative_offline ${int},
        created_at ${int} NOT NULL
      )`,
      `CREATE TABLE transfers (
        id TEXT PRIMARY KEY,
        debit_account_id TEXT NOT NULL REFERENCES accounts (id),
        credit_account_id TEXT NOT NULL REFERENCES accounts (id),
        amount ${int} NOT NULL CHECK (amount > 0),
        currency TEXT NOT NULL,
        kind TEXT NOT NULL,
        payment_id TEXT,
        refund_id TEXT,
        created_at ${int} NOT NULL,
        CHECK (debit_account_id <> credit_account_id)
      )`,
      "CREATE INDEX transfers_debit ON transfers (debit_account_id)",
      "CREATE INDEX transfers_credit ON transfers (credit_account_id)",
      "CREATE INDEX transfers_currency ON transfers (currency)",
      `CREATE TABLE merchants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts (id),
        api_key_hash ${bytes} NOT NULL UNIQUE,
        created_at ${int} NOT NULL
      )`,
      `CREATE TABLE terminals (
        id TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL REFERENCES merchants (id),
        api_key_hash ${bytes} NOT NULL UNIQUE,
        created_at ${int} NOT NULL
      )`,
      `CREATE TABLE wallets (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (id),
        handle ${int} NOT NULL UNIQUE,
        token_hash ${bytes} NOT NULL UNIQUE,
        seed_envelope ${bytes} NOT NULL,
        public_key ${bytes} NOT NULL,
        certificate ${bytes} NOT NULL,
        cert_not_after ${int} NOT NULL,
        device_label TEXT NOT NULL,
        created_at ${int} NOT NULL,
        revoked_at ${int},
        revoke_reason TEXT
      )`,
      "CREATE INDEX wallets_account ON wallets (account_id)",
      "CREATE INDEX wallets_revoked ON wallets (revoked_at) WHERE revoked_at IS NOT NULL",
      `CREATE TABLE issuer_keys (
        key_id TEXT PRIMARY KEY,
        public_key ${bytes} NOT NULL,
        private_key_envelope ${bytes} NOT NULL,
        not_before ${int} NOT NULL,
        not_after ${int} NOT NULL,
        created_at ${int} NOT NULL
      )`,
      `CREATE TABLE issuer_settings (
        name TEXT PRIMARY KEY,
        value ${bytes} NOT NULL
      )`,
      `CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value ${int} NOT NULL
      )`,
      "INSERT INTO counters (name, value) VALUES ('revocation_list_version', 0)",
      `CREATE TABLE used_codes (
        usage_key TEXT PRIMARY KEY,
        wallet_id TEXT NOT NULL,
        payment_id TEXT,
        created_at ${int} NOT NULL
      )`,
      `CREATE TABLE payments (
        id TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL REFERENCES merchants (id),
        out_trade_no TEXT,
        amount ${int} NOT NULL,
        currency TEXT NOT NULL,
        status TEXT NOT NULL,
        decline_reason TEXT,
        code_kind TEXT NOT NULL,
        code_digest ${bytes},
        subject TEXT NOT NULL,
        wallet_id TEXT,
        payer_account_id TEXT,
        password_free ${int} NOT NULL DEFAULT 0,
        refunded_amount ${int} NOT NULL DEFAULT 0,
        confirm_deadline ${int},
        source TEXT NOT NULL CHECK (source IN ('scan', 'offline')),
        terminal_id TEXT,
        record_id TEXT,
        created_at ${int} NOT NULL,
        updated_at ${int} NOT NULL,
        CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
        UNIQUE (merchant_id, out_trade_no)
      )`,
      `CREATE INDEX payments_pending_deadline ON payments (confirm_deadline)
        WHERE status = 'PENDING_CONFIRMATION'`,
      `CREATE INDEX payments_pending_wallet ON payments (wallet_id)
        WHERE status = 'PENDING_CONFIRMATION'`,
      "CREATE INDEX payments_merchant_created ON payments (merchant_id, created_at)",
      `CREATE TABLE refunds (
        id TEXT PRIMARY KEY,
        payment_id TEXT NOT NULL REFERENCES payments (id),
        merchant_id TEXT NOT NULL,
        out_refund_no TEXT,
        amount ${int} NOT NULL CHECK (amount > 0),
        currency TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at ${int} NOT NULL,
        UNIQUE (payment_id, out_refund_no)
      )`,
      "CREATE INDEX refunds_merchant_created ON refunds (merchant_id, created_at)",
      `CREATE TABLE daily_usage (
        account_id TEXT NOT NULL,
        day TEXT NOT NULL,
        amount ${int} NOT NULL,
        count ${int} NOT NULL,
        PRIMARY KEY (account_id, day)
      )`,
      `CREATE TABLE offline_batches (
        terminal_id TEXT NOT NULL REFERENCES terminals (id),
        batch_id TEXT NOT NULL,
        request_digest ${bytes} NOT NULL,
        results TEXT NOT NULL,
        created_at ${int} NOT NULL,
        PRIMARY KEY (terminal_id, batch_id)
      )`,
      // counter is a uint64; TEXT (canonical decimal) keeps values above 2^63.
      `CREATE TABLE offline_settlements (
        wallet_id TEXT NOT NULL,
        counter TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        terminal_id TEXT NOT NULL,
        merchant_id TEXT NOT NULL,
        record_id TEXT NOT NULL,
        amount ${int} NOT NULL,
        currency TEXT NOT NULL,
        accepted_at ${int} NOT NULL,
        settled_at ${int} NOT NULL,
        PRIMARY KEY (wallet_id, counter)
      )`,
      "CREATE INDEX offline_settlements_merchant ON offline_settlements (merchant_id, settled_at)",
    ],
  },
  {
    // Merchant and issuer accounts become ledger-derived (see the comment on
    // `SqlTx`): a transfer no longer updates their row, so their balance is
    // `accounts.balance + credits − debits` over `transfers`. Their stored
    // balance turns into an opening amount; setting it to the old balance
    // minus the net of their transfers keeps every reported balance exactly
    // as it was (0 in a consistent ledger; a pre-existing mismatch stays
    // visible to the audit). The (account, amount) indexes let those sums
    // run as index-only scans; they replace the single-column ones.
    version: 2,
    name: "ledger-derived merchant and issuer balances",
    statements: () => [
      `UPDATE accounts SET balance = balance
         - COALESCE((SELECT SUM(amount) FROM transfers t WHERE t.credit_account_id = accounts.id), 0)
         + COALESCE((SELECT SUM(amount) FROM transfers t WHERE t.debit_account_id = accounts.id), 0)
       WHERE kind <> 'payer'`,
      "CREATE INDEX transfers_credit_amount ON transfers (credit_account_id, amount)",
      "CREATE INDEX transfers_debit_amount ON transfers (debit_account_id, amount)",
      "DROP INDEX transfers_credit",
      "DROP INDEX transfers_debit",
    ],
  },
  {
    version: 3,
    name: "one-call Scan function (PostgreSQL)",
    // SQLite runs the same steps as one synchronous statement sequence in
    // the server process (sqlite-scan.ts), where a statement costs no round trip.
    statements: (d) => (d.name === "postgres" ? [PAYCODE_SCAN_V1] : []),
  },
  {
    // Issue 9, parts 1 and 2 (§12.3): the Scan throttles' counts, in the
    // database so that every server shares them and a restart keeps them.
    // scan_failures: [SEC-4] verification failures per merchant and hour
    // window; the rows outlive the junk payments [SEC-14] prunes, as the
    // count of what was declined. wallets: [SEC-5] MAC failures of the
    // current UTC day and since provisioning, [SEC-6] the step-up end.
    // paycode_scan_v2 replaces v1 on the hot path (v1 stays for servers
    // of the previous version during a rolling upgrade).
    version: 4,
    name: "Scan throttles and junk retention",
    statements: (d) => [
      `CREATE TABLE scan_failures (
        merchant_id TEXT NOT NULL,
        window_start ${d.int} NOT NULL,
        failures ${d.int} NOT NULL,
        PRIMARY KEY (merchant_id, window_start)
      )`,
      "ALTER TABLE wallets ADD COLUMN mac_failure_day TEXT",
      `ALTER TABLE wallets ADD COLUMN mac_failures ${d.int} NOT NULL DEFAULT 0`,
      `ALTER TABLE wallets ADD COLUMN mac_failures_total ${d.int} NOT NULL DEFAULT 0`,
      `ALTER TABLE wallets ADD COLUMN step_up_until ${d.int}`,
      `CREATE INDEX payments_junk_created ON payments (created_at)
        WHERE decline_reason IN ('CODE_INVALID', 'CODE_MALFORMED')`,
      ...(d.name === "postgres" ? [PAYCODE_SCAN_V2] : []),
    ],
  },
  {
    // [SEC-3] / [SEC-21] Throttle state in the database, so every server on
    // it shares one count and a restart forgets nothing. password_failures is
    // keyed by the account id presented, known or not ([SEC-18]): no foreign key.
    version: 5,
    name: "password and terminal throttles",
    statements: ({ int }) => [
      `CREATE TABLE password_failures (
        account_id TEXT PRIMARY KEY,
        failures ${int} NOT NULL,
        retry_at ${int} NOT NULL,
        updated_at ${int} NOT NULL
      )`,
      `CREATE TABLE terminal_rejections (
        terminal_id TEXT PRIMARY KEY REFERENCES terminals (id),
        window_start ${int} NOT NULL,
        rejected ${int} NOT NULL
      )`,
    ],
  },
  {
    // Issue 9 part 3: a merchant or terminal holds several API keys during a
    // rotation ([KEY-2]), each revocable ([KEY-1]) or expiring at a grace
    // deadline ([KEY-3]). Every existing key moves here with the id
    // "ak-<owner id>"; the api_key_hash columns of migration 1 stay, holding
    // each owner's first key, and are no longer read.
    version: 6,
    name: "api_keys: several revocable API keys per merchant and terminal",
    statements: ({ int, bytes }) => [
      `CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        key_hash ${bytes} NOT NULL UNIQUE,
        owner_kind TEXT NOT NULL CHECK (owner_kind IN ('merchant', 'terminal')),
        owner_id TEXT NOT NULL,
        created_at ${int} NOT NULL,
        expires_at ${int},
        revoked_at ${int}
      )`,
      "CREATE INDEX api_keys_owner ON api_keys (owner_kind, owner_id)",
      `INSERT INTO api_keys (key_id, key_hash, owner_kind, owner_id, created_at)
         SELECT 'ak-' || id, api_key_hash, 'merchant', id, created_at FROM merchants`,
      `INSERT INTO api_keys (key_id, key_hash, owner_kind, owner_id, created_at)
         SELECT 'ak-' || id, api_key_hash, 'terminal', id, created_at FROM terminals`,
    ],
  },
  {
    // The audit log's queryable sink (issue 9 part 4): security events as
    // rows, written after the decision they report, in their own transaction
    // (see store-audit-log.ts). Ids and counts only, never a secret. `detail`
    // is a JSON object. The id orders rows for paging; `at` (issuer clock)
    // is what filters and retention use.
    version: 7,
    name: "audit events",
    statements: (d) => [
      `CREATE TABLE audit_events (
        id ${d.name === "postgres" ? "BIGINT GENERATED BY DEFAULT AS IDENTITY" : "INTEGER"} PRIMARY KEY,
        at ${d.int} NOT NULL,
        type TEXT NOT NULL,
        subject_kind TEXT,
        subject_id TEXT,
        detail TEXT
      )`,
      "CREATE INDEX audit_events_at ON audit_events (at)",
      "CREATE INDEX audit_events_type_at ON audit_events (type, at)",
      "CREATE INDEX audit_events_subject_at ON audit_events (subject_kind, subject_id, at)",
    ],
  },
  {
    // Offline liability (§10.3): which terminals presented each (wallet,
    // counter), so a duplicate of the same terminal stays DUPLICATE while one
    // of another terminal settles; and the duplicates the issuer pays. The
    // terminals of settlements made before this version are taken from
    // offline_settlements (those of records rejected at rule 8 were not kept).
    version: 8,
    name: "offline liability: record terminals and issuer-liable settlements",
    statements: ({ int }) => [
      `CREATE TABLE offline_record_terminals (
        wallet_id TEXT NOT NULL,
        counter TEXT NOT NULL,
        terminal_id TEXT NOT NULL,
        created_at ${int} NOT NULL,
        PRIMARY KEY (wallet_id, counter, terminal_id)
      )`,
      `INSERT INTO offline_record_terminals (wallet_id, counter, terminal_id, created_at)
        SELECT wallet_id, counter, terminal_id, settled_at FROM offline_settlements`,
      `CREATE TABLE offline_issuer_liable (
        payment_id TEXT PRIMARY KEY,
        wallet_id TEXT NOT NULL,
        counter TEXT NOT NULL,
        terminal_id TEXT NOT NULL,
        merchant_id TEXT NOT NULL,
        record_id TEXT NOT NULL,
        amount ${int} NOT NULL CHECK (amount > 0),
        currency TEXT NOT NULL,
        accepted_at ${int} NOT NULL,
        settled_at ${int} NOT NULL
      )`,
      "CREATE INDEX offline_issuer_liable_wallet ON offline_issuer_liable (wallet_id)",
      "CREATE INDEX offline_issuer_liable_merchant ON offline_issuer_liable (merchant_id, settled_at)",
    ],
  },
  {
    // Issue 10: concurrent Scans of one server share one call and one commit
    // on PostgreSQL (postgres-store.ts `scanBatch`). SQLite already shares
    // commits among concurrent transactions in the server process.
    version: 9,
    name: "batched one-call Scan function (PostgreSQL)",
    statements: (d) => (d.name === "postgres" ? [PAYCODE_SCAN_BATCH_V1] : []),
  },
  {
    // Issue 10: paycode_scan_v2 finds an order that exists by the payment's
    // INSERT instead of a lookup whose plan, cached per connection, could
    // scan all of a merchant's payments (postgres-scan-function.ts). Same
    // parameters, results and outcomes, so servers of either version share
    // the database during a rolling upgrade.
    version: 10,
    name: "Scan finds an existing order by its insert (PostgreSQL)",
    statements: (d) => (d.name === "postgres" ? [PAYCODE_SCAN_V2_ORDER_ON_INSERT] : []),
  },
  {
    // Issue 10: two statements fewer per paid Scan in paycode_scan_v2
    // (postgres-scan-function.ts); same parameters, results and outcomes.
    version: 11,
    name: "Scan reads payer and usage in one statement (PostgreSQL)",
    statements: (d) => (d.name === "postgres" ? [PAYCODE_SCAN_V2_JOINED_READS] : []),
  },
];

export const SCHEMA_MIGRATIONS_TABLE = (d: SqlDialect): string =>
  `CREATE TABLE IF NOT EXISTS schema_migrations (
    version ${d.int} PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at ${d.int} NOT NULL
  )`;

/** The latest schema version this code knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Checks the list is strictly increasing; a mistake here would corrupt databases. */
export function assertMigrationOrder(list: readonly Migration[] = MIGRATIONS): void {
  for (let i = 1; i < list.length; i++) {
    if (list[i]!.version <= list[i - 1]!.version) {
      throw new Error(`migrations out of order at version ${list[i]!.version}`);
    }
  }
}
