import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The server answered, but the answer breaks the protocol (a missing field,
 * a payment that is not the one asked for, an impossible status). The
 * conformance harness relies on the clients to notice these.
 */
export class PaycodeProtocolError extends Error {
  override readonly name = "PaycodeProtocolError";
}

/** All 8 online codes of the current time step are used; a new step starts in `retryAfterMs`. */
export class WalletCodesExhaustedError extends Error {
  override readonly name = "WalletCodesExhaustedError";
  constructor(
    readonly step: number,
    readonly retryAfterMs: number,
  ) {
    super(
      `all 8 online codes of this minute are used; the next code is available in ${Math.ceil(retryAfterMs / 1000)} s`,
    );
  }
}

/** The wallet has no provisioned state yet. */
export class WalletNotProvisionedError extends Error {
  override readonly name = "WalletNotProvisionedError";
  constructor() {
    super("wallet is not provisioned: run provision first");
  }
}

/**
 * A Scan (or a follow-up call) kept failing in transport, so whether the
 * payment exists is unknown. The till must query or cancel by `outTradeNo`
 * later; it must never re-scan with a new order number.
 */
export class PaymentOutcomeUnknownError extends Error {
  override readonly name = "PaymentOutcomeUnknownError";
  constructor(
    readonly outTradeNo: string,
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(
      `payment outcome unknown for out_trade_no ${JSON.stringify(outTradeNo)} after ${attempts} attempt(s): ${describeError(cause)}`,
    );
  }
}

/** Connect codes that mean "the request may not have reached the server or its answer was lost". */
export const TRANSIENT_CODES: ReadonlySet<Code> = new Set([
  Code.Unavailable,
  Code.DeadlineExceeded,
  // connect-node reports a reset connection (ECONNRESET, "socket hang up") as aborted.
  Code.Aborted,
]);

/** Whether an error is a transport failure worth retrying with the same idempotency key. */
export function isTransientError(err: unknown): boolean {
  return err instanceof ConnectError && TRANSIENT_CODES.has(err.code);
}

/** One line describing any error, for logs and the CLI. */
export function describeError(err: unknown): string {
  if (err instanceof ConnectError) return `${codeName(err.code)}: ${err.rawMessage}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The wire name of a Connect code: Code.AlreadyExists → "already_exists". */
export function codeName(code: Code): string {
  const name = Code[code];
  return name === undefined
    ? String(code)
    : name.replace(/[A-Z]/g, (c, i) => (i ? "_" : "") + c.toLowerCase());
}
