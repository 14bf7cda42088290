// The run as a matrix of configs: what every run exercises ([RPC-3]), what
// the target claims, and how results and known-failing lists name configs.
// Real servers on loopback: connect-node adapters restricted to one
// protocol or codec, as an implementation that serves only those would be.
import { afterEach, describe, expect, it } from "vitest";
import { type Case, type CaseContext, defineCase } from "./case.js";
import { allCases } from "./cases/index.js";
import { CaseFailure } from "./expect.js";
import { listsCase, parseKnownFailing } from "./known-failing.js";
import type { CaseResult, RunReport } from "./result.js";
import {
  configName,
  MANDATORY_CONFIGS,
  OPTIONAL_CONFIG_CASES,
  PRIMARY_CONFIG,
} from "./run-config.js";
import { planConfigs, runSuite } from "./runner.js";
import {
  capabilitiesRoute,
  pingRoute,
  startConnectJsonOnlyServer,
  startGrpcOnlyServer,
  startStubServer,
  type TestServer,
} from "./testing/stub-targets.js";

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(start: () => Promise<TestServer>): Promise<string> {
  const s = await start();
  servers.push(s);
  return s.url;
}
/** Connect and gRPC-Web over HTTP/1.1, both codecs: the mandatory configs and one more. */
const http1Target = () =>
  serve(() =>
    startStubServer((router) => {
      pingRoute(router);
      capabilitiesRoute()(router);
    }),
  );

const pass = (id: string): Case =>
  defineCase({ id, title: id, requirements: ["X-1"], run: async () => {} });
/** Passes over binary protobuf, fails over JSON. */
const failsOverJson = (id: string): Case =>
  defineCase({
    id,
    title: id,
    requirements: ["X-1"],
    run: async (ctx: CaseContext) => {
      if (ctx.codec === "json") throw new CaseFailure("broke over JSON");
    },
  });

const byId = (report: RunReport) =>
  Object.fromEntries(report.cases.map((c) => [c.id, c])) as Record<string, CaseResult>;
const configsOf = (r: CaseResult | undefined) =>
  r?.configs.map((x) => `${x.config} ${x.status}`) ?? [];

describe("configs of a run", () => {
  it("always include Connect on HTTP/1.1 with both codecs, whatever the protocol asked for", () => {
    const names = (o: Parameters<typeof planConfigs>[0]) =>
      planConfigs(o).configs.map(
        (p) => `${configName(p.config)} ${p.mandatory ? "M" : "o"} ${p.cases}`,
      );
    expect(names({})).toEqual(["connect-http1.1-proto M all", "connect-http1.1-json M all"]);
    expect(names({ protocol: "grpc" })).toEqual([
      "connect-http1.1-proto M all",
      "connect-http1.1-json M all",
      "grpc-http2-proto o all",
    ]);
    expect(names({ protocol: "connect", httpVersion: "1.1" })).toHaveLength(2);
    expect(names({ configs: "claimed" })).toEqual([
      "connect-http1.1-proto M all",
      "connect-http1.1-json M all",
      "connect-http2-proto o subset",
      "grpc-web-http1.1-proto o subset",
      "grpc-web-http2-proto o subset",
      "grpc-http2-proto o subset",
    ]);
    expect(names({ configs: "all", fullMatrix: true }).at(-1)).toBe("grpc-http2-proto o all");
    // Only a library caller can leave a mandatory config out, and then the run cannot pass.
    expect(planConfigs({ configs: [PRIMARY_CONFIG] }).unexercisedMandatory).toEqual([
      "connect-http1.1-json",
    ]);
    expect(planConfigs({ configs: MANDATORY_CONFIGS }).unexercisedMandatory).toEqual([]);
  });

  it("run the optional-config subset from the catalog only", () => {
    const ids = new Set(allCases.map((c) => c.id));
    expect(OPTIONAL_CONFIG_CASES.filter((id) => !ids.has(id))).toEqual([]);
  });
});

