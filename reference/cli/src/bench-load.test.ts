// End-to-end test of `paycode bench load` against the reference server:
// every protocol and every work kind with test control, every work kind
// without it (fed by a credentials file made beforehand with `bench
// provision`), and the compare mode against two servers. Tiny loads for
// about half a second each; only shapes and success are checked, never
// timings.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CompareReport, LoadReport } from "@paycode/bench";
import { systemClock } from "@paycode/protocol";
import {
  Issuer,
  openStore,
  type PaycodeServer,
  type Store,
  silentLogger,
  startServer,
} from "@paycode/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgram } from "./main.js";

let dir: string;
const stores: Store[] = [];
const servers: PaycodeServer[] = [];
/** A and B: test control on; C: A's issuer without test control. */
let urlA: string;
let urlB: string;
let urlC: string;

async function issuerAt(file: string): Promise<Issuer> {
  const store = await openStore(`sqlite:${file}`);
  stores.push(store);
  return Issuer.open({
    store,
    clock: systemClock,
    masterKey: new Uint8Array(randomBytes(32)),
    passwordCostN: 2 ** 10,
  });
}

async function serve(issuer: Issuer, enableTestControl: boolean): Promise<string> {
  const s = await startServer({ issuer, port: 0, enableTestControl, logger: silentLogger });
  servers.push(s);
  return s.url;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "paycode-bench-load-"));
  const a = await issuerAt(join(dir, "a.db"));
  urlA = await serve(a, true);
  urlC = await serve(a, false);
  urlB = await serve(await issuerAt(join(dir, "b.db")), true);
  // The operator's step, made beforehand: keys and wallets in one file.
  await paycode(
    "bench",
    "provision",
    "--target",
    urlA,
    "--wallets",
    "6",
    "--out",
    join(dir, "creds.json"),
  );
});

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function paycode(...args: string[]): Promise<void> {
  const argv = ["node", "paycode", ...args];
  await (await createProgram(argv)).parseAsync(argv);
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

const TINY = ["--rate", "30", "--duration", "0.5", "--warmup", "0", "--batch-size", "5", "--quiet"];

const EXPECTED: Record<string, string[]> = {
  "scan-online": ["SUCCEEDED"],
  "scan-offline": ["SUCCEEDED"],
  "upload-batch": ["SETTLED"],
  decline: ["DECLINED:CODE_INVALID", "DECLINED:CODE_EXPIRED"],
};

function checkReport(r: LoadReport, work: string): void {
  expect(r.kind).toBe("paycode-bench-load");
  expect(r.version).toBe(2);
  expect(r.work.kind).toBe(work);
  expect(r.phases.ping!.ok).toBeGreaterThan(0);
  expect(r.phases.ping!.errors).toEqual({});
  expect(r.phases.work.ok).toBeGreaterThan(0);
  expect(r.phases.work.errors).toEqual({});
  expect(r.phases.work.latency.p50Us).toBeGreaterThan(0);
  expect(r.ratios.workToPingThroughput).toBeGreaterThan(0);
  // Every outcome is the intended one (declines for decline).
  expect(Object.keys(r.outcomes).length).toBeGreaterThan(0);
  for (const k of Object.keys(r.outcomes)) expect(EXPECTED[work]).toContain(k);
  expect(r.setup.warnings).toEqual([]);
  if (work === "upload-batch") {
    expect(r.work.itemsPerCall).toBe(5);
    expect(r.itemsPerSecond).toBeGreaterThan(0);
  }
}

const WORKS = ["scan-online", "scan-offline", "upload-batch", "decline"];
const PROTOCOLS: [string, string, string][] = [
  ["connect", "2", "raw"],
  ["grpc", "2", "sdk"],
  ["grpc-web", "1.1", "sdk"],
];

describe("bench load with test control", () => {
  for (const [protocol, http, client] of PROTOCOLS) {
    for (const work of WORKS) {
      it(`${work} over ${protocol} HTTP/${http}`, async () => {
        const json = join(dir, `tc-${protocol}-${work}.json`);
        await paycode(
          "bench",
          "load",
          "--target",
          urlA,
          "--work",
          work,
          "--protocol",
          protocol,
          "--http-version",
          http,
          "--json",
          json,
          ...TINY,
        );
        const r = readJson<LoadReport>(json);
        checkReport(r, work);
        expect(r.testControl).toBe(true);
        expect(r.options.protocol).toBe(protocol);
        expect(r.client.kind).toBe(client);
        expect(r.setup.walletSource).toBe("rpc");
      });
    }
  }
});

describe("bench load without test control, from a credentials file", () => {
  const rotation: [string, string][] = [
    ["connect", "1.1"],
    ["grpc", "2"],
    ["grpc-web", "2"],
    ["connect", "2"],
  ];
  WORKS.forEach((work, i) => {
    const [protocol, http] = rotation[i]!;
    it(`${work} over ${protocol} HTTP/${http}`, async () => {
      const json = join(dir, `creds-${work}.json`);
      await paycode(
        "bench",
        "load",
        "--target",
        urlC,
        "--credentials",
        join(dir, "creds.json"),
        "--work",
        work,
        "--protocol",
        protocol,
        "--http-version",
        http,
        "--json",
        json,
        ...TINY,
      );
      const r = readJson<LoadReport>(json);
      checkReport(r, work);
      expect(r.testControl).toBe(false);
      expect(r.setup.walletSource).toBe("credentials");
      expect(r.setup.walletsProvisioned).toBe(0);
    });
  });

  it("says what to do when there is neither test control nor a credentials file", async () => {
    await expect(paycode("bench", "load", "--target", urlC, ...TINY)).rejects.toThrow(
      /--credentials/,
    );
  });
});

describe("bench load --compare", () => {
  it("runs the same load on two servers and writes JSON, SVG and HTML with B ÷ A ratios", async () => {
    const json = join(dir, "compare.json");
    const svg = join(dir, "compare.svg");
    const html = join(dir, "compare.html");
    await paycode(
      "bench",
      "load",
      "--target",
      urlA,
      "--store-label",
      "a",
      "--compare",
      urlB,
      "--compare-store-label",
      "b",
      "--work",
      "scan-offline",
      "--json",
      json,
      "--svg",
      svg,
      "--html",
      html,
      ...TINY,
    );
    const c = readJson<CompareReport>(json);
    expect(c.kind).toBe("paycode-bench-compare");
    expect(c.runs.map((r) => r.target)).toEqual([urlA, urlB]);
    expect(c.runs.map((r) => r.storeLabel)).toEqual(["a", "b"]);
    for (const r of c.runs) checkReport(r, "scan-offline");
    expect(c.ratios.workThroughput).toBeGreaterThan(0);
    expect(c.ratios.workP50).toBeGreaterThan(0);
    expect(c.ratios.pingThroughput).toBeGreaterThan(0);
    expect(readFileSync(svg, "utf8")).toMatch(/^<svg [^>]*>[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
    const page = readFileSync(html, "utf8");
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain("<svg");
    expect(page).not.toMatch(/<script|<link|src=/);
  });
});
