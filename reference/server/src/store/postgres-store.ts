import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { applyMigrations, currentSchemaVersion } from "./migrate.js";
import { numberedPlaceholders, postgresDialect } from "./sql-dialect.js";
import type { Row, SqlExecutor, SqlValue } from "./sql-executor.js";
import { SqlTx } from "./sql-tx.js";
import { MAX_TRANSACTION_ATTEMPTS, type Store, TransactionRetry, type Tx } from "./store.js";

export interface PostgresStoreOptions {
  /** Pool size per server process. */
  maxConnections?: number;
  /** Clock for `schema_migrations.applied_at`. */
  now?: () => number;
}

/** SQLSTATEs after which re-running the whole transaction is correct. */
const RETRYABLE = new Set(["40001", "40P01"]);
/** Any fixed number: the advisory lock migrators take so only one migrates at a time. */
const MIGRATION_LOCK = 0x70617963; // "payc"

function isRetryable(e: unknown): boolean {
  if (e instanceof TransactionRetry) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && RETRYABLE.has(code);
}

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

  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client's network error must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    const store = new PostgresStore(pool);
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
