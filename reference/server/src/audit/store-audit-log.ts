import type { AuditEvent } from "../issuer/audit-log.js";
import type { NewAuditEvent } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { AuditSink } from "./audit-pipeline.js";

export interface StoreAuditLogOptions {
  /** Rows older than this are deleted (checked at most hourly, on `tick`). Default 90 days; 0 keeps all. */
  retentionMs?: number;
  /** Events waiting for the database at most; beyond, new ones are counted and dropped. Default 10 000. */
  maxQueued?: number;
  /** Events per insert transaction. Default 500. */
  batchSize?: number;
  onError?: (message: string, err: unknown) => void;
}

const HOUR = 3_600_000;

/** An event as a row of the audit_events table. */
export function auditRow(e: AuditEvent): NewAuditEvent {
  return {
    at: e.at,
    type: e.type,
    subjectKind: e.subject?.kind ?? null,
    subjectId: e.subject?.id ?? null,
    detail: e.detail !== undefined ? { ...e.detail } : null,
  };
}

/**
 * The `audit_events` table (migration 7) as a sink: `paycode audit` queries
 * it.
 *
 * [AUDIT-4] [AUDIT-5] Write-behind, never inside a decision. `write` queues the event and
 * returns; the queue is written in a transaction of its own right after
 * (the next turn of the event loop). Not in the transaction of the
 * decision the event reports, because: the `AuditLog` interface carries no
 * transaction and is called after decisions commit (a revocation) or where
 * there is none (failed authentication); an audit-table failure must not
 * roll back or refuse a payment decision; a PostgreSQL decision may be
 * retried, which would write its event twice; and waiting for the store
 * from inside a SQLite transaction would wait for itself. The cost: a
 * crash can lose the events of the last instant (the file sink, which
 * writes before `record` resolves, does not have that gap). When the
 * database is unreachable, events wait in the queue (bounded by
 * `maxQueued`; an `audit.dropped` row with the count records any overflow)
 * and are retried on the next event or `tick`.
 */
export class StoreAuditLog implements AuditSink {
  private queue: NewAuditEvent[] = [];
  private dropped = 0;
  private droppedAt = 0;
  private scheduled = false;
  private running: Promise<void> | undefined;
  private failing = false;
  private lastPrune: number | undefined;
  private readonly retentionMs: number;
  private readonly maxQueued: number;
  private readonly batchSize: number;
  private readonly onError: (message: string, err: unknown) => void;

  constructor(
    private readonly store: Store,
    opts: StoreAuditLogOptions = {},
  ) {
    this.retentionMs = opts.retentionMs ?? 90 * 24 * HOUR;
    this.maxQueued = opts.maxQueued ?? 10_000;
    this.batchSize = opts.batchSize ?? 500;
    this.onError = opts.onError ?? (() => {});
  }

  async write(events: readonly AuditEvent[]): Promise<void> {
    for (const e of events) {
      if (this.queue.length >= this.maxQueued) {
        this.dropped++;
        this.droppedAt = e.at;
        continue;
      }
      this.queue.push(auditRow(e));
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
  }

  /** Writes everything queued; resolves when it is committed (or failed and was kept for later). */
  flush(): Promise<void> {
    const run = (this.running ?? Promise.resolve()).then(() => this.drain());
    this.running = run;
    return run;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchSize);
      try {
        await this.store.transaction((tx) => tx.insertAuditEvents(batch));
      } catch (err) {
        if (!this.failing) this.onError("writing audit events to the database failed", err);
        this.failing = true;
        return;
      }
      this.failing = false;
      this.queue.splice(0, batch.length);
      if (this.dropped > 0) {
        // Room again: say how many were lost, where they would have been.
        this.queue.push({
          at: this.droppedAt,
          type: "audit.dropped",
          subjectKind: null,
          subjectId: null,
          detail: { count: this.dropped, reason: "database sink queue full" },
        });
        this.dropped = 0;
      }
    }
  }

  async tick(now: number): Promise<void> {
    await this.flush();
    // [AUDIT-7] Retention: rows older than the operator's period go, at most hourly.
    if (this.retentionMs > 0 && (this.lastPrune === undefined || now - this.lastPrune >= HOUR)) {
      this.lastPrune = now;
      await this.store.transaction((tx) => tx.pruneAuditEvents(now - this.retentionMs));
    }
  }

  /** Writes what is queued; the store itself is the caller's to close (after this). */
  async close(): Promise<void> {
    await this.flush();
  }
}
