import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { allCases, readKnownFailing, runSuite } from "@paycode/conformance";
import { OffsetClock } from "@paycode/protocol";
import { ConformanceService } from "@paycode/protocol/v1";
import { Issuer, silentLogger, startServer } from "@paycode/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedTarget, startEmbeddedTarget } from "./reference-target.js";

const KNOWN_FAILING = fileURLToPath(new URL("../../known-failing/reference.txt", import.meta.url));

describe("the suite against the reference server (in-process, loopback)", () => {
  let target: EmbeddedTarget;
  beforeAll(async () => {
    target = await startEmbeddedTarget({ fastPasswords: true });
  });
  afterAll(async () => {
    await target?.close();
  });

  it("passes every required case over Connect (known failures listed, none stale)", async () => {
    const report = await runSuite({
      target: target.url,
      cases: allCases,
      parallel: 8,
      timeoutMs: 20_000,
      knownFailing: readKnownFailing(KNOWN_FAILING),
    });
    const unexpected = report.cases
      .filter((c) => c.status === "failed")
      .map((c) => `${c.id}: ${c.message}`);
    expect(unexpected).toEqual([]);
    expect(report.summary.skipped).toBe(0);
    expect(report.summary.passed + report.summary.knownFailing).toBe(allCases.length);
    expect(report.ok).toBe(true);
    expect(report.features.sort()).toEqual(
      [
        "controllable-clock",
        "offline-settlement",
        "refunds",
        "settlement-report",
        "settable-clock",
      ].sort(),
    );
  }, 180_000);

  it.each([
    ["grpc", "2"],
    ["grpc-web", "1.1"],
    ["grpc-web", "2"],
    ["connect", "2"],
  ] as const)(
    "passes a smoke subset over %s on HTTP/%s",
    async (protocol, httpVersion) => {
      const report = await runSuite({
        target: target.url,
        protocol,
        httpVersion,
        cases: allCases,
        run: [
          "offline-wallet/code-pays",
          "reused-code/second-scan-declined",
          "over-limit/confirm-succeeds",
          "double-offline/settles-once",
          "auth-isolation/scan-wrong-key",
          "malformed-input/scan-bad-amount",
        ],
        parallel: 6,
        timeoutMs: 20_000,
      });
      expect(
        report.cases.filter((c) => c.status !== "passed").map((c) => `${c.id}: ${c.message}`),
      ).toEqual([]);
      expect(report.summary.passed).toBe(6);
    },
    60_000,
  );
});

describe("the reference server without test control", () => {
  it("answers every ConformanceService RPC unimplemented [CTRL-1]", async () => {
    const clock = new OffsetClock();
    const issuer = await Issuer.open({
      store: "sqlite::memory:",
      clock,
      masterKey: new Uint8Array(32).fill(7),
      passwordCostN: 2 ** 10,
    });
    const server = await startServer({
      issuer,
      port: 0,
      enableTestControl: false,
      logger: silentLogger,
    });
    try {
      const control = createClient(
        ConformanceService,
        createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
      );
      for (const call of [
        () => control.getCapabilities({}),
        () => control.createAccount({ password: "x" }),
        () => control.createMerchant({ name: "x" }),
        () => control.getLedgerTotal({ currency: "CNY" }),
        () => control.advanceClock({ seconds: 1 }),
        () => control.setClock({ frozen: true }),
      ]) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect(err?.code).toBe(Code.Unimplemented);
      }
    } finally {
      await server.close();
    }
  });
});
