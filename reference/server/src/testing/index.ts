// Test helpers for code that runs against the reference server: a real
// issuer and server on loopback, raw wire calls, a temporary PostgreSQL
// database. Not for production use.
export { type ConnectionFate, LoopbackProxy } from "./loopback-proxy.js";
export {
  createPostgresTestDb,
  DEFAULT_TEST_PG_URL,
  type PostgresTestDb,
} from "./postgres-test-db.js";
export { envelope, grpcWebStatus, rawGrpcCall } from "./raw-grpc.js";
export { closeRawAgent, type RawResponse, rawPost } from "./raw-http.js";
export { type AccountLimits, PASSWORD, TestServer } from "./test-server.js";
export { makeSelfSignedCert, type SelfSignedCert } from "./tls.js";
export {
  type TestTransport,
  testTransport,
  WIRE_VARIANTS,
  type WireVariant,
} from "./transports.js";
