import { closeSync, fdatasync, fsyncSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { applyMigrations, currentSchemaVersion } from "./migrate.js";
import { sqliteDialect } from "./sql-dialect.js";
import type { Row, SqlExecutor, SqlValue } from "./sql-executor.js";
import { SqlTx } from "./sql-tx.js";
import { SqliteCheckpointer } from "./sqlite-checkpointer.js";
import { ScanReplay, SqliteScan } from "./sqlite-scan.js";
import {
  MAX_TRANSACTION_ATTEMPTS,
  type OneCallScan,
  type ScanOnceResult,
  type Store,
  TransactionRetry,
  type Tx,
} from "./store.js";

const SYNC_BUSY_WAIT_MS = 10;

/**
 * How long a group stays open for more members while a WAL flush is running.
 * Its members wait for the next flush anyway, so joining them costs no one
 * latency, and one COMMIT writes each page they share once.
 */
export const GROUP_WINDOW_MS = 2;

/** Commits between two checkpoint passes in the worker (a Scan writes 8–20 WAL frames). */
export const CHECKPOINT_EVERY_COMMITS = 32;
/** WAL frames (4 KiB each) after which the store lets the checkpointer catch up, so the WAL starts over. */
export const RESTART_WAL_AT_FRAMES = 16_000;

/** Most logical transactions one SQLite transaction (one commit, one fsync) carries. */
export const MAX_GROUP_SIZE = 64;

/** One `transaction()` call waiting for, or running in, a group. */
interface Job {
  body(): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  attempts: number;
  /** A `read`: its COMMIT writes nothing, so it needs no WAL flush of its own. */
  readOnly: boolean;
}

type Outcome = { job: Job; ok: true; value: unknown } | { job: Job; ok: false; error: unknown };

/** A finished group whose members learn their outcomes once the data they saw is on disk. */
interface Finished {
  outcomes: Outcome[];
  /** Set when the group ended without COMMIT: what its successful members get instead. */
  abort: { error: unknown } | undefined;
}

/** The prepared transaction-control statements of one connection. */
interface Control {
  begin: Database.Statement;
  commit: Database.Statement;
  rollback: Database.Statement;
  savepoint: Database.Statement;
  release: Database.Statement;
  rollbackTo: Database.Statement;
}

/** `fs.fdatasync` as a promise: runs on libuv's thread pool, off the event loop. */
const fdatasyncOffLoop = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));

export interface SqliteStoreOptions {
  /** Milliseconds a transaction waits for another connection's write lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Clock for `schema_migrations.applied_at`. */
  now?: () => number;
  /**
   * Flushes the WAL file to disk (tests inject failures and delays here);
   * default `fs.fdatasync` on libuv's thread pool.
   */
  syncWal?: (fd: number) => Promise<void>;
  /** Commits between two checkpoint passes (tests make it small); default `CHECKPOINT_EVERY_COMMITS`. */
  checkpointEveryCommits?: number;
  /** WAL length that triggers the catch-up and restart of the WAL; default `RESTART_WAL_AT_FRAMES`. */
  restartWalAtFrames?: number;
}

/**
 * Creates a new database file readable by its owner only; SQLite gives its
 * -wal and -shm files the database file's mode. An existing file keeps its
 * mode (the operator's choice).
 */
function createPrivately(file: string): void {
  if (file === ":memory:" || file === "" || file.startsWith("file:")) return;
  try {
    closeSync(openSync(file, "wx", 0o600));
  } catch {
    // Already there (its mode is the operator's), or not creatable: SQLite
    // reports that in its own words when it opens the file.
  }
}

