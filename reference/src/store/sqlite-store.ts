import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { applyMigrations, currentSchemaVersion } from "./migrate.js";
import { Mutex } from "./mutex.js";
import { sqliteDialect } from "./sql-dialect.js";
import type { Row, SqlExecutor, SqlValue } from "./sql-executor.js";
import { SqlTx } from "./sql-tx.js";
import { MAX_TRANSACTION_ATTEMPTS, type Store, TransactionRetry, type Tx } from "./store.js";

const SYNC_BUSY_WAIT_MS = 10;

export interface SqliteStoreOptions {
  /** Milliseconds a transaction waits for another connection's write lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Clock for `schema_migrations.applied_at`. */
  now?: () => number;
}

/**
 * The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so
 * a commit is on disk before a payment is reported. better-sqlite3 is
 * synchronous and has one connection, so async transactions are serialised
 * by an in-process mutex; `BEGIN IMMEDIATE` takes the write lock up front,
 * which also orders writers across processes sharing the file.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  private readonly mutex = new Mutex();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly executor: SqlExecutor;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly busyTimeoutMs: number,
  ) {
    const prepare = (sql: string): Database.Statement => {
      let s = this.statements.get(sql);
      if (!s) {
        s = this.db.prepare(sql);
        this.statements.set(sql, s);
      }
      return s;
    };
    const bind = (params: readonly SqlValue[] | undefined): unknown[] =>
      (params ?? []).map((p) =>
        p instanceof Uint8Array && !Buffer.isBuffer(p)
          ? Buffer.from(p.buffer, p.byteOffset, p.byteLength)
          : p,
      );
    this.executor = {
      query: async (sql, params) => prepare(sql).all(...bind(params)) as Row[],
      run: async (sql, params) => prepare(sql).run(...bind(params)).changes,
      exec: async (sql) => {
        this.db.exec(sql);
      },
    };
  }

  static async open(file: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const db = new Database(file);
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("foreign_keys = ON");
      // SQLite's own busy wait blocks the event loop, so it stays short; waiting
      // for another connection's write lock happens in begin(), asynchronously.
      db.pragma(`busy_timeout = ${SYNC_BUSY_WAIT_MS}`);
      db.defaultSafeIntegers(true);
      const store = new SqliteStore(db, Math.max(0, options.busyTimeoutMs ?? 5000));
      await store.withTransaction(async () => {
        await applyMigrations(store.executor, sqliteDialect, (options.now ?? Date.now)());
      });
      return store;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.withTransaction(() => fn(new SqlTx(this.executor, sqliteDialect)));
  }

  schemaVersion(): Promise<number> {
    return this.withTransaction(() => currentSchemaVersion(this.executor));
  }

  private withTransaction<T>(body: () => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      for (let attempt = 1; ; attempt++) {
        if (this.closed) throw new Error("store is closed");
        await this.begin();
        try {
          const result = await body();
          this.db.exec("COMMIT");
          return result;
        } catch (e) {
          if (this.db.inTransaction) this.db.exec("ROLLBACK");
          if (e instanceof TransactionRetry && attempt < MAX_TRANSACTION_ATTEMPTS) continue;
          throw e;
        }
      }
    });
  }

  /** BEGIN IMMEDIATE, retrying SQLITE_BUSY with async backoff so other connections can finish. */
  private async begin(): Promise<void> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        this.db.exec("BEGIN IMMEDIATE");
        return;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== "SQLITE_BUSY" || Date.now() >= deadline) throw e;
      }
      await sleep(wait);
    }
  }

  async close(): Promise<void> {
    // Wait for transactions in flight, then refuse new ones.
    await this.mutex.run(async () => {
      if (!this.closed) {
        this.closed = true;
        this.db.close();
      }
    });
  }
}
