// Test-only targets for the harness's own tests: a stub implementation, a
// server that never answers, and one that answers garbage.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";

export interface TestServer {
  readonly url: string;
  /** Requests received so far. */
  readonly requests: () => number;
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener): Promise<TestServer> {
  let count = 0;
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    count++;
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

/** A Connect server with whatever routes a test registers (unregistered RPCs: 404/unimplemented). */
export function startStubServer(routes: (router: ConnectRouter) => void): Promise<TestServer> {
  return listen(connectNodeAdapter({ routes }));
}
