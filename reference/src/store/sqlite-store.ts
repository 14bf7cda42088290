import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { applyMigrations, currentSchemaVersion } from "./migrate.js";
import { sqliteDialect } from "./sql-dialect.js";
import type { Row, SqlExecutor, SqlValue } from "./sql-executor.js";
import { SqlTx } from "./sql-tx.js";
import { MAX_TRANSACTION_ATTEMPTS, type Store, TransactionRetry, type Tx } from "./store.js";

const SYNC_BUSY_WAIT_MS = 10;

/** Most logical transactions one SQLite transaction (one commit, one fsync) carries. */
export const MAX_GROUP_SIZE = 64;

/** One `transaction()` call waiting for, or running in, a group. */
interface Job {
  body(): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  attempts: number;
}

type Outcome = { job: Job; ok: true; value: unknown } | { job: Job; ok: false; error: unknown };

export interface SqliteStoreOptions {
  /** Milliseconds a transaction waits for another connection's write lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Clock for `schema_migrations.applied_at`. */
  now?: () => number;
}

/**
 * The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so
 * a commit is on disk before a payment is reported. better-sqlite3 is
 * synchronous and has one connection, so transactions run one at a time;
 * `BEGIN IMMEDIATE` takes the write lock up front, which also orders writers
 * across processes sharing the file.
 *
 * Group commit: the fsync of a commit dominates a transaction, so the
 * transactions waiting when one group starts (and those arriving while it
 * runs, up to `MAX_GROUP_SIZE`) share one SQLite transaction, each member
 * after the first inside its own SAVEPOINT: one that throws is rolled back
 * to its savepoint alone, and later ones read what earlier ones wrote (one
 * connection). The group then commits once, and only after that COMMIT (the
 * fsync covering every member) does any member's promise settle; if it
 * fails, every member rejects. A group never waits for more work: with
 * nothing queued it is a plain transaction, so latency at concurrency 1 is
 * unchanged. `TransactionRetry` rolls the member back and re-runs it in the
 * next group, after this one's commit, in a fresh transaction as before.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly executor: SqlExecutor;
  private readonly queue: Job[] = [];
  /** Settles when the queue has been drained; replaced each time draining starts. */
  private drained: Promise<void> = Promise.resolve();
  private draining = false;
  private closing = false;
  private closed: Promise<void> | undefined;

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
      // Members of a commit group run in savepoints, whose undo pages go to a
      // sub-journal; in memory that costs no file writes (it is never needed
      // for crash recovery: the WAL simply lacks uncommitted frames).
      db.pragma("temp_store = MEMORY");
      // SQLite's own busy wait blocks the event loop, so it stays short; waiting
      // for another connection's write lock happens in begin(), asynchronously.
      db.pragma(`busy_timeout = ${SYNC_BUSY_WAIT_MS}`);
      db.defaultSafeIntegers(true);
      const store = new SqliteStore(db, Math.max(0, options.busyTimeoutMs ?? 5000));
      await store.enqueue(() =>
        applyMigrations(store.executor, sqliteDialect, (options.now ?? Date.now)()),
      );
      return store;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.enqueue(() => fn(new SqlTx(this.executor, sqliteDialect)));
  }

  schemaVersion(): Promise<number> {
    return this.enqueue(() => currentSchemaVersion(this.executor));
  }

  private enqueue<T>(body: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error("store is closed"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ body, resolve: resolve as (value: unknown) => void, reject, attempts: 0 });
      if (!this.draining) {
        this.draining = true;
        this.drained = this.drain();
      }
    });
  }

  /** Runs groups until the queue is empty; never rejects (`runGroup` settles every job it takes). */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.runGroup();
    } finally {
      this.draining = false;
    }
  }

  private async runGroup(): Promise<void> {
    const waiting = this.queue.length;
    try {
      await this.begin();
    } catch (e) {
      // Those queued before BEGIN started have waited the whole busy timeout.
      for (const job of this.queue.splice(0, waiting)) job.reject(e);
      return;
    }
    const outcomes: Outcome[] = [];
    const retry: Job[] = [];
    /** Set when the group ends without COMMIT: `error` is what the successful members get. */
    let abort: { error: unknown } | undefined;
    while (outcomes.length + retry.length < MAX_GROUP_SIZE && this.queue.length > 0) {
      const job = this.queue.shift()!;
      job.attempts++;
      // The first member runs without a savepoint: if it fails, rolling back the
      // whole transaction undoes exactly it. So a transaction that finds no
      // company costs what it did before grouping.
      const first = outcomes.length + retry.length === 0;
      let failure: { error: unknown } | undefined;
      let value: unknown;
      try {
        if (!first) this.db.exec("SAVEPOINT member");
        value = await job.body();
        if (!first) this.db.exec("RELEASE member");
      } catch (e) {
        failure = { error: e };
      }
      if (!failure) {
        outcomes.push({ job, ok: true, value });
        continue;
      }
      if (failure.error instanceof TransactionRetry && job.attempts < MAX_TRANSACTION_ATTEMPTS) {
        retry.push(job);
      } else {
        outcomes.push({ job, ok: false, error: failure.error });
      }
      if (first) {
        abort = { error: failure.error }; // nobody else is in the group
        break;
      }
      try {
        this.db.exec("ROLLBACK TO member");
        this.db.exec("RELEASE member");
      } catch (fatal) {
        // SQLite already rolled the whole transaction back (I/O error, disk full, ...).
        abort = { error: fatal };
        break;
      }
    }
    if (!abort) {
      try {
        this.db.exec("COMMIT");
      } catch (e) {
        abort = { error: e };
      }
    }
    if (abort && this.db.inTransaction) {
      try {
        this.db.exec("ROLLBACK");
      } catch {
        // The transaction is gone either way; what matters is that nothing is reported as done.
      }
    }
    // Re-run after this commit, ahead of later arrivals, as if each had rolled back alone.
    this.queue.unshift(...retry);
    // Only now, after the COMMIT that covers them all, does anyone learn an outcome,
    // failures included: a member's error may rest on what earlier members wrote.
    for (const o of outcomes) {
      if (!o.ok) o.job.reject(o.error);
      else if (abort) o.job.reject(abort.error);
      else o.job.resolve(o.value);
    }
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

  close(): Promise<void> {
    // Refuse new transactions, let those already queued finish, then close.
    this.closing = true;
    this.closed ??= this.drained.then(() => {
      this.db.close();
    });
    return this.closed;
  }
}
