import http from "node:http";
import https from "node:https";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";

/** A wire protocol over one HTTP version, as the protocol tests name them. */
export type WireVariant = "connect-h1" | "connect-h2" | "grpc-h2" | "grpc-web-h1" | "grpc-web-h2";

export const WIRE_VARIANTS: readonly WireVariant[] = [
  "connect-h1",
  "connect-h2",
  "grpc-h2",
  "grpc-web-h1",
  "grpc-web-h2",
];

export interface TestTransport {
  readonly transport: Transport;
  /** A typed client that sends `Authorization: Bearer <bearer>` when given. */
  client<S extends DescService>(service: S, bearer?: string): Client<S>;
  close(): void;
}

/**
 * A client transport for tests: one connection pool per transport, optional
 * trusted CA for self-signed TLS, and binary or JSON Connect.
 */
export function testTransport(
  baseUrl: string,
  variant: WireVariant = "connect-h1",
  opts: { ca?: string | Buffer; json?: boolean; timeoutMs?: number } = {},
): TestTransport {
  const tls = opts.ca !== undefined ? { ca: opts.ca } : {};
  const common = {
    baseUrl,
    useBinaryFormat: opts.json !== true,
    ...(opts.timeoutMs !== undefined ? { defaultTimeoutMs: opts.timeoutMs } : {}),
  };
  let transport: Transport;
  let close: () => void;
  if (variant.endsWith("h2")) {
    const sessionManager = new Http2SessionManager(baseUrl, undefined, tls);
    const base = { ...common, httpVersion: "2" as const, sessionManager };
    transport =
      variant === "grpc-h2"
        ? createGrpcTransport(base)
        : variant === "grpc-web-h2"
          ? createGrpcWebTransport(base)
          : createConnectTransport(base);
    close = () => sessionManager.abort();
  } else {
    const agent = baseUrl.startsWith("https:")
      ? new https.Agent({ keepAlive: true, ...tls })
      : new http.Agent({ keepAlive: true });
    const base = { ...common, httpVersion: "1.1" as const, nodeOptions: { agent } };
    transport =
      variant === "grpc-web-h1" ? createGrpcWebTransport(base) : createConnectTransport(base);
    close = () => agent.destroy();
  }
  return {
    transport,
    client(service, token) {
      if (token === undefined) return createClient(service, transport);
      // Same pool, extra interceptor: wrap the transport's unary call.
      const t: Transport = {
        unary: (method, signal, timeoutMs, header, input, contextValues) => {
          const h = new Headers(header);
          h.set("authorization", `Bearer ${token}`);
          return transport.unary(method, signal, timeoutMs, h, input, contextValues);
        },
        stream: transport.stream.bind(transport),
      };
      return createClient(service, t);
    },
    close,
  };
}
