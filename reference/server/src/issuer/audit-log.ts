/**
 * Security events (issue 9, part 4): failed authentication, throttles,
 * lockouts, revocations, key and credential changes. An event names who and
 * what by id only — never a secret, a complete payment code or a password
 * ([SEC-10], [AUDIT-2]) — so an event can go to any sink the operator
 * chooses. Record a change of state after it commits, once ([AUDIT-4]);
 * `reference/server/src/audit/` holds the sinks and the flood bound.
 */
export interface AuditEvent {
  /** Dotted kind, e.g. "auth.failed", "throttle.merchant", "credential.revoked". */
  readonly type: string;
  /** Issuer clock, Unix milliseconds. */
  readonly at: number;
  /** The party the event is about, by kind and id (never a key or token). */
  readonly subject?: { readonly kind: string; readonly id: string };
  /** Further non-secret facts: counts, reasons, key ids, RPC names. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** Where the issuer reports security events. */
export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
}

/** The audit log of an issuer that was given none. */
export const discardAudit: AuditLog = { record: async () => {} };
