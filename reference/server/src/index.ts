// @paycode/server: the reference issuer. Users start it with the `paycode`
// CLI or `startServer`; integrators embedding it use the issuer, stores and
// routes below. Test helpers are in "@paycode/server/testing".
export * from "./config/index.js";
export * from "./issuer/index.js";
export * from "./rpc/index.js";
export * from "./store/index.js";
