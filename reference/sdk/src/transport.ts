import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Interceptor, Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { bearerInterceptor } from "./auth.js";

/** The three wire protocols every Paycode server speaks. */
export type PaycodeProtocol = "connect" | "grpc" | "grpc-web";
export type PaycodeHttpVersion = "1.1" | "2";
/** The two codecs a Paycode server serves over Connect ([RPC-3]). */
export type PaycodeCodec = "proto" | "json";

export interface PaycodeTransportOptions {
  /** Server root, for example "http://127.0.0.1:8080". */
  baseUrl: string;
  protocol?: PaycodeProtocol;
  /** gRPC needs "2"; the default is "2" for gRPC and "1.1" otherwise. */
  httpVersion?: PaycodeHttpVersion;
  /** Message encoding: binary protobuf (default) or JSON; every protocol carries both. */
  codec?: PaycodeCodec;
  /** Sent as `Authorization: Bearer <bearer>` on every call. */
  bearer?: string;
  /** Default per-call deadline. */
  timeoutMs?: number;
  /** Extra interceptors, run after the bearer one. */
  interceptors?: Interceptor[];
  /** https:// only: PEM certificate(s) to trust instead of the system roots (a test CA). */
  ca?: string | Buffer;
}

/** A Connect transport plus the connection pool behind it, so callers can close it. */
export interface PaycodeTransport {
  readonly transport: Transport;
  readonly options: Readonly<PaycodeTransportOptions>;
  /** Drops pooled connections so a CLI process can exit at once. */
  close(): void;
}

export { bearerInterceptor };

/**
 * Idle pooled HTTP/1.1 connections are closed after this long, or sooner:
 * 1 s before the server's own `Keep-Alive: timeout=N` hint. Without it the
 * client reuses a connection the server is closing at that very moment and
 * the call fails with EPIPE / ECONNRESET before the server ever saw it.
 */
export const IDLE_CONNECTION_TIMEOUT_MS = 30_000;

/** The keep-alive pool of an HTTP/1.1 transport (Node's agent honours the hint only when a timeout is set). */
export function keepAliveAgent(url: URL, ca?: string | Buffer): Agent {
  const options = { keepAlive: true, timeout: IDLE_CONNECTION_TIMEOUT_MS };
  return url.protocol === "https:"
    ? new HttpsAgent({ ...options, ...(ca !== undefined ? { ca } : {}) })
    : new Agent(options);
}

/**
 * Builds a client transport for any Paycode implementation. Each transport
 * owns its connection pool (an HTTP/1.1 keep-alive agent or one HTTP/2
 * session), which keeps tests that stop and restart servers independent.
 */
export function createPaycodeTransport(options: PaycodeTransportOptions): PaycodeTransport {
  const protocol = options.protocol ?? "connect";
  const httpVersion = options.httpVersion ?? (protocol === "grpc" ? "2" : "1.1");
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new RangeError(`invalid server URL ${JSON.stringify(options.baseUrl)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RangeError(`server URL must be http:// or https://, got ${options.baseUrl}`);
  }
  if (protocol === "grpc" && httpVersion !== "2") {
    throw new RangeError("gRPC requires HTTP/2 (use httpVersion 2)");
  }
  const interceptors: Interceptor[] = [];
  if (options.bearer !== undefined) interceptors.push(bearerInterceptor(options.bearer));
  interceptors.push(...(options.interceptors ?? []));
  const common = {
    baseUrl: options.baseUrl,
    interceptors,
    useBinaryFormat: options.codec !== "json",
    ...(options.timeoutMs !== undefined ? { defaultTimeoutMs: options.timeoutMs } : {}),
  };

  if (httpVersion === "2") {
    const sessionManager = new Http2SessionManager(
      url,
      { idleConnectionTimeoutMs: 30_000 },
      options.ca !== undefined && url.protocol === "https:" ? { ca: options.ca } : undefined,
    );
    const transport =
      protocol === "grpc"
        ? createGrpcTransport({ ...common, sessionManager })
        : protocol === "grpc-web"
          ? createGrpcWebTransport({ ...common, httpVersion: "2", sessionManager })
          : createConnectTransport({ ...common, httpVersion: "2", sessionManager });
    return { transport, options, close: () => sessionManager.abort() };
  }

  const agent = keepAliveAgent(url, options.ca);
  const nodeOptions = { agent };
  const transport =
    protocol === "grpc-web"
      ? createGrpcWebTransport({ ...common, httpVersion: "1.1", nodeOptions })
      : createConnectTransport({ ...common, httpVersion: "1.1", nodeOptions });
  return { transport, options, close: () => agent.destroy() };
}
