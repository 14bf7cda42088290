// [RPC-3] certified, not assumed: the reference issuer served over fewer
// protocols than the spec requires cannot pass, whatever the cases say, and
// the full reference passes on every config it serves.
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  allCases,
  OPTIONAL_CONFIG_CASES,
  type RunReport,
  runSuite,
  selectCases,
} from "@paycode/conformance";
import { OffsetClock } from "@paycode/protocol";
import { createRoutes, Issuer, silentLogger } from "@paycode/server";
import { afterEach, describe, expect, it } from "vitest";

interface Served {
  readonly url: string;
  close(): Promise<void>;
}
const open: Served[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/**
 * The reference issuer (in-memory SQLite, test control, movable clock)
 * behind a connect-node adapter limited to some protocols: what an
 * implementation that serves only those looks like from outside.
 */
async function referenceServing(kind: "grpc-only" | "connect-json-only"): Promise<Served> {
  const clock = new OffsetClock();
  const issuer = await Issuer.open({
    store: "sqlite::memory:",
    clock,
    masterKey: new Uint8Array(32).fill(9),
    advanceClock: (ms) => clock.advance(ms),
    settableClock: clock,
    passwordCostN: 2 ** 10,
  });
  const routes = createRoutes(issuer, { enableTestControl: true, logger: silentLogger });
  let server: http.Server | http2.Http2Server;
  const destroy: (() => void)[] = [];
  if (kind === "grpc-only") {
    const handler = connectNodeAdapter({ routes, connect: false, grpcWeb: false });
    const s = http2.createServer(handler);
    s.on("session", (session) => destroy.push(() => session.destroy()));
    server = s;
  } else {
    // Connect only, and binary protobuf refused as by a server without the codec.
    const handler = connectNodeAdapter({ routes, grpc: false, grpcWeb: false });
    const s = http.createServer((req, res) => {
      if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) {
        res.writeHead(415).end();
        return;
      }
      handler(req, res);
    });
    s.on("connection", (socket) => destroy.push(() => socket.destroy()));
    server = s;
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const served: Served = {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const d of destroy) d();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await issuer.close();
    },
  };
  open.push(served);
  return served;
}

const status = (report: RunReport, id: string) => report.cases.find((c) => c.id === id)?.status;
const subset = () => selectCases(allCases, [...OPTIONAL_CONFIG_CASES]);

describe("the reference served over fewer protocols than [RPC-3] requires", () => {
  it("over gRPC only: the cases pass over gRPC, the run fails on both [RPC-3] checks", async () => {
    const { url } = await referenceServing("grpc-only");
    const report = await runSuite({
      target: url,
      configs: "claimed",
      cases: subset(),
      parallel: 6,
      timeoutMs: 20_000,
    });
    expect(report.targetProblem).toBeUndefined();
    expect(report.configs.filter((c) => c.served).map((c) => c.name)).toEqual(["grpc-http2-proto"]);
    const cases = report.cases.filter((c) => !c.id.startsWith("protocols/"));
    expect(cases.map((c) => `${c.id}: ${c.status} ${c.message}`)).toEqual(
      cases.map((c) => `${c.id}: passed `),
    );
    for (const c of cases) expect(c.configs.map((x) => x.config)).toEqual(["grpc-http2-proto"]);
    expect(status(report, "protocols/connect-http1.1-proto")).toBe("failed");
    expect(status(report, "protocols/connect-http1.1-json")).toBe("failed");
    expect(status(report, "protocols/grpc-http2-proto")).toBe("passed");
    expect(report.summary.blockingFailures).toBe(2);
    expect(report.ok).toBe(false);
  }, 60_000);

  it("over Connect with JSON only: the cases pass over JSON, the binary check fails the run", async () => {
    const { url } = await referenceServing("connect-json-only");
    const report = await runSuite({ target: url, cases: subset(), parallel: 6, timeoutMs: 20_000 });
    const cases = report.cases.filter((c) => !c.id.startsWith("protocols/"));
    expect(cases.map((c) => `${c.id}: ${c.status} ${c.message}`)).toEqual(
      cases.map((c) => `${c.id}: passed `),
    );
    for (const c of cases) {
      expect(c.configs.map((x) => x.config)).toEqual(["connect-http1.1-json"]);
    }
    expect(status(report, "protocols/connect-http1.1-proto")).toBe("failed");
    expect(status(report, "protocols/connect-http1.1-json")).toBe("passed");
    expect(report.ok).toBe(false);
  }, 60_000);
});
