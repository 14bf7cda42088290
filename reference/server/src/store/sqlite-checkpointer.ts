import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** What one PASSIVE checkpoint found: WAL frames in all, and how many of them are in the database file. */
export interface CheckpointResult {
  log: number;
  checkpointed: number;
}

// CommonJS, run by `new Worker(..., { eval: true })`: no separate file to find
// from both src/ (tests) and dist/.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma("synchronous = FULL");
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
 * Runs PASSIVE checkpoints of a WAL-mode SQLite file in a worker thread with
 * its own connection, so copying WAL pages into the database file, and the
 * two syncs around it, never block the event loop (inside a COMMIT, where
 * SQLite's automatic checkpoint runs them).
 *
 * Why acknowledged payments stay durable: a PASSIVE checkpoint copies only
 * committed frames; the checkpointing connection (`synchronous=FULL`) syncs
 * the WAL before it copies and the database file after, and SQLite starts
 * the WAL over only after a complete checkpoint. The store's own flush of
 * the WAL after each COMMIT is unchanged.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  /** Callers waiting for the pass running now, and for the one after it. */
  private running: ((r: CheckpointResult | undefined) => void)[] | undefined;
  private next: ((r: CheckpointResult | undefined) => void)[] = [];
  private dead = false;
  private closed: Promise<void> | undefined;
  /** The last failure, kept for diagnosis; a failed checkpoint only lets the WAL grow. */
  lastError: string | undefined;

  constructor(file: string) {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(WORKER, { eval: true, workerData: { file, driver } });
    // Never keeps the process alive; close() ends it.
    this.worker.unref();
    this.worker.on("message", (m: { ok: boolean; error?: string } & CheckpointResult) => {
      if (!m.ok) this.lastError = m.error;
      this.finish(m.ok ? { log: m.log, checkpointed: m.checkpointed } : undefined);
    });
    this.worker.on("error", (e) => {
      this.lastError = String(e);
      this.dead = true;
      this.finish(undefined);
      for (const resolve of this.next.splice(0)) resolve(undefined);
    });
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /**
   * A checkpoint that starts after this call; resolves with what it found,
   * or undefined when it failed (or the worker is gone).
   */
  run(): Promise<CheckpointResult | undefined> {
    if (this.dead || this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.next.push(resolve);
      if (!this.running) this.start();
    });
  }

  private start(): void {
    this.running = this.next;
    this.next = [];
    this.worker.postMessage("checkpoint");
  }

  private finish(r: CheckpointResult | undefined): void {
    const done = this.running ?? [];
    this.running = undefined;
    if (this.next.length > 0 && !this.dead && !this.closed) this.start();
    else if (this.closed) done.push(...this.next.splice(0));
    for (const resolve of done) resolve(r);
  }

  /** Lets a running checkpoint finish, then closes the worker's connection. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.dead) return resolve();
      this.worker.once("exit", () => resolve());
      // Unref'd, the worker would not keep the loop alive until it has closed its connection.
      this.worker.ref();
      this.worker.postMessage("close");
    });
    return this.closed;
  }
}
