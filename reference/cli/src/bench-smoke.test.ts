// Smoke test of the bench commands: they run for about a second and write
// valid reports. No timing assertion anywhere: speed is not tested here.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoadReport, MicroReport, ScanLayersReport } from "@paycode/bench";
import { systemClock } from "@paycode/protocol";
import type { Store } from "@paycode/server";
import { Issuer, openStore, type PaycodeServer, silentLogger, startServer } from "@paycode/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgram } from "./main.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "paycode-bench-smoke-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function paycode(...args: string[]): Promise<void> {
  const argv = ["node", "paycode", ...args];
  await (await createProgram(argv)).parseAsync(argv);
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

describe("bench micro", () => {
  it("runs selected tasks and writes a JSON report with ratios to the floors", async () => {
    const out = join(dir, "micro.json");
    await paycode(
      "bench",
      "micro",
      "--time",
      "100",
      "--tasks",
      "hmac,online-verify-valid,offline,ed25519",
      "--json",
      out,
      "--quiet",
    );
    const r = readJson<MicroReport>(out);
    expect(r.kind).toBe("paycode-bench-micro");
    expect(r.machine.cores).toBeGreaterThan(0);
    expect(typeof r.machine.cpuModel).toBe("string");
    expect(r.machine.nodeVersion).toBe(process.version);
    expect(typeof r.machine.opensslVersion).toBe("string");
    const ids = r.tasks.map((t) => t.id);
    expect(ids).toEqual([
      "floor.hmac-sha256",
      "floor.ed25519-verify",
      "ours.online-verify-valid",
      "ours.offline-verify",
    ]);
    for (const t of r.tasks) {
      expect(t.opsPerSec).toBeGreaterThan(0);
      expect(t.samples).toBeGreaterThan(0);
      expect(Number.isFinite(t.p50Us)).toBe(true);
      expect(Number.isFinite(t.p99Us)).toBe(true);
    }
    const online = r.tasks.find((t) => t.id === "ours.online-verify-valid")!;
    expect(online.floor).toBe("floor.hmac-sha256");
    expect(online.floorRatio).toBeGreaterThan(0);
    const offline = r.tasks.find((t) => t.id === "ours.offline-verify")!;
    expect(offline.floor).toBe("floor.ed25519-verify");
    expect(offline.floorRatio).toBeGreaterThan(0);
  });
});

describe("bench seed-wallets + load", () => {
  let store: Store;
  let issuer: Issuer;
  let server: PaycodeServer;
  let storeUrl: string;

  beforeAll(async () => {
    storeUrl = `sqlite:${join(dir, "issuer.db")}`;
    // Seed first: it creates the store and its development master key,
    // which the server below then uses, as `paycode serve` would.
    await paycode(
      "bench",
      "seed-wallets",
      "--store",
      storeUrl,
      "--count",
      "40",
      "--batch",
      "16",
      "--out",
      join(dir, "wallets.txt"),
    );
    const masterKey = new Uint8Array(
      Buffer.from(readFileSync(join(dir, "issuer.db.master-key"), "utf8").trim(), "hex"),
    );
    store = await openStore(storeUrl);
    issuer = await Issuer.open({ store, clock: systemClock, masterKey, passwordCostN: 2 ** 10 });
    server = await startServer({
      issuer,
      port: 0,
      enableTestControl: true,
      logger: silentLogger,
    });
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  function checkPhase(p: LoadReport["phases"]["work"] | undefined): void {
    expect(p).toBeDefined();
    expect(p!.ok).toBeGreaterThan(0);
    for (const k of ["p50Us", "p90Us", "p99Us", "p999Us", "maxUs"] as const) {
      expect(p!.latency[k]).toBeGreaterThan(0);
    }
    expect(p!.throughput).toBeGreaterThan(0);
    expect(p!.curve.length).toBeGreaterThan(10);
    expect(typeof p!.histogram).toBe("string");
  }

  it("provisions over RPC, drives Ping, Scan and bare HTTP open-loop, writes JSON and SVG", async () => {
    const json = join(dir, "load.json");
    const svg = join(dir, "load.svg");
    await paycode(
      "bench",
      "load",
      "--target",
      server.url,
      "--rate",
      "100",
      "--duration",
      "1",
      "--warmup",
      "0",
      "--floor-http",
      "--store-label",
      "sqlite",
      "--json",
      json,
      "--svg",
      svg,
      "--quiet",
    );
    const r = readJson<LoadReport>(json);
    expect(r.kind).toBe("paycode-bench-load");
    expect(r.storeLabel).toBe("sqlite");
    expect(r.options.mode).toMatchObject({ kind: "open", rate: 100 });
    expect(r.setup.walletSource).toBe("rpc");
    expect(r.setup.walletsUsed).toBeGreaterThan(0);
    checkPhase(r.phases.ping);
    checkPhase(r.phases.work);
    checkPhase(r.phases.bareHttp);
    expect(r.phases.work.sendLag).toBeDefined();
    expect(r.phases.work.errors).toEqual({});
    expect(r.outcomes["SUCCEEDED"]).toBeGreaterThan(0);
    expect(r.ratios.workToPingThroughput).toBeGreaterThan(0);
    expect(r.ratios.pingToBareThroughput).toBeGreaterThan(0);
    expect(readFileSync(svg, "utf8")).toMatch(/^<svg [^>]*>[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  });

  it("drives Scan closed-loop with wallets from seed-wallets", async () => {
    const json = join(dir, "load-file.json");
    await paycode(
      "bench",
      "load",
      "--target",
      server.url,
      "--concurrency",
      "2",
      "--expected-rate",
      "200",
      "--duration",
      "1",
      "--warmup",
      "0",
      "--wallet-file",
      join(dir, "wallets.txt"),
      "--http",
      "1.1",
      "--json",
      json,
      "--quiet",
    );
    const r = readJson<LoadReport>(json);
    expect(r.options.mode).toEqual({ kind: "closed", concurrency: 2 });
    expect(r.setup.walletSource).toBe("file");
    expect(r.setup.walletPopulation).toBe(40);
    checkPhase(r.phases.ping);
    checkPhase(r.phases.work);
    expect(r.phases.work.errors).toEqual({});
    expect(r.outcomes["SUCCEEDED"]).toBeGreaterThan(0);
  });
});

describe("bench scan-layers", () => {
  it("times the store and the issuer layer for each group size, every Scan succeeding", async () => {
    const out = join(dir, "layers.json");
    await paycode(
      "bench",
      "scan-layers",
      "--store",
      `sqlite:${join(dir, "layers.db")}`,
      "--wallets",
      "60",
      "--scans",
      "40",
      "--groups",
      "1,4",
      "--json",
      out,
    );
    const r = readJson<ScanLayersReport>(out);
    expect(r.kind).toBe("paycode-bench-scan-layers");
    expect(r.store).toBe("sqlite");
    expect(r.results.map((x) => `${x.layer}/${x.group}/${x.scans}`)).toEqual([
      "store/1/40",
      "store/4/40",
      "issuer/1/40",
      "issuer/4/40",
    ]);
    for (const x of r.results) {
      expect(x.scansPerSec).toBeGreaterThan(0);
      expect(x.cpuUsPerScan).toBeGreaterThan(0);
    }
  });

  it("refuses a group size it cannot submit as one commit group", async () => {
    await expect(
      paycode("bench", "scan-layers", "--store", `sqlite:${join(dir, "x.db")}`, "--groups", "0,4"),
    ).rejects.toThrow(/integers from 1 to 64/);
  });
});
