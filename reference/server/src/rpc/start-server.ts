import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { type Clock, systemClock } from "@paycode/protocol";
import type { AuditLog } from "../issuer/audit-log.js";
import type { IssuerApi } from "../issuer/issuer-api.js";
import { Authenticator } from "./authenticator.js";
import {
  createConnectUnaryFastPath,
  type NodeRequest,
  type NodeResponse,
} from "./connect-unary-fast-path.js";
import { createCorsHandler } from "./cors.js";
import { consoleLogger, type ServerLogger } from "./logger.js";
import { sniffHttpVersion } from "./protocol-sniffer.js";
import { reflectionRoutes } from "./reflection/reflection.js";
import { routesFromTable, servicesOf } from "./routes.js";
import { createRpcTable } from "./rpc-table.js";
import { createStockHandler } from "./stock-handler.js";

export interface ServerTlsOptions {
  /** PEM certificate chain. */
  cert: string | Buffer;
  /** PEM private key. */
  key: string | Buffer;
}

export interface StartServerOptions {
  issuer: IssuerApi;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port; the chosen one is in the result. Default 8080. */
  port?: number;
  /** Serve ConformanceService. Never in production. */
  enableTestControl: boolean;
  /** HTTPS (h2 and HTTP/1.1 via ALPN) instead of plaintext. */
  tls?: ServerTlsOptions;
  /**
   * "2" (default): HTTP/2 (h2c or h2) and HTTP/1.1 on one port.
   * "1.1": HTTP/1.1 only, which is all Connect and gRPC-Web need.
   */
  http?: "1.1" | "2";
  logger?: ServerLogger;
  /** Largest accepted request message. Default 1 MiB. */
  readMaxBytes?: number;
  /** Largest response message. Default 16 MiB. */
  writeMaxBytes?: number;
  /** How often pending payments past their deadline are closed. Default 5 s. */
  sweepIntervalMs?: number;
  /** How long close() lets in-flight calls finish before cutting connections. Default 5 s. */
  closeGraceMs?: number;
  /** Serve plain Connect unary calls without connect-node's per-call overhead. Default true. */
  fastPath?: boolean;
  /** See `AuthenticatorOptions.cacheTtlMs`. Default 0 (off). */
  authCacheTtlMs?: number;
  /**
   * Serve gRPC server reflection (`grpc.reflection.v1.ServerReflection` and
   * `grpc.reflection.v1alpha.ServerReflection`), so grpcurl, `buf curl` and
   * Postman can list and call the services without .proto files. It needs
   * HTTP/2 (a bidi stream). Default: on only with `enableTestControl`.
   */
  reflection?: boolean;
  /**
   * Browser origins (scheme://host[:port]) whose pages may call the server:
   * CORS preflight is answered and responses carry Access-Control-Allow-Origin
   * for them. Default none (no CORS headers, preflight not answered).
   */
  corsOrigins?: readonly string[];
  /**
   * The security audit log (the same one given to `Issuer.open`): failed
   * authentication per RPC, principal kind and peer, and the server's start
   * (with whether test control is on) and stop. None when absent.
   */
  audit?: AuditLog;
  /** The issuer clock, for the time of audit events. Default: the system clock. */
  clock?: Clock;
}

export interface PaycodeServer {
  /** Base URL for clients, for example "http://127.0.0.1:8080". */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets in-flight calls finish, then closes the issuer. Idempotent. */
  close(): Promise<void>;
}

const MiB = 1024 * 1024;

/**
 * Starts a Paycode server speaking Connect, gRPC and gRPC-Web on one port,
 * over HTTP/1.1 and HTTP/2 ([RPC-3]: Connect with both codecs on HTTP/1.1
 * at least). If it cannot
 * listen (port in use, ...) it rejects with the socket error and leaves the
 * issuer open for the caller to close.
 */
