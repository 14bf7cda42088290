import type { AuditEvent } from "../issuer/audit-log.js";

/** Longest string kept in an event's subject or detail; longer ones are cut (the line stays bounded). */
export const MAX_AUDIT_STRING = 256;

/**
 * The shape of one audit line, the same on every sink: the file and stream
 * sinks write it, `paycode audit` prints it (with the row `id` first).
 * `time` is `at` in ISO 8601 UTC, for people and log shippers.
 */
export interface AuditLine {
  id?: number;
  time: string;
  at: number;
  type: string;
  subject?: { kind: string; id: string };
  detail?: Record<string, string | number | boolean>;
}

const cut = (s: string): string =>
  s.length > MAX_AUDIT_STRING ? `${s.slice(0, MAX_AUDIT_STRING - 1)}…` : s;

/**
 * [AUDIT-2] An event made safe to write anywhere: strings bounded, only string,
 * finite number and boolean detail values kept (anything else a caller
 * passes by mistake, such as bytes, is dropped rather than serialised).
 */
export function normalizeAuditEvent(event: AuditEvent): AuditEvent {
  const out: {
    type: string;
    at: number;
    subject?: { kind: string; id: string };
    detail?: Record<string, string | number | boolean>;
  } = { type: cut(String(event.type)), at: Math.trunc(Number(event.at)) };
  if (event.subject !== undefined) {
    out.subject = { kind: cut(String(event.subject.kind)), id: cut(String(event.subject.id)) };
  }
  if (event.detail !== undefined) {
    const detail: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(event.detail)) {
      if (typeof v === "string") detail[cut(k)] = cut(v);
      else if (typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) {
        detail[cut(k)] = v;
      }
    }
    out.detail = detail;
  }
  return out;
}

/** The line (without newline) an event is written as. */
export function auditLine(event: AuditEvent, id?: number): AuditLine {
  const line: AuditLine = {
    ...(id !== undefined ? { id } : {}),
    time: new Date(event.at).toISOString(),
    at: event.at,
    type: event.type,
  };
  if (event.subject !== undefined) line.subject = { ...event.subject };
  if (event.detail !== undefined) line.detail = { ...event.detail };
  return line;
}

/** `auditLine` as JSON text, one line. */
export function auditJson(event: AuditEvent, id?: number): string {
  return JSON.stringify(auditLine(event, id));
}
