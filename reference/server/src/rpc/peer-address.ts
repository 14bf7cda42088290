import { createContextKey } from "@connectrpc/connect";

/**
 * The caller's socket address, for the audit log (behind a proxy it is the
 * proxy's; forwarded headers are not trusted). The stock handler sets it from
 * the Node request; another connect-es adapter leaves it undefined.
 */
export const PEER_ADDRESS = createContextKey<string | undefined>(undefined, {
  description: "paycode peer address",
});
