import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { MicroBatcher } from "./micro-batcher.js";
import { applyMigrations, currentSchemaVersion } from "./migrate.js";
import type { PaymentRecord } from "./records.js";
import { numberedPlaceholders, postgresDialect } from "./sql-dialect.js";
import type { Row, SqlExecutor, SqlValue } from "./sql-executor.js";
import { SqlTx } from "./sql-tx.js";
import {
  MAX_TRANSACTION_ATTEMPTS,
  type OneCallScan,
  type ScanOnceResult,
  type Store,
  TransactionRetry,
  type Tx,
} from "./store.js";

export interface PostgresStoreOptions {
  /** Pool size per server process. */
  maxConnections?: number;
  /** Clock for `schema_migrations.applied_at`. */
  now?: () => number;
  /**
   * Scan batches (and seed-lookup batches) running at once: Scans that
   * arrive meanwhile wait and leave together in the next batch, one call and
   * one commit for all of them. Default: a quarter of the pool, at least 1.
   */
  batchesInFlight?: number;
}

/** Scans (or seed lookups) per batch call. */
const MAX_BATCH = 32;

/** SQLSTATEs after which re-running the whole transaction is correct. */
const RETRYABLE = new Set(["40001", "40P01"]);
/** Any fixed number: the advisory lock migrators take so only one migrates at a time. */
const MIGRATION_LOCK = 0x70617963; // "payc"

function isRetryable(e: unknown): boolean {
  if (e instanceof TransactionRetry) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && RETRYABLE.has(code);
}

/** Raised by `paycode_scan_v1` when a concurrent Scan inserted the same order first. */
const SCAN_CONFLICT = "PC001";

/** `paycode_scan_v2` (migration 4), prepared once per connection. */
const SCAN_STATEMENT = {
  name: "pc_scan_v2",
  text: `SELECT o_status, o_decline_reason, o_wallet_id, o_payer_account_id, o_password_free, o_confirm_deadline,
      o_throttled, o_merchant_failures, o_mac_today, o_mac_total, o_blocked
    FROM paycode_scan_v2($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
      $21, $22, $23, $24, $25, $26, $27)`,
};

/** `paycode_scan_batch_v1` (migration 9): the 27 parameters of v2 as arrays, one element per Scan. */
const SCAN_BATCH_STATEMENT = {
  name: "pc_scan_batch_v1",
  text: `SELECT o_index, o_conflict, o_status, o_decline_reason, o_wallet_id, o_payer_account_id,
      o_password_free, o_confirm_deadline, o_throttled, o_merchant_failures, o_mac_today, o_mac_total, o_blocked
    FROM paycode_scan_batch_v1($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
      $7::bytea[], $8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
      $15::text[], $16::text[], $17::bigint[], $18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[],
      $22::bigint[], $23::text[], $24::bigint[], $25::bigint[], $26::bigint[], $27::text[])`,
};

/** Seed envelopes of many wallets in one statement (the seed-cache misses of concurrent Scans). */
const SEEDS_STATEMENT = {
  name: "pc_wallet_seeds",
  text: "SELECT handle, id, seed_envelope FROM wallets WHERE handle = ANY($1::bigint[])",
};

/** A wallet's id and sealed seed, as `Store.walletSeed` returns them. */
type WalletSeed = { id: string; seedEnvelope: Uint8Array };

const optNumber = (v: unknown): number | null =>
  v === null || v === undefined ? null : Number(v as string);

/** SQL text → named statement; the set of statements is fixed, so this stays small. */
const statements = new Map<string, { name: string; text: string }>();

function statement(sql: string): { name: string; text: string } {
  let s = statements.get(sql);
  if (!s) {
    const text = numberedPlaceholders(sql);
    // Named statements are prepared once per connection by node-postgres.
    s = { name: `pc_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`, text };
    statements.set(sql, s);
  }
  return s;
}

function executorFor(client: pg.PoolClient): SqlExecutor {
  return {
    query: async (sql, params) =>
      (await client.query({ ...statement(sql), values: (params ?? []) as SqlValue[] }))
        .rows as Row[],
    run: async (sql, params) =>
      (await client.query({ ...statement(sql), values: (params ?? []) as SqlValue[] })).rowCount ??
      0,
    exec: async (sql) => {
      await client.query(sql);
    },
  };
}

