import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { ConformanceService, HealthService } from "@paycode/protocol/v1";
import { afterEach, describe, expect, it } from "vitest";
import { type Case, type CaseContext, defineCase } from "./case.js";
import { allCases } from "./cases/index.js";
import { CaseFailure } from "./expect.js";
import { globToRegExp, matchesGlob } from "./glob.js";
import { parseKnownFailing } from "./known-failing.js";
import { JsonFileReporter } from "./report/json.js";
import type { RunReport } from "./result.js";
import { type RunListener, runSuite, selectCases } from "./runner.js";
import {
  capabilitiesRoute,
  closedPortUrl,
  pingRoute,
  startConnectOnlyServer,
  startGarbageServer,
  startHangingServer,
  startServerWithoutTestControl,
  startStubServer,
  startWebServer,
  type TestServer,
} from "./testing/stub-targets.js";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A target that claims `features` and answers Ping, and nothing else. */
async function stubTarget(features: string[]): Promise<string> {
  const s = await startStubServer((router) => {
    capabilitiesRoute(features)(router);
    pingRoute(router);
  });
  servers.push(s);
  return s.url;
}

/** The results of the cases, without the protocols/ checks the runner adds. */
const caseResults = (report: RunReport) =>
  report.cases.filter((c) => !c.id.startsWith("protocols/"));

const pass = (id: string, extra: Partial<Case> = {}): Case =>
  defineCase({ id, title: id, requirements: ["X-1"], run: async () => {}, ...extra });
const fail = (id: string, extra: Partial<Case> = {}): Case =>
  defineCase({
    id,
    title: id,
    requirements: ["X-1"],
    run: async () => {
      throw new CaseFailure(`${id} broke`);
    },
    ...extra,
  });

describe("globs", () => {
  it("match one part with *, any parts with **, and whole families by name", () => {
    expect(matchesGlob("reused-code/second-scan", "reused-code/*")).toBe(true);
    expect(matchesGlob("reused-code/second-scan", "*")).toBe(false);
    expect(matchesGlob("reused-code/second-scan", "**")).toBe(true);
    expect(matchesGlob("reused-code/second-scan", "**/second-*")).toBe(true);
    expect(matchesGlob("reused-code/second-scan", "reused-code")).toBe(true);
    expect(matchesGlob("reused-code-x/a", "reused-code")).toBe(false);
    expect(matchesGlob("a/b.c", "a/b?c")).toBe(true);
    expect(globToRegExp("a.b/*").test("aXb/c")).toBe(false);
  });

  it("select cases with --run and --skip", () => {
    const cases = [pass("a/one"), pass("a/two"), pass("b/one")];
    expect(selectCases(cases, ["a/*"], ["a/two"]).map((c) => c.id)).toEqual(["a/one"]);
    expect(selectCases(cases, [], ["**/one"]).map((c) => c.id)).toEqual(["a/two"]);
  });

  it("catalog ids are unique kebab-case family/name", () => {
    const ids = allCases.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9-]+\/[a-z0-9-]+$/);
  });
});

