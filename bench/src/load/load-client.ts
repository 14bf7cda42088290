import type { LoadMode } from "./drive.js";
import { H1Transport } from "./h1-transport.js";
import { H2Transport } from "./h2-transport.js";
import { RawH2Transport } from "./raw-h2-transport.js";
import { SdkTransport } from "./sdk-transport.js";
import type { HttpVersion, UnaryTransport } from "./transport.js";

export type Protocol = "connect" | "grpc" | "grpc-web";
/** auto: raw for Connect over h2c, node for Connect over HTTP/1.1 cleartext, sdk otherwise. */
export type ClientKind = "auto" | "raw" | "node" | "sdk";
/** @deprecated use ClientKind */
export type H2Client = "raw" | "node";

/** Which client a protocol / HTTP version / scheme gets, or why the asked one cannot serve. */
export function resolveClient(
  target: string,
  protocol: Protocol,
  http: HttpVersion,
  asked: ClientKind = "auto",
): Exclude<ClientKind, "auto"> {
  const tls = target.startsWith("https:");
  if (protocol === "grpc" && http !== "2") {
    throw new Error("gRPC needs HTTP/2: use --http-version 2 with --protocol grpc");
  }
  if (asked === "auto") {
    if (protocol !== "connect" || tls) return "sdk";
    return http === "2" ? "raw" : "node";
  }
  if (asked !== "sdk" && protocol !== "connect") {
    throw new Error(
      `the ${asked} client speaks Connect only: --protocol ${protocol} goes through --client sdk (the default for it)`,
    );
  }
  if (asked === "raw" && (tls || http !== "2")) {
    throw new Error(
      "the raw HTTP/2 client speaks h2c (http://, --http-version 2) only: for an https:// " +
        "target or HTTP/1.1 use --client sdk or --client node (auto picks one)",
    );
  }
  return asked;
}

export interface TransportSpec {
  target: string;
  protocol: Protocol;
  http: HttpVersion;
  connections: number;
  mode: LoadMode;
  client: Exclude<ClientKind, "auto">;
  ca?: string | Buffer;
}

export function newTransport(o: TransportSpec): UnaryTransport {
  const ct = "application/proto";
  switch (o.client) {
    case "raw":
      return new RawH2Transport(o.target, o.connections, ct);
    case "node":
      if (o.http === "2") return new H2Transport(o.target, o.connections, ct, o.ca);
      return new H1Transport(
        o.target,
        Math.max(1, o.mode.kind === "closed" ? o.mode.concurrency : o.mode.maxInFlight),
        ct,
        o.ca,
      );
    case "sdk":
      return new SdkTransport({
        baseUrl: o.target,
        protocol: o.protocol,
        httpVersion: o.http,
        connections: o.connections,
        ...(o.ca !== undefined ? { ca: o.ca } : {}),
      });
  }
}
