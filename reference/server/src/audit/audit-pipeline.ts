/**
 * The audit log behind `IssuerContext.audit` (issue 9 part 4): one
 * `AuditPipeline` normalises each event, folds floods, and hands the result
 * to the sinks the operator chose (a JSON-lines file or stream, the
 * database table, or several).
 *
 * [AUDIT-3] Flood bound. Events of an aggregated type (by default only
 * `auth.failed`, which an unauthenticated peer can cause at will) are
 * counted per identical event (type, subject and detail: for failed
 * authentication the principal kind, RPC and peer address) per window of
 * `windowMs` (one minute, aligned to the clock). The first one of a window
 * is written at once with `count: 1`; the others of that window become one
 * line with their `count` when the window ends (on the next event or
 * `tick`, or at `close`). At most `maxKeysPerWindow` distinct events are
 * kept per window; beyond that they fold into one line per type and
 * principal kind (past maxKeysPerWindow kinds, per type) with `peer: "*"`,
 * `rpc: "*"` and `overflow: true`. So
 * failed authentication writes at most 2 × maxKeysPerWindow + (kinds)
 * lines a minute whatever the attacker sends, and summing `count` gives the
 * number of failures. Every other event type is written as it comes: those
 * are state transitions (a revocation, a lock engaging), bounded by what
 * authenticated principals and the operator do, and each string in an event
 * is cut to 256 characters.
 *
 * [AUDIT-5] A sink that fails is reported through `onError` and the event is not
 * retried by the pipeline (the store sink keeps its own queue): recording
 * never throws into the decision that reported the event.
 */
import type { Clock } from "@paycode/protocol";
import type { AuditEvent, AuditLog } from "../issuer/audit-log.js";
import { normalizeAuditEvent } from "./audit-line.js";

/** Where an `AuditPipeline` writes; `write` gets events in order. */
export interface AuditSink {
  write(events: readonly AuditEvent[]): Promise<void>;
  /** Periodic upkeep (retention, retries), called from `AuditPipeline.tick`. */
  tick?(now: number): Promise<void>;
  close(): Promise<void>;
}

/** Types folded per minute by default: the ones an unauthenticated peer can cause. */
export const AGGREGATED_AUDIT_TYPES: readonly string[] = ["auth.failed"];

export interface AuditPipelineOptions {
  sinks: readonly AuditSink[];
  /** The issuer clock (window boundaries). */
  clock: Clock;
  /** Default 60 000 (one minute). */
  windowMs?: number;
  /** Distinct aggregated events kept per window before they overflow. Default 100. */
  maxKeysPerWindow?: number;
  /** Default `AGGREGATED_AUDIT_TYPES`. */
  aggregatedTypes?: readonly string[];
  /** A sink failed; the message names the sink and never the event. */
  onError?: (message: string, err: unknown) => void;
}

interface Bucket {
  readonly event: AuditEvent;
  folded: number;
  lastAt: number;
}

export class AuditPipeline implements AuditLog {
  private readonly sinks: readonly AuditSink[];
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly aggregated: ReadonlySet<string>;
  private readonly onError: (message: string, err: unknown) => void;
  private window: number | undefined;
  private readonly buckets = new Map<string, Bucket>();
  private readonly overflow = new Map<string, Bucket>();
  private closed = false;

  constructor(opts: AuditPipelineOptions) {
    this.sinks = opts.sinks;
    this.clock = opts.clock;
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxKeys = opts.maxKeysPerWindow ?? 100;
    this.aggregated = new Set(opts.aggregatedTypes ?? AGGREGATED_AUDIT_TYPES);
    this.onError = opts.onError ?? (() => {});
  }

  async record(event: AuditEvent): Promise<void> {
    if (this.closed) return;
    const e = normalizeAuditEvent(event);
    if (!this.aggregated.has(e.type)) {
      await this.emit([e]);
      return;
    }
    const out = this.roll(Math.floor(e.at / this.windowMs));
    const key = JSON.stringify([e.type, e.subject ?? null, e.detail ?? null]);
    const bucket = this.buckets.get(key);
    if (bucket !== undefined) {
      bucket.folded++;
      bucket.lastAt = Math.max(bucket.lastAt, e.at);
    } else if (this.buckets.size < this.maxKeys) {
      this.buckets.set(key, { event: e, folded: 0, lastAt: e.at });
      out.push({ ...e, detail: { ...e.detail, count: 1 } });
    } else {
      // One overflow line per type and kind; past maxKeys kinds too, one per type.
      const k = e.detail?.kind;
      const kind =
        k !== undefined &&
        (this.overflow.size < this.maxKeys || this.overflow.has(JSON.stringify([e.type, k])))
          ? k
          : undefined;
      const okey = JSON.stringify([e.type, kind ?? null]);
      const o = this.overflow.get(okey);
      if (o !== undefined) {
        o.folded++;
        o.lastAt = Math.max(o.lastAt, e.at);
      } else {
        const detail: Record<string, string | number | boolean> = {
          ...(kind !== undefined ? { kind } : {}),
          rpc: "*",
          peer: "*",
          overflow: true,
        };
        this.overflow.set(okey, {
          event: { type: e.type, at: e.at, detail },
          folded: 1,
          lastAt: e.at,
        });
      }
    }
    if (out.length > 0) await this.emit(out);
  }

  /** Writes the counts of a finished window and lets sinks do upkeep; call it every few seconds. */
  async tick(): Promise<void> {
    const now = this.clock.now();
    const out = this.roll(Math.floor(now / this.windowMs));
    if (out.length > 0) await this.emit(out);
    for (const sink of this.sinks) {
      try {
        await sink.tick?.(now);
      } catch (err) {
        this.onError("audit sink upkeep failed", err);
      }
    }
  }

  /** Writes every pending count (even of an unfinished window) and closes the sinks. */
  async close(): Promise<void> {
    if (this.closed) return;
    const out = this.roll(undefined);
    if (out.length > 0) await this.emit(out);
    this.closed = true;
    for (const sink of this.sinks) {
      try {
        await sink.close();
      } catch (err) {
        this.onError("closing an audit sink failed", err);
      }
    }
  }

  /** Ends the current window when `window` differs (any change: the test clock may go back). */
  private roll(window: number | undefined): AuditEvent[] {
    if (window !== undefined && window === this.window) return [];
    const out: AuditEvent[] = [];
    for (const b of [...this.buckets.values(), ...this.overflow.values()]) {
      if (b.folded === 0) continue;
      out.push({ ...b.event, at: b.lastAt, detail: { ...b.event.detail, count: b.folded } });
    }
    this.buckets.clear();
    this.overflow.clear();
    this.window = window;
    return out;
  }

  private async emit(events: AuditEvent[]): Promise<void> {
    for (const sink of this.sinks) {
      try {
        await sink.write(events);
      } catch (err) {
        this.onError("writing the audit log failed", err);
      }
    }
  }
}

/** Sends every event to each log in turn (e.g. an embedder's own plus a pipeline). */
export function teeAudit(...logs: AuditLog[]): AuditLog {
  return {
    async record(event) {
      for (const log of logs) await log.record(event);
    },
  };
}