describe("a run against targets that do not serve the mandatory configs", () => {
  it("a gRPC-only target cannot pass: both [RPC-3] checks fail, the cases run over gRPC", async () => {
    const target = await serve(() => startGrpcOnlyServer());
    const report = await runSuite({
      target,
      configs: "claimed",
      cases: [pass("a/one"), pass(OPTIONAL_CONFIG_CASES[0]!)],
      // Not even a known-failing entry excuses a mandatory protocol.
      knownFailing: parseKnownFailing("protocols/*\n"),
    });
    expect(report.targetProblem).toBeUndefined();
    expect(report.ok).toBe(false);
    expect(report.protocol).toBe("grpc");
    const r = byId(report);
    for (const name of ["connect-http1.1-proto", "connect-http1.1-json"]) {
      const check = r[`protocols/${name}`]!;
      expect(check.status).toBe("failed");
      expect(check.blocking).toBe(true);
      expect(check.requirements).toEqual(["RPC-3"]);
      expect(check.message).toMatch(
        /^the target does not serve Connect over HTTP\/1\.1, (binary protobuf|JSON) codec \(.+\): \[RPC-3\] makes it mandatory, so no case could run on it and the run cannot pass$/,
      );
    }
    expect(r["protocols/grpc-http2-proto"]!.status).toBe("passed");
    expect(r["protocols/grpc-http2-proto"]!.requirements).toEqual(["RPC-4"]);
    // Unclaimed optional configs get no check in a "claimed" run.
    expect(r["protocols/grpc-web-http1.1-proto"]).toBeUndefined();
    expect(report.configs.filter((c) => c.served).map((c) => c.name)).toEqual(["grpc-http2-proto"]);
    // No mandatory config served: every case runs on what the target serves.
    expect(report.configs.find((c) => c.served)!.cases).toBe("all");
    expect(configsOf(r[OPTIONAL_CONFIG_CASES[0]!])).toEqual(["grpc-http2-proto passed"]);
    expect(configsOf(r["a/one"])).toEqual(["grpc-http2-proto passed"]);
    expect(report.summary.blockingFailures).toBe(2);
  });

  it("a gRPC-only target asked only for the mandatory configs: no case runs, and the run fails", async () => {
    const target = await serve(() => startGrpcOnlyServer());
    const report = await runSuite({ target, cases: [pass("a/one")] });
    expect(report.targetProblem).toBeUndefined();
    expect(report.ok).toBe(false);
    expect(report.cases.map((c) => `${c.id} ${c.status}`)).toEqual([
      "protocols/connect-http1.1-proto failed",
      "protocols/connect-http1.1-json failed",
      "a/one skipped",
    ]);
  });

  it("a Connect target without the binary codec fails [RPC-3]; its cases run over JSON", async () => {
    const target = await serve(() => startConnectJsonOnlyServer());
    const report = await runSuite({ target, cases: [pass("a/one")] });
    const r = byId(report);
    expect(report.ok).toBe(false);
    expect(r["protocols/connect-http1.1-proto"]!.status).toBe("failed");
    expect(r["protocols/connect-http1.1-proto"]!.message).toMatch(/binary protobuf codec/);
    expect(r["protocols/connect-http1.1-json"]!.status).toBe("passed");
    expect(configsOf(r["a/one"])).toEqual(["connect-http1.1-json passed"]);
  });
});

