/**
 * The browser entry of the SDK: wallet and merchant (till) clients over
 * fetch (`@connectrpc/connect-web`), wallet state in memory or Web Storage,
 * money and barcode helpers. No Node.js module is imported from here: the
 * codecs of `@paycode/protocol` run on its browser crypto backend (the
 * "browser" condition of its `#crypto` import, which bundlers apply). The
 * offline terminal (SQLite journal) and the file wallet store are Node.js
 * only, in `@paycode/sdk`.
 *
 * @module @paycode/sdk/web
 */
export * from "./portable.js";
export {
  type KeyValueStorage,
  WebStorageWalletStateStore,
  type WebStorageWalletStateStoreOptions,
} from "./web-state.js";
export { createWebTransport, type WebTransportOptions } from "./web-transport.js";