describe("known-failing lists", () => {
  it("parse ids and globs, ignoring comments and blank lines", () => {
    const k = parseKnownFailing("# header\n\na/one  # flaky on X\n  b/*\n#c/two\n");
    expect(k).toEqual([
      { pattern: "a/one", line: 3 },
      { pattern: "b/*", line: 4 },
    ]);
  });

  it("turn a listed failure into known-failing and a listed pass into a stale failure", async () => {
    const target = await stubTarget([]);
    const report = await runSuite({
      target,
      cases: [
        fail("a/broken"),
        pass("a/fixed"),
        pass("a/fine"),
        fail("b/recommended", { severity: "recommended" }),
      ],
      knownFailing: parseKnownFailing("a/broken\na/fixed\nz/none\n"),
    });
    const by = Object.fromEntries(report.cases.map((c) => [c.id, c]));
    expect(by["a/broken"]!.status).toBe("known-failing");
    expect(by["a/broken"]!.message).toBe("a/broken broke");
    expect(by["a/fixed"]!.status).toBe("failed");
    expect(by["a/fixed"]!.staleKnownFailing).toBe(true);
    expect(by["a/fixed"]!.message).toMatch(/stale known-failing entry/);
    expect(by["a/fine"]!.status).toBe("passed");
    expect(by["b/recommended"]!.status).toBe("failed");
    expect(by["b/recommended"]!.blocking).toBe(false);
    // Plus the two passing protocols/ checks of the mandatory configs.
    expect(report.summary).toMatchObject({
      total: 6,
      passed: 3,
      failed: 2,
      knownFailing: 1,
      staleKnownFailing: 1,
      blockingFailures: 1,
    });
    expect(report.unmatchedKnownFailing).toEqual(["z/none"]);
    expect(report.ok).toBe(false);
  });

  it("pass a run whose only failures are known or recommended; --strict makes recommended count", async () => {
    const target = await stubTarget([]);
    const cases = [fail("a/broken"), pass("a/fine"), fail("b/soft", { severity: "recommended" })];
    const lenient = await runSuite({ target, cases, knownFailing: parseKnownFailing("a/*\n") });
    expect(lenient.cases.find((c) => c.id === "a/fine")!.status).toBe("failed"); // a/* also lists a/fine: stale
    const ok = await runSuite({ target, cases, knownFailing: parseKnownFailing("a/broken\n") });
    expect(ok.ok).toBe(true);
    const strict = await runSuite({
      target,
      cases,
      knownFailing: parseKnownFailing("a/broken\n"),
      strict: true,
    });
    expect(strict.ok).toBe(false);
    expect(strict.summary.blockingFailures).toBe(1);
  });
});

describe("the runner", () => {
  it("skips cases needing an unclaimed feature and says which", async () => {
    const target = await stubTarget(["refunds"]);
    const report = await runSuite({
      target,
      cases: [
        pass("a/refunds", { features: ["refunds"] }),
        pass("a/clock", { features: ["controllable-clock", "refunds"] }),
      ],
    });
    expect(report.cases.find((c) => c.id === "a/refunds")!.status).toBe("passed");
    const skipped = report.cases.find((c) => c.id === "a/clock")!;
    expect(skipped.status).toBe("skipped");
    expect(skipped.message).toBe('target does not claim feature "controllable-clock"');
    expect(report.ok).toBe(true);
  });

  it("turns thrown errors of any kind into failed cases with a message", async () => {
    const target = await stubTarget([]);
    const report = await runSuite({
      target,
      cases: [
        defineCase({
          id: "a/type-error",
          title: "t",
          requirements: ["X-1"],
          run: async () => {
            (undefined as unknown as { x: number }).x;
          },
        }),
        defineCase({
          id: "a/string",
          title: "t",
          requirements: ["X-1"],
          run: async () => {
            throw "a string";
          },
        }),
        defineCase({
          id: "a/rpc",
          title: "t",
          requirements: ["X-1"],
          run: async (ctx: CaseContext) => {
            await ctx.fixtures.merchant();
          },
        }),
      ],
    });
    const msg = Object.fromEntries(report.cases.map((c) => [c.id, c.message]));
    expect(msg["a/type-error"]).toMatch(/^unexpected TypeError: /);
    expect(msg["a/string"]).toBe("unexpected throw: a string");
    expect(msg["a/rpc"]).toMatch(/^ConformanceService\.CreateMerchant failed: \[unimplemented\]/);
    expect(report.summary.failed).toBe(3);
  });

  it("runs exclusive cases alone and others in parallel", async () => {
    const target = await stubTarget([]);
    let running = 0;
    let maxShared = 0;
    let exclusiveSawOthers = false;
    const shared = (id: string) =>
      pass(id, {
        run: async () => {
          running++;
          maxShared = Math.max(maxShared, running);
          await new Promise((r) => setTimeout(r, 30));
          running--;
        },
      });
    const exclusive = pass("x/alone", {
      exclusive: true,
      run: async () => {
        if (running > 0) exclusiveSawOthers = true;
        running++;
        await new Promise((r) => setTimeout(r, 30));
        if (running > 1) exclusiveSawOthers = true;
        running--;
      },
    });
    await runSuite({
      target,
      cases: [shared("s/1"), shared("s/2"), exclusive, shared("s/3"), shared("s/4")],
      parallel: 4,
    });
    expect(exclusiveSawOthers).toBe(false);
    expect(maxShared).toBeGreaterThan(1);
  });

  it("keeps partial results when interrupted and writes them incrementally", async () => {
    const target = await stubTarget([]);
    const dir = mkdtempSync(join(tmpdir(), "pc-runner-"));
    const file = join(dir, "r.json");
    const ac = new AbortController();
    const slow = (id: string) =>
      pass(id, {
        run: (ctx: CaseContext) =>
          new Promise((_, rej) =>
            ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason)),
          ),
      });
    const cases = [pass("a/quick"), slow("a/slow-1"), slow("a/slow-2"), pass("a/never")];
    const jsonReporter = new JsonFileReporter(file);
    const p = runSuite({
      target,
      cases,
      parallel: 2,
      signal: ac.signal,
      listener: {
        onCaseEnd: (r, soFar) => {
          jsonReporter.onCaseEnd(r, soFar);
          if (r.id === "a/quick") setTimeout(() => ac.abort(), 50);
        },
      },
    });
    const report = await p;
    expect(report.interrupted).toBe(true);
    expect(report.ok).toBe(false);
    const ids = report.cases.map((c) => c.id);
    expect(ids).toContain("a/quick");
    expect(ids).not.toContain("a/never");
    const slowResult = report.cases.find((c) => c.id === "a/slow-1")!;
    expect(slowResult.status).toBe("failed");
    expect(slowResult.message).toMatch(/^run interrupted/);
    const onDisk = JSON.parse(readFileSync(file, "utf8"));
    expect(onDisk.cases.length).toBeGreaterThanOrEqual(1);
  });
});

