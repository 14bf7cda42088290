import Database from "better-sqlite3";

/** One offline payment the terminal accepted, as journaled. */
export interface JournalRecord {
  seq: number;
  recordId: string;
  /** The QR text exactly as scanned. */
  code: string;
  walletId: string;
  counter: bigint;
  currency: string;
  amountMinor: bigint;
  acceptedAtMs: number;
  keysSyncedAtMs: number;
  /** Set once the record is assigned to a batch (before the batch is sent). */
  batchId?: string;
  /** RecordOutcome from settlement, once the batch got an answer. */
  outcome?: number;
  paymentId?: string;
}

/** A batch as persisted: the exact request bytes are kept so a resend is identical. */
export interface JournalBatch {
  batchId: string;
  createdAtMs: number;
  request: Uint8Array;
  completedAtMs?: number;
}

type Row = Record<string, unknown>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
  batch_id TEXT PRIMARY KEY,
  created_at_ms INTEGER NOT NULL,
  request BLOB NOT NULL,
  completed_at_ms INTEGER
);
CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  record_id TEXT NOT NULL UNIQUE,
  code TEXT NOT NULL,
  wallet_id TEXT NOT NULL,
  counter TEXT NOT NULL,
  currency TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  accepted_at_ms INTEGER NOT NULL,
  keys_synced_at_ms INTEGER NOT NULL,
  batch_id TEXT REFERENCES batches (batch_id),
  outcome INTEGER,
  payment_id TEXT,
  UNIQUE (wallet_id, counter)
);
CREATE INDEX IF NOT EXISTS records_unbatched ON records (seq) WHERE batch_id IS NULL;
CREATE INDEX IF NOT EXISTS records_batch ON records (batch_id);
`;

/**
 * The terminal's durable journal: a SQLite file in WAL mode with
 * synchronous=FULL, so a record is on disk when `insertRecord` returns and
 * survives a power cut. Integers come back as bigint (amounts are int64).
 */
export class TerminalJournal {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.db.defaultSafeIntegers(true);
    this.db.exec(SCHEMA);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The durability settings in force on this connection (synchronous: 2 = FULL). */
  settings(): { journalMode: string; synchronous: number } {
    return {
      journalMode: String(this.db.pragma("journal_mode", { simple: true })),
      synchronous: Number(this.db.pragma("synchronous", { simple: true })),
    };
  }

  getMeta(key: string): Uint8Array | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as Row | undefined;
    if (!row) return undefined;
    const v = row["value"];
    return typeof v === "string" ? Buffer.from(v, "utf8") : new Uint8Array(v as Buffer);
  }

  setMeta(key: string, value: Uint8Array | string): void {
    const blob = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
    this.db
      .prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(key, blob);
  }

  /** Runs `fn` in an IMMEDIATE transaction: the write lock is taken before the checks it makes. */
  immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  seen(walletId: string, counter: bigint): boolean {
    return (
      this.db
        .prepare("SELECT 1 FROM records WHERE wallet_id = ? AND counter = ?")
        .get(walletId, counter.toString()) !== undefined
    );
  }

  /** Sum of everything this terminal accepted from a wallet, uploaded or not. */
  walletTotal(walletId: string, currency: string): bigint {
    const row = this.db
      .prepare(
        "SELECT COALESCE(SUM(amount_minor), 0) AS total FROM records WHERE wallet_id = ? AND currency = ?",
      )
      .get(walletId, currency) as Row;
    return row["total"] as bigint;
  }

  insertRecord(r: Omit<JournalRecord, "seq" | "batchId" | "outcome" | "paymentId">): JournalRecord {
    const info = this.db
      .prepare(
        `INSERT INTO records (record_id, code, wallet_id, counter, currency, amount_minor, accepted_at_ms, keys_synced_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.recordId,
        r.code,
        r.walletId,
        r.counter.toString(),
        r.currency,
        r.amountMinor,
        r.acceptedAtMs,
        r.keysSyncedAtMs,
      );
    return { ...r, seq: Number(info.lastInsertRowid) };
  }

  records(): JournalRecord[] {
    return (this.db.prepare("SELECT * FROM records ORDER BY seq").all() as Row[]).map(toRecord);
  }

  unbatched(limit: number): JournalRecord[] {
    return (
      this.db
        .prepare("SELECT * FROM records WHERE batch_id IS NULL ORDER BY seq LIMIT ?")
        .all(limit) as Row[]
    ).map(toRecord);
  }

  countUnbatched(): number {
    const row = this.db
      .prepare("SELECT COUNT(*) AS n FROM records WHERE batch_id IS NULL")
      .get() as Row;
    return Number(row["n"]);
  }

  /** Persists a batch and assigns its records to it, atomically. */
  createBatch(batch: JournalBatch, recordIds: string[]): void {
    this.immediate(() => {
      this.db
        .prepare("INSERT INTO batches (batch_id, created_at_ms, request) VALUES (?, ?, ?)")
        .run(batch.batchId, batch.createdAtMs, Buffer.from(batch.request));
      const assign = this.db.prepare(
        "UPDATE records SET batch_id = ? WHERE record_id = ? AND batch_id IS NULL",
      );
      for (const id of recordIds) {
        if (assign.run(batch.batchId, id).changes !== 1) {
          throw new Error(`journal record ${id} is already in a batch`);
        }
      }
    });
  }

  /** The oldest batch sent (or about to be) without a recorded answer. */
  openBatch(): JournalBatch | undefined {
    const row = this.db
      .prepare(
        "SELECT * FROM batches WHERE completed_at_ms IS NULL ORDER BY created_at_ms, rowid LIMIT 1",
      )
      .get() as Row | undefined;
    return row ? toBatch(row) : undefined;
  }

  batches(): JournalBatch[] {
    return (
      this.db.prepare("SELECT * FROM batches ORDER BY created_at_ms, rowid").all() as Row[]
    ).map(toBatch);
  }

  countOpenBatches(): number {
    const row = this.db
      .prepare("SELECT COUNT(*) AS n FROM batches WHERE completed_at_ms IS NULL")
      .get() as Row;
    return Number(row["n"]);
  }

  /** Records settlement's answers and closes the batch, atomically. */
  completeBatch(
    batchId: string,
    completedAtMs: number,
    results: { recordId: string; outcome: number; paymentId: string }[],
  ): void {
    this.immediate(() => {
      const set = this.db.prepare(
        "UPDATE records SET outcome = ?, payment_id = ? WHERE record_id = ? AND batch_id = ?",
      );
      for (const r of results) {
        if (set.run(r.outcome, r.paymentId || null, r.recordId, batchId).changes !== 1) {
          throw new Error(`journal record ${r.recordId} is not in batch ${batchId}`);
        }
      }
      this.db
        .prepare("UPDATE batches SET completed_at_ms = ? WHERE batch_id = ?")
        .run(completedAtMs, batchId);
    });
  }
}

function toRecord(row: Row): JournalRecord {
  const r: JournalRecord = {
    seq: Number(row["seq"]),
    recordId: row["record_id"] as string,
    code: row["code"] as string,
    walletId: row["wallet_id"] as string,
    counter: BigInt(row["counter"] as string),
    currency: row["currency"] as string,
    amountMinor: row["amount_minor"] as bigint,
    acceptedAtMs: Number(row["accepted_at_ms"]),
    keysSyncedAtMs: Number(row["keys_synced_at_ms"]),
  };
  if (row["batch_id"] !== null) r.batchId = row["batch_id"] as string;
  if (row["outcome"] !== null) r.outcome = Number(row["outcome"]);
  if (row["payment_id"] !== null) r.paymentId = row["payment_id"] as string;
  return r;
}

function toBatch(row: Row): JournalBatch {
  const b: JournalBatch = {
    batchId: row["batch_id"] as string,
    createdAtMs: Number(row["created_at_ms"]),
    request: new Uint8Array(row["request"] as Buffer),
  };
  if (row["completed_at_ms"] !== null) b.completedAtMs = Number(row["completed_at_ms"]);
  return b;
}