export async function startServer(opts: StartServerOptions): Promise<PaycodeServer> {
  const { issuer } = opts;
  const logger = opts.logger ?? consoleLogger;
  const host = opts.host ?? "127.0.0.1";
  const readMaxBytes = opts.readMaxBytes ?? MiB;
  const writeMaxBytes = opts.writeMaxBytes ?? 16 * MiB;
  const httpVersion = opts.http ?? "2";
  const closeGraceMs = opts.closeGraceMs ?? 5000;
  const cors =
    opts.corsOrigins !== undefined && opts.corsOrigins.length > 0
      ? createCorsHandler(opts.corsOrigins)
      : undefined;

  const table = createRpcTable(issuer, {
    enableTestControl: opts.enableTestControl,
    authenticator: new Authenticator(issuer, { cacheTtlMs: opts.authCacheTtlMs ?? 0 }),
    logger,
    ...(opts.audit !== undefined ? { audit: opts.audit } : {}),
    clock: opts.clock ?? systemClock,
  });
  const tableRoutes = routesFromTable(table);
  const reflection =
    (opts.reflection ?? opts.enableTestControl) ? reflectionRoutes(servicesOf(table)) : undefined;
  const shutdown = new AbortController();
  // Reflection is a bidi stream: the Connect unary fast path below never
  // claims it (its paths are not in the table), so the stock handler serves it.
  const stock = createStockHandler(
    reflection === undefined
      ? tableRoutes
      : (router) => {
          tableRoutes(router);
          reflection(router);
        },
    {
      readMaxBytes,
      writeMaxBytes,
      shutdownSignal: shutdown.signal,
      acceptCompression: [compressionGzip, compressionBrotli],
    },
    logger,
  );
  const fast =
    opts.fastPath === false
      ? undefined
      : createConnectUnaryFastPath(table, { readMaxBytes, writeMaxBytes });

  let inflight = 0;
  let closing = false;
  let onIdle: (() => void) | undefined;
  const onResponseClose = () => {
    inflight--;
    if (inflight === 0 && onIdle !== undefined) onIdle();
  };
  const onRequest = (req: NodeRequest, res: NodeResponse) => {
    inflight++;
    res.once("close", onResponseClose);
    if (closing && "shouldKeepAlive" in res) res.shouldKeepAlive = false;
    if (cors?.(req, res)) return;
    if (fast === undefined || !fast(req, res)) stock(req, res);
  };

  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  const trackSocket = (socket: net.Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const trackSession = (session: http2.Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  };

  let listener: net.Server;
  let innerH1: http.Server | undefined;
  if (opts.tls !== undefined) {
    const tlsOptions = { cert: opts.tls.cert, key: opts.tls.key };
    if (httpVersion === "2") {
      const s = http2.createSecureServer(
        { ...tlsOptions, allowHTTP1: true, settings: { maxConcurrentStreams: 1000 } },
        onRequest,
      );
      s.on("session", trackSession);
      listener = s;
    } else {
      listener = https.createServer(tlsOptions, onRequest);
    }
  } else if (httpVersion === "2") {
    const h1 = http.createServer({ requestTimeout: 30_000 }, onRequest);
    const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } }, onRequest);
    h2.on("session", trackSession);
    // h1 never listens itself; its 'listening' handler starts the timers that
    // enforce headersTimeout and requestTimeout on the sockets it is given.
    h1.emit("listening");
    innerH1 = h1;
    listener = net.createServer({ noDelay: true }, (socket) =>
      sniffHttpVersion(socket, h1, h2, 30_000),
    );
  } else {
    listener = http.createServer({ requestTimeout: 30_000 }, onRequest);
  }
  listener.on("connection", trackSocket);

  try {
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(opts.port ?? 8080, host, () => {
        listener.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    innerH1?.close(() => {});
    throw err;
  }
  listener.on("error", (err) => logger.error("listener error", err));

  let sweeping: Promise<unknown> | undefined;
  const sweepTimer = setInterval(() => {
    if (sweeping !== undefined) return;
    sweeping = issuer
      .sweepExpired()
      // [SEC-14] Junk declines past their retention go with the same sweep.
      .then(() => issuer.pruneJunk?.())
      .catch((err: unknown) => logger.error("sweep of expired payments failed", err))
      .finally(() => {
        sweeping = undefined;
      });
  }, opts.sweepIntervalMs ?? 5000);
  sweepTimer.unref();

  const address = listener.address() as net.AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `${opts.tls !== undefined ? "https" : "http"}://${urlHost}:${address.port}`;

  const audit = opts.audit;
  const clock = opts.clock ?? systemClock;
  if (audit !== undefined) {
    const reflectionOn = reflection !== undefined;
    // [AUDIT-6] A server that serves test control is a security fact: anyone who can
    // reach it may mint accounts and move its clock.
    await audit.record({
      type: "server.started",
      at: clock.now(),
      detail: {
        url,
        testControl: opts.enableTestControl,
        reflection: reflectionOn,
        tls: opts.tls !== undefined,
      },
    });
    if (opts.enableTestControl) {
      await audit.record({ type: "server.test_control_enabled", at: clock.now(), detail: { url } });
    }
  }

  let closed: Promise<void> | undefined;
  const doClose = async () => {
    clearInterval(sweepTimer);
    closing = true;
    const listenerClosed = new Promise<void>((resolve) => listener.close(() => resolve()));
    innerH1?.close(() => {});
    for (const session of sessions) session.close();
    if (inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, closeGraceMs);
        onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    shutdown.abort();
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    await listenerClosed;
    await sweeping;
    await audit?.record({ type: "server.stopped", at: clock.now(), detail: { url } });
    await issuer.close();
  };

  return {
    url,
    port: address.port,
    close: () => {
      closed ??= doClose();
      return closed;
    },
  };
}
