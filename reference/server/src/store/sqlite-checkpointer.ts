import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** Commits between two checkpoint requests: with SQLite's default of 1,000 WAL pages, a Scan writes ~10–20. */
export const CHECKPOINT_EVERY_COMMITS = 64;

// CommonJS, run by `new Worker(..., { eval: true })`: no separate file to find
// from both src/ (tests) and dist/.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 1000");
parentPort.on("message", (m) => {
  if (m === "close") {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const r = db.pragma("wal_checkpoint(PASSIVE)")[0];
    parentPort.postMessage({ ok: true, log: r.log, checkpointed: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String(e) });
  }
});
`;

/**
 * Checkpoints a WAL-mode SQLite file from a worker thread with its own
 * connection, so the copy of WAL pages into the database file and its two
 * fsyncs never run on the event loop. The store turns SQLite's automatic
 * checkpoint off (it would run inside a COMMIT, on the event loop: the
 * 9–16 ms Scan tail of docs/benchmarks.md) and calls `request` after its
 * commits.
 *
 * Why this keeps every acknowledged payment durable: a PASSIVE checkpoint
 * copies only committed frames; the checkpointing connection syncs the WAL
 * before it copies and the database file after (`synchronous` is FULL
 * here), and SQLite restarts the WAL over old frames only after such a
 * complete checkpoint. The store's own flush of the WAL after each COMMIT
 * is unchanged, so a frame is on disk, in the WAL or in the database file,
 * before anyone is told of it. PASSIVE never waits for the writer.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private busy = false;
  private pending = false;
  /** Resolved when the checkpoint running now ends; the next one's waiters are kept apart. */
  private running: (() => void)[] = [];
  private queued: (() => void)[] = [];
  private closed: Promise<void> | undefined;
  /** The last failure, kept for diagnosis; a failed checkpoint only lets the WAL grow. */
  lastError: string | undefined;

  constructor(file: string) {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(WORKER, { eval: true, workerData: { file, driver } });
    // Never keeps the process alive; close() ends it.
    this.worker.unref();
    this.worker.on("message", (m: { ok: boolean; error?: string }) => {
      if (!m.ok) this.lastError = m.error;
      this.busy = false;
      const done = this.running;
      this.running = [];
      if (this.pending) void this.request();
      for (const resolve of done) resolve();
    });
    this.worker.on("error", (e) => {
      this.lastError = String(e);
    });
  }

  /**
   * Starts a checkpoint, or one more after the one running; resolves when
   * the checkpoint that covers this request has ended (the store does not
   * wait for it; tests do).
   */
  request(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      if (this.busy) {
        this.pending = true;
        this.queued.push(resolve);
        return;
      }
      this.pending = false;
      this.busy = true;
      this.running = [...this.queued, resolve];
      this.queued = [];
      this.worker.postMessage("checkpoint");
    });
  }

  /** Lets a running checkpoint finish, then closes the worker's connection. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.worker.once("exit", () => resolve());
      // Unref'd, the worker would not keep the loop alive until it has closed its connection.
      this.worker.ref();
      this.worker.postMessage("close");
    });
    return this.closed;
  }
}