/**
 * The production store: PostgreSQL through a connection pool, so many
 * stateless issuer servers can share one database. Transactions run at READ
 * COMMITTED; correctness comes from UNIQUE keys with `ON CONFLICT DO NOTHING`
 * (burns, idempotency keys) and `SELECT ... FOR UPDATE` row locks on
 * balances and payments. Serialization failures and deadlocks roll back and
 * re-run the whole transaction a bounded number of times.
 */
export class PostgresStore implements Store {
  readonly kind = "postgres" as const;

  private readonly scans: MicroBatcher<OneCallScan, ScanOnceResult | undefined>;
  private readonly seeds: MicroBatcher<number, WalletSeed | undefined>;

  private constructor(
    private readonly pool: pg.Pool,
    batchesInFlight: number,
  ) {
    const options = { maxBatch: MAX_BATCH, maxInFlight: batchesInFlight };
    this.scans = new MicroBatcher((batch) => this.scanBatch(batch), options);
    this.seeds = new MicroBatcher((handles) => this.seedBatch(handles), options);
  }

  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client's network error must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    const pooled = options.maxConnections ?? 10;
    const store = new PostgresStore(
      pool,
      options.batchesInFlight ?? Math.max(1, Math.floor(pooled / 4)),
    );
    try {
      await store.run(async (client, exec) => {
        await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
        await applyMigrations(exec, postgresDialect, (options.now ?? Date.now)());
      });
      return store;
    } catch (e) {
      await pool.end();
      throw e;
    }
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.run((_client, exec) => fn(new SqlTx(exec, postgresDialect)));
  }

  /** Each statement in its own implicit transaction: a one-statement lookup is one round trip. */
  async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await fn(new SqlTx(executorFor(client), postgresDialect));
    } finally {
      client.release();
    }
  }

  /**
   * One statement outside any BEGIN/COMMIT: PostgreSQL runs it in its own
   * implicit transaction, committed (with `synchronous_commit=on`, durable)
   * when the answer arrives. Concurrent Scans share that statement: they
   * wait for a batch slot and leave together (`scanBatch`).
   */
  scanOnce(s: OneCallScan): Promise<ScanOnceResult | undefined> {
    return this.scans.submit(s);
  }

  /** One wallet's id and sealed seed; concurrent lookups share one statement. */
  walletSeed(handle: number): Promise<WalletSeed | undefined> {
    return this.seeds.submit(handle);
  }

  private async seedBatch(
    handles: readonly number[],
  ): Promise<PromiseSettledResult<WalletSeed | undefined>[]> {
    const { rows } = await this.pool.query({ ...SEEDS_STATEMENT, values: [[...new Set(handles)]] });
    const found = new Map<number, WalletSeed>();
    for (const r of rows as Row[]) {
      found.set(Number(r.handle), {
        id: String(r.id),
        seedEnvelope: new Uint8Array(r.seed_envelope as Uint8Array),
      });
    }
    return handles.map((h) => ({ status: "fulfilled", value: found.get(h) }));
  }

  /**
   * A batch of Scans as one `paycode_scan_batch_v1` call. They run in the
   * order of their wallets, so that two batches lock shared payers in the
   * same order instead of deadlocking. If the call fails as a whole (a
   * deadlock after all, or one Scan's error), nothing of it was committed
   * and each Scan runs alone, so an error reaches only its own Scan.
   */
  private async scanBatch(
    batch: readonly OneCallScan[],
  ): Promise<PromiseSettledResult<ScanOnceResult | undefined>[]> {
    if (batch.length > 1) {
      const order = batch.map((_, i) => i).sort((a, b) => lockOrder(batch[a]!, batch[b]!));
      // One array per parameter of paycode_scan_v2, one element per Scan.
      const rows = order.map((i) => scanParameters(batch[i]!));
      const columns = rows[0]!.map((_, c) => rows.map((r) => r[c]!));
      try {
        const { rows } = await this.pool.query({ ...SCAN_BATCH_STATEMENT, values: columns });
        const results: PromiseSettledResult<ScanOnceResult | undefined>[] = batch.map(() => ({
          status: "fulfilled",
          value: undefined,
        }));
        for (const r of rows as Row[]) {
          const i = order[Number(r.o_index) - 1]!;
          results[i] = {
            status: "fulfilled",
            value: Number(r.o_conflict) !== 0 ? undefined : scanResult(batch[i]!, r),
          };
        }
        return results;
      } catch {
        // Fall through: each Scan on its own.
      }
    }
    return Promise.allSettled(batch.map((s) => this.scanAlone(s)));
  }

  private async scanAlone(s: OneCallScan): Promise<ScanOnceResult | undefined> {
    const values = scanParameters(s);
    for (let attempt = 1; ; attempt++) {
      let rows: Row[];
      try {
        rows = (await this.pool.query({ ...SCAN_STATEMENT, values })).rows as Row[];
      } catch (e) {
        const code = (e as { code?: unknown } | null)?.code;
        if (code === SCAN_CONFLICT) return undefined;
        if (!isRetryable(e) || attempt >= MAX_TRANSACTION_ATTEMPTS) throw e;
        await sleep(Math.random() * 5 * attempt);
        continue;
      }
      const r = rows[0];
      return r ? scanResult(s, r) : undefined;
    }
  }

  schemaVersion(): Promise<number> {
    return this.run((_client, exec) => currentSchemaVersion(exec));
  }

  private async run<T>(body: (client: pg.PoolClient, exec: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      const exec = executorFor(client);
      for (let attempt = 1; ; attempt++) {
        await client.query("BEGIN");
        try {
          const result = await body(client, exec);
          await client.query("COMMIT");
          return result;
        } catch (e) {
          try {
            await client.query("ROLLBACK");
          } catch {
            broken = true;
          }
          if (broken || !isRetryable(e) || attempt >= MAX_TRANSACTION_ATTEMPTS) throw e;
          // Jittered backoff so the transactions that collided do not collide again.
          await sleep(Math.random() * 5 * attempt);
        }
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The parameters of `paycode_scan_v2`, in order. */
function scanParameters(s: OneCallScan): SqlValue[] {
  const p = s.payment;
  const t = s.throttle;
  return [
    p.id,
    p.merchantId,
    p.outTradeNo,
    p.amount,
    p.currency,
    p.codeKind,
    p.codeDigest
      ? Buffer.from(p.codeDigest.buffer, p.codeDigest.byteOffset, p.codeDigest.byteLength)
      : null,
    p.subject,
    p.createdAt,
    s.declined,
    s.walletId,
    s.usageKey,
    s.offlineRefusal,
    s.merchantAccountId,
    s.transferId,
    s.day,
    s.defaultLimits.perPaymentPasswordFree,
    s.defaultLimits.dailyPasswordFreeAmount,
    s.defaultLimits.dailyPasswordFreeCount,
    s.confirmDeadline,
    t?.windowStart ?? null,
    t?.merchantLimit ?? null,
    t?.macFailureWalletId ?? null,
    t?.stepUpAt ?? null,
    t?.stepUpUntil ?? null,
    t?.blockAt ?? null,
    t?.revokeReason ?? null,
  ];
}

/** The result of one Scan from its row of `paycode_scan_v2` / `paycode_scan_batch_v1`. */
function scanResult(s: OneCallScan, r: Row): ScanOnceResult {
  if (Number(r.o_throttled) !== 0) return { throttled: true };
  const today = optNumber(r.o_mac_today);
  return {
    payment: {
      ...s.payment,
      status: r.o_status as PaymentRecord["status"],
      declineReason: (r.o_decline_reason ?? null) as PaymentRecord["declineReason"],
      walletId: (r.o_wallet_id ?? null) as string | null,
      payerAccountId: (r.o_payer_account_id ?? null) as string | null,
      passwordFree: Number(r.o_password_free) !== 0,
      confirmDeadline: optNumber(r.o_confirm_deadline),
    },
    merchantFailures: optNumber(r.o_merchant_failures),
    macFailures: today === null ? null : { today, total: optNumber(r.o_mac_total)! },
    walletBlocked: Number(r.o_blocked) !== 0,
  };
}

/**
 * The order a batch runs its Scans in: by the wallet whose rows they lock
 * (a MAC failure's wallet, else the code's), then by merchant; Scans that
 * reach no wallet first.
 */
function lockOrder(a: OneCallScan, b: OneCallScan): number {
  const key = (s: OneCallScan) => s.throttle?.macFailureWalletId ?? s.walletId ?? "";
  return compare(key(a), key(b)) || compare(a.payment.merchantId, b.payment.merchantId);
}

/** Code-unit order: the same on every machine, whatever its locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