describe("hostile targets", () => {
  const sample = () =>
    selectCases(allCases, [
      "offline-wallet/code-pays",
      "reused-code/*",
      "malformed-input/scan-bad-amount",
    ]);

  /** Runs `sample()` and records every listener call: none may happen for a refused target. */
  async function refused(
    target: string,
    extra: { timeoutMs?: number } & Partial<Parameters<typeof runSuite>[0]> = {},
  ) {
    const calls: string[] = [];
    const listener: RunListener = {
      onStart: () => calls.push("start"),
      onCaseStart: (c) => calls.push(`case ${c.id}`),
      onCaseEnd: (r) => calls.push(`end ${r.id}`),
      onEnd: () => calls.push("end"),
    };
    let caseRan = false;
    const cases = sample().map((c) => ({
      ...c,
      run: async () => {
        caseRan = true;
      },
    }));
    const report = await runSuite({ target, cases, listener, timeoutMs: 5_000, ...extra });
    expect(caseRan).toBe(false);
    expect(calls).toEqual([]);
    expect(report.cases).toEqual([]);
    expect(report.summary.total).toBe(0);
    expect(report.ok).toBe(false);
    return report as RunReport & { targetProblem: NonNullable<RunReport["targetProblem"]> };
  }

  it("a target that never answers is unreachable, after one probe timeout, with no case run", async () => {
    const s = await startHangingServer();
    servers.push(s);
    const t0 = Date.now();
    const report = await refused(s.url, { timeoutMs: 400 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(report.targetProblem.kind).toBe("unreachable");
    expect(report.targetProblem.message).toBe(
      `${s.url} is unreachable: no answer to HealthService.Ping over Connect over HTTP/1.1 within 400 ms`,
    );
    expect(s.paths()).toEqual(["/paycode.v1.HealthService/Ping"]);
  });

  it("a target that answers garbage is not a Paycode server", async () => {
    const s = await startGarbageServer();
    servers.push(s);
    const report = await refused(s.url);
    expect(report.targetProblem.kind).toBe("not-paycode");
    expect(report.targetProblem.message).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+ is not a Paycode server: it accepts connections but HealthService\.Ping fails \(\[\w+\] .*\); check the URL/,
    );
    // Only probes: Ping over each protocol, never test control.
    expect(s.paths().every((p) => p === "/paycode.v1.HealthService/Ping")).toBe(true);
  });

  it("an ordinary web server (404 for everything) is not a Paycode server", async () => {
    const s = await startWebServer();
    servers.push(s);
    const report = await refused(s.url);
    expect(report.targetProblem.kind).toBe("not-paycode");
    expect(report.targetProblem.message).toMatch(
      /HealthService\.Ping fails \(\[unimplemented\] HTTP 404\)/,
    );
  });

  it("a target that is not listening is unreachable: connection refused", async () => {
    const url = await closedPortUrl();
    const report = await refused(url);
    expect(report.targetProblem).toEqual({
      kind: "unreachable",
      message: `${url} is unreachable: connection refused by ${url.slice("http://".length).replace(/:/, ":")}`,
    });
  });

  it("a host that does not resolve is unreachable", async () => {
    const report = await refused("http://no-such-host.invalid:8080");
    expect(report.targetProblem.kind).toBe("unreachable");
    expect(report.targetProblem.message).toMatch(
      /unreachable: cannot resolve host no-such-host\.invalid$/,
    );
  });

  it("a Paycode server without test control is refused as such", async () => {
    const s = await startServerWithoutTestControl();
    servers.push(s);
    const report = await refused(s.url);
    expect(report.targetProblem.kind).toBe("no-test-control");
    expect(report.targetProblem.message).toBe(
      `${s.url} is a Paycode server without test control: ConformanceService.GetCapabilities failed ([unimplemented] HTTP 404); run it with test control enabled (spec §11; the reference: paycode serve --enable-test-control)`,
    );
    expect(s.paths()).toEqual([
      "/paycode.v1.HealthService/Ping",
      "/paycode.v1.ConformanceService/GetCapabilities",
    ]);
  });

  it.each([
    ["grpc", "2"],
    ["grpc-web", "1.1"],
    ["connect", "2"],
  ] as const)(
    "a target that does not speak %s over HTTP/%s but Connect over HTTP/1.1 is told so",
    async (protocol, httpVersion) => {
      const s = await startConnectOnlyServer();
      servers.push(s);
      const report = await refused(s.url, { protocol, httpVersion });
      expect(report.targetProblem.kind).toBe("wrong-protocol");
      expect(report.targetProblem.message).toMatch(
        /does not speak .* over HTTP\/(1\.1|2) \(HealthService\.Ping: .*\) but answers over Connect over HTTP\/1\.1: use --protocol connect --http-version 1\.1, or serve /,
      );
    },
  );

  it("a target whose Ping answers a deliberate error (unauthenticated) is tested, and the cases judge it", async () => {
    const s = await startStubServer((router) => {
      capabilitiesRoute()(router);
      router.service(HealthService, {
        ping: () => {
          throw new ConnectError("credential required", Code.Unauthenticated);
        },
      });
    });
    servers.push(s);
    const report = await runSuite({ target: s.url, cases: [pass("a/one")] });
    expect(report.targetProblem).toBeUndefined();
    expect(caseResults(report).map((c) => c.status)).toEqual(["passed"]);
  });

  it.each([
    ["ftp://nowhere", /must be an http:\/\/ or https:\/\/ URL/],
    ["127.0.0.1:8080", /is not a URL; include the scheme, e.g\. http:\/\/127\.0\.0\.1:8080/],
    ["localhost:8080", /include the scheme, e\.g\. http:\/\/localhost:8080/],
    ["not a url", /is not a URL/],
  ])(
    "a target with an unusable URL (%s) is refused before any connection",
    async (target, message) => {
      const report = await refused(target);
      expect(report.targetProblem.kind).toBe("invalid-target");
      expect(report.targetProblem.message).toMatch(message);
    },
  );

  it("a target that answers with empty messages fails with what was missing", async () => {
    const s = await startStubServer((router) => {
      pingRoute(router);
      router.service(ConformanceService, {
        getCapabilities: () => ({ implementation: "liar", features: [] }),
        createAccount: () => ({}),
        createMerchant: () => ({ merchantId: "m", apiKey: "k" }),
      });
    });
    servers.push(s);
    const report = await runSuite({
      target: s.url,
      cases: selectCases(allCases, ["offline-wallet/code-pays"]),
    });
    const [result] = caseResults(report);
    expect(result!.status).toBe("failed");
    expect(result!.message).toBe("ConformanceService.CreateAccount returned no account_id");
  });
});
