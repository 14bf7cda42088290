// CORS for operator-listed browser origins: off by default; preflight and
// response headers from @connectrpc/connect's cors lists when on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCorsOrigin } from "./cors.js";
import { type PaycodeServer, startServer } from "./start-server.js";
import { FakeIssuer } from "./testing/fake-issuer.js";

const PAGE = "http://127.0.0.1:5173";
const PING = "/paycode.v1.HealthService/Ping";

function preflight(server: PaycodeServer, origin: string, protocol: "connect" | "grpc-web") {
  return fetch(server.url + PING, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers":
        protocol === "connect"
          ? "content-type,connect-protocol-version,connect-timeout-ms,authorization"
          : "content-type,x-grpc-web,x-user-agent,grpc-timeout",
    },
  });
}

function connectPing(server: PaycodeServer, origin: string) {
  return fetch(server.url + PING, {
    method: "POST",
    headers: { origin, "content-type": "application/json", "connect-protocol-version": "1" },
    body: "{}",
  });
}

function grpcWebPing(server: PaycodeServer, origin: string) {
  return fetch(server.url + PING, {
    method: "POST",
    headers: { origin, "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
    body: new Uint8Array(5),
  });
}

describe("CORS", () => {
  let on: PaycodeServer;
  let off: PaycodeServer;
  beforeAll(async () => {
    on = await startServer({
      issuer: new FakeIssuer(),
      port: 0,
      enableTestControl: false,
      corsOrigins: [PAGE, "https://wallet.example"],
    });
    off = await startServer({ issuer: new FakeIssuer(), port: 0, enableTestControl: false });
  });
  afterAll(async () => {
    await on?.close();
    await off?.close();
  });

  it.each(["connect", "grpc-web"] as const)(
    "answers %s preflight for a listed origin",
    async (p) => {
      const res = await preflight(on, PAGE, p);
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
      expect(res.headers.get("access-control-allow-methods")).toMatch(/POST/);
      const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
      const wanted =
        p === "connect"
          ? ["content-type", "connect-protocol-version", "connect-timeout-ms", "authorization"]
          : ["content-type", "x-grpc-web", "x-user-agent", "grpc-timeout"];
      for (const h of wanted) {
        expect(allowed).toContain(h);
      }
      expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    },
  );

  it("refuses preflight for an origin not listed, with no CORS headers", async () => {
    for (const origin of ["http://127.0.0.1:5174", "https://evil.example", "null"]) {
      const res = await preflight(on, origin, "connect");
      expect(res.status).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-allow-methods")).toBeNull();
    }
  });

  it("labels responses to a listed origin (fast path and stock handler)", async () => {
    for (const res of [await connectPing(on, PAGE), await grpcWebPing(on, PAGE)]) {
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
      expect(res.headers.get("access-control-expose-headers")).toMatch(/Grpc-Status/i);
      await res.arrayBuffer();
    }
    const other = await connectPing(on, "https://evil.example");
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    await other.arrayBuffer();
  });

  it("is off by default: no preflight answer, no CORS headers", async () => {
    const res = await preflight(off, PAGE, "connect");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-allow-methods")).toBeNull();
    expect(res.status).not.toBe(204);
    await res.arrayBuffer();
    const ping = await connectPing(off, PAGE);
    expect(ping.status).toBe(200);
    expect(ping.headers.get("access-control-allow-origin")).toBeNull();
    await ping.arrayBuffer();
  });

  it("takes only scheme://host[:port] origins", () => {
    expect(parseCorsOrigin("http://127.0.0.1:5173")).toBe(PAGE);
    expect(parseCorsOrigin("https://wallet.example/")).toBe("https://wallet.example");
    for (const bad of ["*", "127.0.0.1:5173", "http://a.example/path", "ftp://a.example", ""]) {
      expect(() => parseCorsOrigin(bad), bad).toThrow(RangeError);
    }
  });
});
