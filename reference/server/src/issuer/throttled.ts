import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The error of a call refused by a throttle of §12.3: `resource_exhausted`,
 * which clients may retry, after `retryAfterMs`. The delay is also in the
 * message, rounded up to whole seconds, for a person reading it.
 */
export function throttled(message: string, retryAfterMs: number): ConnectError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ConnectError(`${message}; retry after ${seconds} s`, Code.ResourceExhausted);
}
