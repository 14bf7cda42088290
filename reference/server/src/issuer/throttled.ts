import { Code, ConnectError } from "@connectrpc/connect";

/** Response metadata (HTTP header, gRPC trailer) that carries a throttle's retry delay. */
export const RETRY_AFTER_HEADER = "retry-after";

/**
 * The error of a call refused by a throttle of §12.3: `resource_exhausted`,
 * which clients may retry, after `retryAfterMs`. The delay, rounded up to
 * whole seconds, is in the error's `retry-after` metadata for a program
 * ([SEC-12], as HTTP's Retry-After: Connect sends it as a response header)
 * and in the message for a person reading it.
 */
export function throttled(message: string, retryAfterMs: number): ConnectError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ConnectError(
    `${message}; retry after ${seconds} s`,
    Code.ResourceExhausted,
    new Headers({ [RETRY_AFTER_HEADER]: String(seconds) }),
  );
}
