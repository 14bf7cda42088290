import { Code, ConnectError } from "@connectrpc/connect";
import type { ServerLogger } from "./logger.js";

/** What a client sees for any failure the issuer did not mean to report. */
export const INTERNAL_MESSAGE = "internal error";

/**
 * Errors the issuer throws on purpose are `ConnectError`s and pass through.
 * Anything else is a bug or an outage: it is logged here, once, with the
 * RPC name (never the request), and the client gets a generic `internal`
 * so that stack traces and SQL never cross the wire.
 */
export function toConnectError(err: unknown, rpc: string, logger: ServerLogger): ConnectError {
  if (err instanceof ConnectError) return err;
  logger.error(`unexpected error in ${rpc}`, err);
  return new ConnectError(INTERNAL_MESSAGE, Code.Internal);
}
