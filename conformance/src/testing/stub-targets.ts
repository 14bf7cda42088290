// Test-only targets for the harness's own tests: a stub implementation, a
// server that never answers, one that answers garbage, an ordinary web
// server, a Paycode server without test control, one that speaks only
// Connect, and an address nobody listens on.
import http from "node:http";
import http2 from "node:http2";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { type ConnectNodeAdapterOptions, connectNodeAdapter } from "@connectrpc/connect-node";
import {
  ConformanceService,
  GetCapabilitiesResponseSchema,
  HealthService,
  IssuerProfileSchema,
} from "@paycode/protocol/v1";

export interface TestServer {
  readonly url: string;
  /** Requests received so far. */
  readonly requests: () => number;
  /** Request paths so far, e.g. "/paycode.v1.HealthService/Ping". */
  readonly paths: () => string[];
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener): Promise<TestServer> {
  let count = 0;
  const paths: string[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    count++;
    paths.push(req.url ?? "");
    handler(req, res);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    paths: () => [...paths],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Accepts connections and requests, and never answers. */
export function startHangingServer(): Promise<TestServer> {
  return listen(() => {
    // Deliberately silent.
  });
}

/** Answers every request 200 with bytes that are no protocol at all. */
export function startGarbageServer(): Promise<TestServer> {
  return listen((_req, res) => {
    res.writeHead(200, { "content-type": "application/proto" });
    res.end(Buffer.from("\x00\x00\x00\x00\x07<html>definitely not protobuf</html>\xff\xfe"));
  });
}

/** An ordinary web server: every path is a 404 HTML page. */
export function startWebServer(): Promise<TestServer> {
  return listen((_req, res) => {
    res.writeHead(404, { "content-type": "text/html" });
    res.end("<html><body><h1>Not Found</h1></body></html>");
  });
}

/**
 * A server with whatever routes a test registers (unregistered RPCs:
 * 404/unimplemented), over HTTP/1.1, speaking Connect, gRPC-Web (and gRPC,
 * which needs HTTP/2 and so cannot reach it) unless `adapter` says otherwise.
 */
export function startStubServer(
  routes: (router: ConnectRouter) => void,
  adapter: Omit<ConnectNodeAdapterOptions, "routes"> = {},
): Promise<TestServer> {
  return listen(connectNodeAdapter({ ...adapter, routes }));
}

/** Answers HealthService.Ping, as every Paycode server does. */
export function pingRoute(router: ConnectRouter): void {
  router.service(HealthService, { ping: () => ({}) });
}

/** Answers GetCapabilities with `features` (and nothing else of test control). */
export function capabilitiesRoute(features: string[] = []) {
  return (router: ConnectRouter): void => {
    router.service(ConformanceService, {
      getCapabilities: () =>
        create(GetCapabilitiesResponseSchema, {
          implementation: "stub",
          features,
          profile: create(IssuerProfileSchema, { currency: "CNY" }),
          now: timestampNow(),
        }),
    });
  };
}

/** A Paycode server whose test control is off: Ping answers, ConformanceService is 404. */
export function startServerWithoutTestControl(): Promise<TestServer> {
  return startStubServer(pingRoute);
}

/** A Paycode server with test control that speaks only Connect (no gRPC-Web, and no HTTP/2). */
export function startConnectOnlyServer(): Promise<TestServer> {
  return startStubServer(
    (router) => {
      pingRoute(router);
      capabilitiesRoute()(router);
    },
    { grpc: false, grpcWeb: false },
  );
}

/**
 * Like `startStubServer`, but HTTP/2 only (cleartext, prior knowledge), so
 * gRPC reaches it; `adapter` chooses the protocols, e.g. `{ connect: false,
 * grpcWeb: false }` for a server that speaks gRPC only.
 */
export async function startHttp2StubServer(
  routes: (router: ConnectRouter) => void,
  adapter: Omit<ConnectNodeAdapterOptions, "routes"> = {},
): Promise<TestServer> {
  let count = 0;
  const paths: string[] = [];
  const handler = connectNodeAdapter({ ...adapter, routes });
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer((req, res) => {
    count++;
    paths.push(req.url ?? "");
    handler(req, res);
  });
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    paths: () => [...paths],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A Paycode server with test control that speaks gRPC only (so no Connect, which [RPC-3] requires). */
export function startGrpcOnlyServer(
  routes: (router: ConnectRouter) => void = (router) => {
    pingRoute(router);
    capabilitiesRoute()(router);
  },
): Promise<TestServer> {
  return startHttp2StubServer(routes, { connect: false, grpcWeb: false });
}

/**
 * A Paycode server with test control that speaks Connect over HTTP/1.1
 * with the JSON codec only: binary protobuf requests get 415, as from a
 * server that never registered the codec ([RPC-3] requires both).
 */
export function startConnectJsonOnlyServer(
  routes: (router: ConnectRouter) => void = (router) => {
    pingRoute(router);
    capabilitiesRoute()(router);
  },
): Promise<TestServer> {
  const handler = connectNodeAdapter({ routes, grpc: false, grpcWeb: false });
  return listen((req, res) => {
    const type = req.headers["content-type"] ?? "";
    if (!/^application\/(connect\+)?json\b/.test(type)) {
      res.writeHead(415, { "content-type": "text/plain" });
      res.end("only application/json");
      return;
    }
    handler(req, res);
  });
}

/** A URL on which nothing listens (a port that was just free): connection refused. */
export async function closedPortUrl(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