/**
 * The embedded store: one SQLite file in WAL mode whose commits are on disk
 * before a payment is reported (the WAL is fdatasync'ed before anyone hears
 * an outcome; see below). better-sqlite3 is
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
 * fails, every member rejects. A group waits for more work only while a WAL
 * flush is running (at most `GROUP_WINDOW_MS`): its members could not be
 * answered before the next flush anyway, and one COMMIT writes the pages
 * they share once. With no flush running it commits at once, so latency at
 * concurrency 1 is unchanged. `TransactionRetry` rolls the member back and
 * re-runs it in the next group, after this one's commit, in a fresh
 * transaction as before.
 *
 * The fsync, off the event loop: a file store runs with `synchronous=NORMAL`,
 * so COMMIT writes the group's WAL frames without waiting for the disk, and
 * the store then flushes the WAL itself with `fdatasync` on libuv's thread
 * pool. Members learn their outcomes only when that flush, started after
 * their COMMIT, has finished: nobody is answered before the data is on disk,
 * as with `synchronous=FULL`, but the event loop keeps parsing requests and
 * running the next group meanwhile. A group that read data not yet on disk
 * waits for it too: outcomes are released in commit order, and WAL recovery
 * keeps a prefix of the commits, so a later group never survives a crash
 * without the earlier ones. A group of lookups only (`read`) writes no WAL
 * frame and needs no flush of its own: it is answered once the flushes of
 * the groups before it are done. If a flush fails, its members reject and
 * the store refuses all further work: what reached the disk is unknown.
 *
 * Checkpoints, off the event loop: SQLite's automatic checkpoint runs inside
 * a COMMIT, copying ~1,000 pages and syncing the WAL and the database file
 * while the event loop waits (the 10–40 ms COMMITs behind the Scan tail of
 * docs/benchmarks.md). Here a worker thread with its own connection runs
 * PASSIVE checkpoints every `CHECKPOINT_EVERY_COMMITS` commits
 * (`SqliteCheckpointer`, synced there by SQLite: WAL before, database file
 * after). SQLite starts the WAL over only when a checkpoint has copied every
 * frame, which under steady load never happens by itself; so once the WAL
 * is `RESTART_WAL_AT_FRAMES` long, the next group waits for one short pass
 * (`finishCheckpoint`), and its BEGIN starts the WAL over. A WAL that keeps
 * growing would make every flush extend the file (an fdatasync that must
 * also write metadata): that is what an earlier worker without the restart
 * cost.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  private readonly executor: SqlExecutor;
  private readonly control: Control;
  private scanner: SqliteScan | undefined;
  private seedByHandle: Database.Statement | undefined;
  private readonly queue: Job[] = [];
  /** Groups done but not yet answered, in commit order (file stores only). */
  private readonly unsynced: Finished[] = [];
  /** A COMMIT happened since the last WAL flush started. */
  private dirty = false;
  /** The flush loop, while it runs. */
  private syncing: Promise<void> | undefined;
  /** Set when a WAL flush failed: the store refuses all further work. */
  private failed: { error: unknown } | undefined;
  private walFd: number | undefined;
  /** Settles when the queue has been drained; replaced each time draining starts. */
  private drained: Promise<void> = Promise.resolve();
  private draining = false;
  private closing = false;
  private closed: Promise<void> | undefined;
  /** Set while an open group waits: called when a job arrives or a flush ends. */
  private wake: (() => void) | undefined;
  private readonly totalChanges: Database.Statement;
  /** Checkpoints the WAL off the event loop (file stores only). */
  private checkpointer: SqliteCheckpointer | undefined;
  private commitsSinceCheckpoint = 0;
  /** The WAL is long and the checkpointer nearly caught up: the next group waits for one more pass. */
  private restartDue = false;
  private catchingUp = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly busyTimeoutMs: number,
    /** The WAL file to flush after each COMMIT; undefined when SQLite syncs (or nothing is durable). */
    private readonly walFile: string | undefined,
    private readonly syncWal: (fd: number) => Promise<void>,
    private readonly checkpointEveryCommits: number,
    private readonly restartWalAtFrames: number,
  ) {
    this.control = {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      savepoint: db.prepare("SAVEPOINT member"),
      release: db.prepare("RELEASE member"),
      rollbackTo: db.prepare("ROLLBACK TO member"),
    };
    this.executor = sqliteExecutor(db);
    this.totalChanges = db.prepare("SELECT total_changes()").pluck();
  }

  static async open(file: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    createPrivately(file);
    const db = new Database(file);
    try {
      const wal = db.pragma("journal_mode = WAL", { simple: true }) === "wal";
      // A file in WAL mode: COMMIT writes without waiting for the disk and the
      // store flushes the WAL off the event loop before answering anyone (see
      // the class comment). Anything else keeps SQLite's own syncing.
      const walFile = wal && !db.memory ? `${resolve(db.name)}-wal` : undefined;
      db.pragma(walFile !== undefined ? "synchronous = NORMAL" : "synchronous = FULL");
      // Checkpoints run in a worker (`checkpoint`); SQLite's own, inside a
      // COMMIT on the event loop, stays only as a backstop should it fail.
      if (walFile !== undefined) {
        const backstop = 2 * (options.restartWalAtFrames ?? RESTART_WAL_AT_FRAMES);
        db.pragma(`wal_autocheckpoint = ${backstop}`);
      }
      // 32 MiB of page cache instead of 2 MiB: the B-tree pages a Scan touches
      // (payments, transfers and their indexes) stay in memory instead of
      // being read back from the WAL or the file one pread at a time.
      db.pragma("cache_size = -32768");
      db.pragma("foreign_keys = ON");
      // Members of a commit group run in savepoints, whose undo pages go to a
      // sub-journal; in memory that costs no file writes (it is never needed
      // for crash recovery: the WAL simply lacks uncommitted frames).
      db.pragma("temp_store = MEMORY");
      // SQLite's own busy wait blocks the event loop, so it stays short; waiting
      // for another connection's write lock happens in begin(), asynchronously.
      db.pragma(`busy_timeout = ${SYNC_BUSY_WAIT_MS}`);
      db.defaultSafeIntegers(true);
      const store = new SqliteStore(
        db,
        Math.max(0, options.busyTimeoutMs ?? 5000),
        walFile,
        options.syncWal ?? fdatasyncOffLoop,
        options.checkpointEveryCommits ?? CHECKPOINT_EVERY_COMMITS,
        options.restartWalAtFrames ?? RESTART_WAL_AT_FRAMES,
      );
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

  /**
   * A queued transaction like any other, but one that needs no WAL flush of
   * its own. A second, read-only connection (tried) made every lookup start
   * with a cold page cache, as SQLite drops a connection's cache whenever
   * another one committed, which cost more than the wait in the queue.
   */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.enqueue(() => fn(new SqlTx(this.executor, sqliteDialect)), true);
  }

  /**
   * A Scan's seed-cache miss: one prepared SELECT on the store's connection
   * at once, outside the commit queue, where it waited for the group being
   * run (with 10^6 wallets nearly every Scan misses, and each then made two
   * trips through the queue). Safe without a flush because nobody outside
   * learns what it read: the Scan built on it is answered only after its own
   * flush, which covers every frame committed before it; and if it runs
   * inside an open group and sees a wallet that is then rolled back, the
   * Scan's own store call finds no wallet (CODE_INVALID).
   */
  walletSeed(handle: number): Promise<{ id: string; seedEnvelope: Uint8Array } | undefined> {
    if (this.closing) return Promise.reject(new Error("store is closed"));
    if (this.failed) return Promise.reject(this.failed.error);
    try {
      // Prepared on first use: the table exists only after the migrations ran.
      this.seedByHandle ??= this.db
        .prepare("SELECT id, seed_envelope FROM wallets WHERE handle = ?")
        .raw();
      const r = this.seedByHandle.get(handle) as [string, Uint8Array] | undefined;
      return Promise.resolve(r && { id: r[0], seedEnvelope: new Uint8Array(r[1]) });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A member of the next commit group like any transaction, minus the `SqlTx` layers. */
  async scanOnce(s: OneCallScan): Promise<ScanOnceResult | undefined> {
    try {
      return await this.enqueue(async () => {
        // Prepared on first use: the tables exist only after the migrations ran.
        this.scanner ??= new SqliteScan(this.db);
        return this.scanner.run(s);
      });
    } catch (e) {
      if (e instanceof ScanReplay) return undefined;
      throw e;
    }
  }

  schemaVersion(): Promise<number> {
    return this.enqueue(() => currentSchemaVersion(this.executor));
  }

  private enqueue<T>(body: () => Promise<T>, readOnly = false): Promise<T> {
    if (this.closing) return Promise.reject(new Error("store is closed"));
    if (this.failed) return Promise.reject(this.failed.error);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        body,
        resolve: resolve as (value: unknown) => void,
        reject,
        attempts: 0,
        readOnly,
      });
      this.wake?.();
      if (!this.draining) {
        this.draining = true;
        this.drained = this.drain();
      }
    });
  }

  /** Runs groups until the queue is empty; never rejects (`runGroup` settles every job it takes). */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        if (this.restartDue) await this.finishCheckpoint();
        await this.runGroup();
      }
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
    /** Whether COMMIT writes WAL frames: lookups (`read`) alone write none, checked by the row count. */
    let wrote = false;
    let changesBefore: unknown;
    const deadline = performance.now() + GROUP_WINDOW_MS;
    for (;;) {
      while (outcomes.length + retry.length < MAX_GROUP_SIZE && this.queue.length > 0) {
        const job = this.queue.shift()!;
        job.attempts++;
        // The first member runs without a savepoint: if it fails, rolling back the
        // whole transaction undoes exactly it. So a transaction that finds no
        // company costs what it did before grouping.
        const first = outcomes.length + retry.length === 0;
        if (!job.readOnly) wrote = true;
        else if (first) changesBefore = this.totalChanges.get();
        let failure: { error: unknown } | undefined;
        let value: unknown;
        try {
          if (!first) this.control.savepoint.run();
          value = await job.body();
          if (!first) this.control.release.run();
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
          this.control.rollbackTo.run();
          this.control.release.run();
        } catch (fatal) {
          // SQLite already rolled the whole transaction back (I/O error, disk full, ...).
          abort = { error: fatal };
          break;
        }
      }
      if (abort || outcomes.length + retry.length >= MAX_GROUP_SIZE || this.syncing === undefined) {
        break;
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      await this.arrivalOrFlushEnd(left);
    }
    if (!wrote && !abort && this.totalChanges.get() !== changesBefore) wrote = true;
    if (!abort) {
      try {
        this.control.commit.run();
        if (wrote) {
          this.dirty = true;
          this.afterCommit();
        }
      } catch (e) {
        abort = { error: e };
      }
    }
    if (abort && this.db.inTransaction) {
      try {
        this.control.rollback.run();
      } catch {
        // The transaction is gone either way; what matters is that nothing is reported as done.
      }
    }
    // Re-run after this commit, ahead of later arrivals, as if each had rolled back alone.
    this.queue.unshift(...retry);
    // Only after the COMMIT that covers them all, and the flush that puts it on
    // disk, does anyone learn an outcome, failures included: a member's error
    // may rest on what earlier members (or earlier groups) wrote.
    if (this.walFile === undefined) {
      settle({ outcomes, abort });
      return;
    }
    this.unsynced.push({ outcomes, abort });
    this.syncing ??= this.flushLoop().finally(() => {
      this.syncing = undefined;
      this.wake?.();
    });
  }

  /** Resolves when a job is queued, the running flush ends, or after `ms`. */
  private arrivalOrFlushEnd(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Starts a checkpoint pass every `checkpointEveryCommits` commits of a file store. */
  private afterCommit(): void {
    if (this.walFile === undefined || this.checkpointer?.busy) return;
    if (++this.commitsSinceCheckpoint < this.checkpointEveryCommits) return;
    this.commitsSinceCheckpoint = 0;
    // Started on first use: a short-lived store (an operator command) never needs one.
    this.checkpointer ??= new SqliteCheckpointer(resolve(this.db.name));
    void this.checkpoint();
  }

  /**
   * One pass in the worker. Under steady load a pass never ends with every
   * frame copied (commits keep arriving), and SQLite starts the WAL over
   * only then; so once the WAL is long, one more pass runs at once, copying
   * what arrived during the last one, and then the next group waits for a
   * final short pass with no commit in between (`finishCheckpoint`).
   */
  private async checkpoint(): Promise<void> {
    const r = await this.checkpointer!.run();
    if (!r || r.log < this.restartWalAtFrames) {
      this.catchingUp = false;
      return;
    }
    if (this.catchingUp) {
      this.catchingUp = false;
      this.restartDue = true;
      return;
    }
    this.catchingUp = true;
    return this.checkpoint();
  }

  /** Between groups: the last frames into the database file, so the next BEGIN starts the WAL over. */
  private async finishCheckpoint(): Promise<void> {
    this.restartDue = false;
    await this.checkpointer?.run();
  }

  /**
   * Flushes the WAL and answers the groups committed before each flush began,
   * until none is waiting; one flush covers every group committed meanwhile.
   */
  private async flushLoop(): Promise<void> {
    while (this.unsynced.length > 0) {
      const batch = this.unsynced.splice(0);
      if (this.dirty && !this.failed) {
        this.dirty = false;
        try {
          await this.syncWal(this.openWal());
        } catch (e) {
          this.failed = { error: e };
        }
      }
      for (const f of batch) settle(this.failed ? { outcomes: f.outcomes, abort: this.failed } : f);
    }
  }

  /** The WAL file, opened once (after a COMMIT it exists); its directory entry is synced once too. */
  private openWal(): number {
    if (this.walFd === undefined) {
      const fd = openSync(this.walFile!, "r+");
      try {
        syncDirectory(dirname(this.walFile!));
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      this.walFd = fd;
    }
    return this.walFd;
  }

  /** BEGIN IMMEDIATE, retrying SQLITE_BUSY with async backoff so other connections can finish. */
  private async begin(): Promise<void> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        this.control.begin.run();
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
    this.closed ??= this.drained
      .then(async () => {
        while (this.syncing) await this.syncing;
      })
      .then(() => this.checkpointer?.close())
      .then(() => {
        if (this.walFd !== undefined) closeSync(this.walFd);
        this.db.close();
      });
    return this.closed;
  }
}

/** Answers every member of a finished group. */
function settle({ outcomes, abort }: Finished): void {
  for (const o of outcomes) {
    if (!o.ok) o.job.reject(o.error);
    else if (abort) o.job.reject(abort.error);
    else o.job.resolve(o.value);
  }
}

/** Makes a new file's directory entry durable (POSIX; Windows cannot open a directory and needs none). */
function syncDirectory(dir: string): void {
  if (process.platform === "win32") return;
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Prepares each SQL text once per connection; binds `Uint8Array`s as the Buffers the driver wants. */
function sqliteExecutor(db: Database.Database): SqlExecutor {
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const bind = (params: readonly SqlValue[] | undefined): readonly unknown[] => {
    if (params === undefined) return [];
    let out: unknown[] | undefined;
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (p instanceof Uint8Array && !Buffer.isBuffer(p)) {
        out ??= params.slice();
        out[i] = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
      }
    }
    return out ?? params;
  };
  return {
    query: async (sql, params) => prepare(sql).all(...bind(params)) as Row[],
    run: async (sql, params) => prepare(sql).run(...bind(params)).changes,
    exec: async (sql) => {
      db.exec(sql);
    },
  };
}