describe("a run over several configs", () => {
  it("finds the configs the target claims and runs every case on the mandatory ones", async () => {
    const target = await http1Target();
    const report = await runSuite({ target, configs: "claimed", cases: [pass("a/one")] });
    expect(report.ok).toBe(true);
    expect(report.configs.map((c) => `${c.name} ${c.served ? "served" : "-"} ${c.cases}`)).toEqual([
      "connect-http1.1-proto served all",
      "connect-http1.1-json served all",
      "connect-http2-proto - none",
      "grpc-web-http1.1-proto served subset",
      "grpc-web-http2-proto - none",
      "grpc-http2-proto - none",
    ]);
    expect(configsOf(byId(report)["a/one"])).toEqual([
      "connect-http1.1-proto passed",
      "connect-http1.1-json passed",
    ]);
  });

  it("with fullMatrix runs every case on every served config; with 'all' an unserved one fails as recommended", async () => {
    const target = await http1Target();
    const report = await runSuite({
      target,
      configs: "all",
      fullMatrix: true,
      cases: [pass("a/one")],
    });
    const r = byId(report);
    expect(configsOf(r["a/one"])).toEqual([
      "connect-http1.1-proto passed",
      "connect-http1.1-json passed",
      "grpc-web-http1.1-proto passed",
    ]);
    const grpc = r["protocols/grpc-http2-proto"]!;
    expect(grpc.status).toBe("failed");
    expect(grpc.severity).toBe("recommended");
    expect(grpc.blocking).toBe(false);
    expect(grpc.message).toMatch(/which \[RPC-4\] recommends$/);
    expect(report.ok).toBe(true);
    const strict = await runSuite({ target, configs: "all", strict: true, cases: [] });
    expect(strict.ok).toBe(false);
  });

  it("names the config a case failed on, and a known-failing entry may name it", async () => {
    const target = await http1Target();
    const cases = [failsOverJson("a/codec")];
    const plain = await runSuite({ target, cases });
    const r = byId(plain)["a/codec"]!;
    expect(r.status).toBe("failed");
    expect(r.message).toBe("connect-http1.1-json: broke over JSON");
    expect(configsOf(r)).toEqual(["connect-http1.1-proto passed", "connect-http1.1-json failed"]);
    expect(plain.ok).toBe(false);

    const listed = await runSuite({
      target,
      cases,
      knownFailing: parseKnownFailing("a/codec@*-json\nb/*@grpc-*\n"),
    });
    expect(byId(listed)["a/codec"]!.status).toBe("known-failing");
    expect(listed.ok).toBe(true);
    expect(listed.unmatchedKnownFailing).toEqual(["b/*@grpc-*"]);

    // Listed on every config, it passes on one: stale there.
    const everywhere = await runSuite({
      target,
      cases,
      knownFailing: parseKnownFailing("a/codec\n"),
    });
    const stale = byId(everywhere)["a/codec"]!;
    expect(stale.status).toBe("failed");
    expect(stale.staleKnownFailing).toBe(true);
    expect(stale.message).toMatch(/^connect-http1\.1-proto: stale known-failing entry/);
    expect(everywhere.ok).toBe(false);
  });

  it("a run that leaves out a mandatory config cannot pass", async () => {
    const target = await http1Target();
    const report = await runSuite({ target, configs: [PRIMARY_CONFIG], cases: [pass("a/one")] });
    expect(report.summary.blockingFailures).toBe(0);
    expect(report.unexercisedMandatory).toEqual(["connect-http1.1-json"]);
    expect(report.ok).toBe(false);
    expect(configsOf(byId(report)["a/one"])).toEqual(["connect-http1.1-proto passed"]);
  });
});

describe("known-failing patterns with a config", () => {
  it("match the case glob, and the config glob after @", () => {
    expect(listsCase("a/x", "a/x", "grpc-http2-proto")).toBe(true);
    expect(listsCase("a/x@grpc-*", "a/x", "grpc-http2-proto")).toBe(true);
    expect(listsCase("a/x@grpc-*", "a/x", "grpc-web-http1.1-proto")).toBe(true);
    expect(listsCase("a/x@grpc-http*", "a/x", "grpc-web-http1.1-proto")).toBe(false);
    expect(listsCase("**@*-json", "a/x", "connect-http1.1-json")).toBe(true);
    expect(listsCase("a@connect-http1.1-json", "a/x", "connect-http1.1-json")).toBe(true);
    expect(listsCase("a/x@", "a/x", "connect-http1.1-json")).toBe(false);
    expect(listsCase("a/y@*", "a/x", "connect-http1.1-json")).toBe(false);
  });
});
