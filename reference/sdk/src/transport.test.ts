import { once } from "node:events";
import { createServer, type IncomingMessage, request } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createClient } from "@connectrpc/connect";
import { HealthService } from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import { createPaycodeTransport, IDLE_CONNECTION_TIMEOUT_MS, keepAliveAgent } from "./transport.js";

/** The idle timeout the agent gives its pooled connection after one call to a server with this keep-alive. */
async function freeSocketTimeout(keepAliveTimeoutMs: number): Promise<number | undefined> {
  const server = createServer((_req, res) => res.end("ok"));
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const agent = keepAliveAgent(new URL(`http://127.0.0.1:${port}`));
  try {
    const pooled = new Promise<Socket>((resolve) => agent.once("free", (s: Socket) => resolve(s)));
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      request({ port, host: "127.0.0.1", agent }, resolve).on("error", reject).end(),
    );
    res.resume();
    const socket = await pooled;
    // The agent sets the timeout when it takes the socket back, after "free".
    await new Promise((r) => setImmediate(r));
    return socket.timeout;
  } finally {
    agent.destroy();
    server.closeAllConnections();
    server.close();
  }
}

describe("keepAliveAgent", () => {
  it("closes an idle connection a second before the server's keep-alive hint", async () => {
    // Node's server announces `Keep-Alive: timeout=5` and closes at 5 s.
    expect(await freeSocketTimeout(5_000)).toBe(4_000);
  });

  it("closes an idle connection after its own limit when the server's is longer", async () => {
    expect(await freeSocketTimeout(120_000)).toBe(IDLE_CONNECTION_TIMEOUT_MS);
  });
});

describe("createPaycodeTransport codec", () => {
  it("sends binary protobuf by default and JSON when asked ([RPC-3] needs both)", async () => {
    const seen: string[] = [];
    // A Connect unary endpoint answering an empty message in the codec it was asked in.
    const server = createServer((req, res) => {
      const type = req.headers["content-type"] ?? "";
      seen.push(type);
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": type });
        res.end(type === "application/json" ? "{}" : "");
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      for (const codec of [undefined, "proto", "json"] as const) {
        const pt = createPaycodeTransport({
          baseUrl: `http://127.0.0.1:${port}`,
          ...(codec ? { codec } : {}),
        });
        try {
          await createClient(HealthService, pt.transport).ping({});
        } finally {
          pt.close();
        }
      }
      expect(seen).toEqual(["application/proto", "application/proto", "application/json"]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
