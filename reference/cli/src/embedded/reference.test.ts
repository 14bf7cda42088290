import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  ALL_CONFIGS,
  allCases,
  configName,
  MANDATORY_CONFIGS,
  OPTIONAL_CONFIG_CASES,
  readKnownFailing,
  runSuite,
} from "@paycode/conformance";
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

  it("passes every case on every config it serves, all of them (known failures listed, none stale)", async () => {
    const report = await runSuite({
      target: target.url,
      configs: "claimed",
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
    // Every case, plus one protocols/ check per config.
    expect(report.configs.map((c) => `${c.name} ${c.served}`)).toEqual(
      ALL_CONFIGS.map((c) => `${configName(c)} true`),
    );
    expect(report.summary.passed + report.summary.knownFailing).toBe(
      allCases.length + ALL_CONFIGS.length,
    );
    // The whole catalog on the mandatory configs, the subset on every other one.
    for (const c of report.cases.filter((r) => !r.id.startsWith("protocols/"))) {
      const expected = OPTIONAL_CONFIG_CASES.includes(c.id) ? ALL_CONFIGS : MANDATORY_CONFIGS;
      expect(
        c.configs.map((x) => x.config),
        c.id,
      ).toEqual(expected.map(configName));
    }
    expect(report.ok).toBe(true);
    expect(report.features.sort()).toEqual(
      [
        "controllable-clock",
        "offline-settlement",
        "refunds",
        "settlement-report",
        "settable-clock",
        "key-rotation",
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
      const cases = report.cases.filter((c) => !c.id.startsWith("protocols/"));
      expect(cases).toHaveLength(6);
      // The protocol asked for, and the mandatory configs whatever is asked ([RPC-3]).
      for (const c of cases) {
        expect(c.configs.map((x) => x.config)).toEqual(
          [...MANDATORY_CONFIGS.map(configName), `${protocol}-http${httpVersion}-proto`].filter(
            (n, i, all) => all.indexOf(n) === i,
          ),
        );
      }
      expect(report.ok).toBe(true);
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
