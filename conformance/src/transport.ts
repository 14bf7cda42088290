import type { HttpVersion, Protocol } from "./case.js";

/** The HTTP version a protocol uses when none is asked for: gRPC only runs over HTTP/2. */
export function defaultHttpVersion(protocol: Protocol): HttpVersion {
  return protocol === "grpc" ? "2" : "1.1";
}
