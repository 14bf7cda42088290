/**
 * The reference issuer. Users start it with the `paycode` CLI or
 * {@link startServer}; integrators embedding it use the issuer, stores and
 * routes below. Test helpers are in `@paycode/server/testing`.
 *
 * @module @paycode/server
 */
export * from "./audit/index.js";
export * from "./config/index.js";
export * from "./issuer/index.js";
export * from "./rpc/index.js";
export * from "./store/index.js";
