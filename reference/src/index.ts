// The reference implementation of Paycode v1 as a library: codecs, clock,
// store, issuer, server and clients. Each folder's index.ts lists what it
// offers; the CLI (src/cli) and the generated protobuf code (src/gen) are
// not part of this barrel — import generated messages from
// "./gen/paycode/v1/*_pb.js".
export * from "./clients/index.js";
export * from "./clock.js";
export * from "./codes/index.js";
export * from "./issuer/index.js";
export * from "./server/index.js";
export * from "./store/index.js";
