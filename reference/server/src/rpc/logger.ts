/**
 * Where the server reports trouble. Messages never carry request bodies or
 * headers, so API keys, wallet tokens, passwords and seeds cannot leak here
 * ([SEC-10]). Security events (failed authentication, revocations, ...) go to
 * the audit log instead (`AuditLog`, `../audit/`), under the same rule
 * ([AUDIT-2]); this log says what went wrong with the server itself.
 */
export interface ServerLogger {
  error(message: string, err?: unknown): void;
  info(message: string): void;
}

/** Writes to stderr; `info` is silent so the CLI decides what to print. */
export const consoleLogger: ServerLogger = {
  error(message, err) {
    if (err === undefined) console.error(`paycode server: ${message}`);
    else console.error(`paycode server: ${message}`, err);
  },
  info() {},
};

/** Drops everything; for tests that check output themselves. */
export const silentLogger: ServerLogger = { error() {}, info() {} };
