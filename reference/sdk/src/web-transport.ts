import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { bearerInterceptor } from "./auth.js";

export interface WebTransportOptions {
  /** "connect" (default) or "grpc-web"; browsers cannot speak plain gRPC. */
  protocol?: "connect" | "grpc-web";
  /** Binary protobuf (default) or JSON on the wire. */
  binary?: boolean;
  /** Sent as `Authorization: Bearer <token>` on every call (a merchant API key). */
  bearer?: string;
  interceptors?: Interceptor[];
  /** Passed to fetch(), e.g. "include" for cookies across origins; default "same-origin". */
  credentials?: "omit" | "same-origin" | "include";
}

/**
 * A transport to a Paycode server from a browser, over fetch(). A page on
 * another origin needs the server to allow it (`paycode serve --cors-origin`).
 */
export function createWebTransport(baseUrl: string, options: WebTransportOptions = {}): Transport {
  const common = {
    baseUrl,
    useBinaryFormat: options.binary ?? true,
    interceptors: [
      ...(options.bearer !== undefined ? [bearerInterceptor(options.bearer)] : []),
      ...(options.interceptors ?? []),
    ],
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
  return options.protocol === "grpc-web"
    ? createGrpcWebTransport(common)
    : createConnectTransport(common);
}
