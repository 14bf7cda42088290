// Pack and install, as a user would: `npm pack` every public package, install
// the tarballs into a fresh project outside the repository, and use them
// there: the `paycode` and `paycode-conformance` commands, every `exports`
// entry, and a plain JavaScript program that imports only @paycode/sdk.
// Also checks what each tarball ships. Packs the dist/ that is built
// (`npm test` builds first; after editing sources run `npm run build`).
//
// Slow: installing compiles better-sqlite3 from source when no prebuilt
// binary can be downloaded (about 2 minutes on 2 cores). Outside CI it is
// skipped when `npm pack` cannot run at all; under CI=true it always runs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandResult,
  runCommand,
  type ServeProcess,
  startServeProcess,
} from "./child-process.js";
import { importsOf } from "./package-boundaries.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CI = process.env.CI === "true" || process.env.CI === "1";
// Published workspaces only: private ones (examples/web) are never packed.
const WORKSPACES: string[] = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).workspaces as string[]
).filter((w) => JSON.parse(readFileSync(join(ROOT, w, "package.json"), "utf8")).private !== true);
const MINUTE = 60_000;

/** The environment of a user's shell: no vitest or npm-script variables (npm config kept). */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (
      k.startsWith("VITEST") ||
      k === "NODE_ENV" ||
      k === "INIT_CWD" ||
      k.startsWith("npm_lifecycle_") ||
      k.startsWith("npm_package_") ||
      /^npm_config_(workspaces?|include_workspace_root|prefix|global)$/i.test(k)
    ) {
      delete env[k];
    }
  }
  return env;
}
const ENV = userEnv();

const probe = spawnSync(
  "npm",
  ["pack", "--dry-run", "--json", "--ignore-scripts", "-w", WORKSPACES[0]!],
  { cwd: ROOT, env: ENV, encoding: "utf8", timeout: 2 * MINUTE },
);
const packProblem =
  probe.status === 0
    ? undefined
    : `npm pack cannot run: ${probe.error?.message ?? probe.stderr?.trim().split("\n").slice(-3).join(" | ")}`;
if (packProblem && !CI) console.warn(`scripts/pack-install.test.ts skipped: ${packProblem}`);

type Run = CommandResult;

/** Runs a command to completion (killed after `timeoutMs`). */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 2 * MINUTE): Promise<Run> {
  return runCommand(cmd, args, { cwd, env: ENV, timeoutMs });
}

function describeRun(what: string, r: Run): string {
  const tail = (s: string) => s.trim().split("\n").slice(-25).join("\n");
  return `${what}: exit ${r.code ?? r.signal}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

async function mustRun(what: string, cmd: string, args: string[], cwd: string, timeoutMs?: number) {
  const r = await run(cmd, args, cwd, timeoutMs);
  if (r.code !== 0) throw new Error(describeRun(what, r));
  return r;
}

interface PackResult {
  name: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number; mode: number }[];
}

interface PackageJson {
  name: string;
  bin?: string | Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
}

/** Every file path an exports map points at, with the condition that names it. */
function exportTargets(pkg: PackageJson): { key: string; condition: string; path: string }[] {
  const out: { key: string; condition: string; path: string }[] = [];
  for (const [key, value] of Object.entries(pkg.exports ?? {})) {
    if (typeof value === "string") out.push({ key, condition: "default", path: value });
    else {
      for (const [condition, path] of Object.entries(value)) out.push({ key, condition, path });
    }
  }
  return out.map((t) => ({ ...t, path: t.path.replace(/^\.\//, "") }));
}

/** The user's program: a wallet pays a merchant with an online code; SDK only. */
const PROGRAM = `// A till charges a wallet's online code, with nothing but the installed @paycode/sdk.
import { createPaycodeTransport, MemoryWalletStateStore, MerchantClient, statusName, WalletClient } from "@paycode/sdk";

const url = process.argv[2];
const cny = (minor) => ({ currency: "CNY", amountMinor: String(minor) });
// Setup through test control (ConformanceService), in the Connect protocol's JSON encoding.
async function control(method, body) {
  const res = await fetch(\`\${url}/paycode.v1.ConformanceService/\${method}\`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(\`\${method}: HTTP \${res.status} \${await res.text()}\`);
  return res.json();
}
const password = "correct horse";
const limits = { perPaymentPasswordFree: cny(5000), dailyPasswordFreeAmount: cny(5000), dailyPasswordFreeCount: 5 };
const { accountId } = await control("CreateAccount", { password, balance: cny(100000), limits });
const { apiKey } = await control("CreateMerchant", { name: "shop" });

const phone = createPaycodeTransport({ baseUrl: url });
const wallet = new WalletClient({ store: new MemoryWalletStateStore(), transport: phone.transport });
await wallet.provision({ accountId, password, deviceLabel: "phone" });
const code = wallet.onlineCode();

const till = createPaycodeTransport({ baseUrl: url, bearer: apiKey });
const merchant = new MerchantClient({ transport: till.transport });
const { payment } = await merchant.pay({ outTradeNo: "order-1", amount: { currency: "CNY", amountMinor: 1250n }, code });
phone.close();
till.close();
console.log(\`payment \${payment.paymentId}: \${statusName(payment.status)}\`);
process.exitCode = statusName(payment.status) === "SUCCEEDED" ? 0 : 1;
`;

describe.skipIf(packProblem !== undefined && !CI)("pack and install as a user", () => {
  let packDir: string | undefined;
  let appDir: string | undefined;
  let packs: PackResult[] = [];
  const sources = new Map<string, PackageJson & { dir: string }>();
  let server: ServeProcess | undefined;
  let url = "";
  const bin = (name: string) => join(appDir!, "node_modules", ".bin", name);

  beforeAll(async () => {
    if (packProblem)
      throw new Error(`CI=true and the pack-and-install test cannot run: ${packProblem}`);
    for (const dir of WORKSPACES) {
      const pkg = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8"));
      sources.set(pkg.name, { ...pkg, dir });
      if (!existsSync(join(ROOT, dir, "dist"))) {
        throw new Error(`${dir}/dist is missing: run \`npm run build\` before this test`);
      }
    }

    packDir = mkdtempSync(join(tmpdir(), "paycode-pack-"));
    const packed = await mustRun(
      "npm pack",
      "npm",
      [
        "pack",
        "--json",
        "--ignore-scripts",
        "--pack-destination",
        packDir,
        ...WORKSPACES.flatMap((w) => ["-w", w]),
      ],
      ROOT,
    );
    packs = JSON.parse(packed.stdout);
    expect(packs.map((p) => p.name).sort()).toEqual([...sources.keys()].sort());

    appDir = mkdtempSync(join(tmpdir(), "paycode-install-"));
    expect(relative(ROOT, appDir).startsWith("..")).toBe(true);
    await mustRun("npm init -y", "npm", ["init", "-y"], appDir);
    // npm 11 asks projects to approve dependencies' install scripts; a user approves this one.
    const manifest = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8"));
    manifest.allowScripts = { "better-sqlite3": true };
    writeFileSync(join(appDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const started = Date.now();
    await mustRun(
      "npm install of the tarballs",
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        ...packs.map((p) => join(packDir!, p.filename)),
      ],
      appDir,
      8 * MINUTE,
    );
    console.log(`pack-install: npm install took ${Math.round((Date.now() - started) / 1000)} s`);
  }, 10 * MINUTE);

  afterAll(async () => {
    await server?.stop();
    for (const d of [appDir, packDir]) if (d) rmSync(d, { recursive: true, force: true });
  }, MINUTE);

  it("each tarball ships dist JS and .d.ts of every export, its bins, and no tests, sources or build info", () => {
    const problems: string[] = [];
    const sizes: string[] = [];
    for (const p of packs) {
      const src = sources.get(p.name)!;
      const files = new Set(p.files.map((f) => f.path));
      const want = (path: string, why: string) => {
        if (!files.has(path)) problems.push(`${p.name}: ${path} (${why}) is not in the tarball`);
      };
      const installed: PackageJson = JSON.parse(
        readFileSync(join(appDir!, "node_modules", p.name, "package.json"), "utf8"),
      );
      const exportKeys = Object.keys(installed.exports ?? {});
      if (!exportKeys.includes(".")) problems.push(`${p.name}: exports has no "." entry`);
      for (const t of exportTargets(installed)) {
        want(t.path, `exports["${t.key}"].${t.condition}`);
        if (t.condition === "types" && !t.path.endsWith(".d.ts")) {
          problems.push(`${p.name}: exports["${t.key}"].types is not a .d.ts: ${t.path}`);
        }
      }
      for (const key of exportKeys) {
        const conditions = exportTargets(installed).filter((t) => t.key === key);
        if (!conditions.some((t) => t.condition === "types")) {
          problems.push(`${p.name}: exports["${key}"] has no types condition`);
        }
        if (!conditions.some((t) => t.condition === "import" || t.condition === "default")) {
          problems.push(`${p.name}: exports["${key}"] has no import condition`);
        }
      }
      const bins =
        typeof installed.bin === "string" ? [installed.bin] : Object.values(installed.bin ?? {});
      for (const b of bins) want(b.replace(/^\.\//, ""), "bin");
      want("LICENSE", "the licence");
      want("README.md", "a README for the registry page");
      for (const path of files) {
        if (
          /\.js$/.test(path) &&
          path.startsWith("dist/") &&
          !files.has(path.replace(/\.js$/, ".d.ts"))
        ) {
          problems.push(`${p.name}: ${path} has no .d.ts`);
        }
        if (/(^|\/)src\//.test(path)) problems.push(`${p.name}: ships source ${path}`);
        if (/\.(test|spec)\.[cm]?[jt]s$|\.test\.d\.ts$/.test(path)) {
          problems.push(`${p.name}: ships test ${path}`);
        }
        if (/tsbuildinfo$/.test(path)) problems.push(`${p.name}: ships build info ${path}`);
        if (/(^|\/)node_modules\//.test(path)) problems.push(`${p.name}: ships ${path}`);
      }
      sizes.push(
        `${p.filename}: ${(p.size / 1024).toFixed(1)} kB packed, ${(p.unpackedSize / 1024).toFixed(1)} kB unpacked, ${p.files.length} files`,
      );
      if (src.dir === "conformance") {
        want("spec/paycode.md", "the spec its reports quote");
        const shipped = p.files.find((f) => f.path === "spec/paycode.md");
        const spec = statSync(join(ROOT, "spec/paycode.md")).size;
        if (shipped && shipped.size !== spec) {
          problems.push(
            `${p.name}: spec/paycode.md is ${shipped.size} bytes, spec/paycode.md in the repository ${spec} (stale copy: npm run build)`,
          );
        }
      }
    }
    console.log(`pack-install: tarballs\n  ${sizes.join("\n  ")}`);
    expect(problems).toEqual([]);
  });

  it("every exports entry of every package loads in the installed project", async () => {
    const specifiers = packs.flatMap((p) => {
      const installed: PackageJson = JSON.parse(
        readFileSync(join(appDir!, "node_modules", p.name, "package.json"), "utf8"),
      );
      return Object.keys(installed.exports ?? {}).map((k) =>
        k === "." ? p.name : `${p.name}/${k.slice(2)}`,
      );
    });
    expect(specifiers.length).toBeGreaterThanOrEqual(packs.length);
    const script = `for (const s of ${JSON.stringify(specifiers)}) {
  const m = await import(s);
  if (Object.keys(m).length === 0) throw new Error(s + " exports nothing");
}
console.log("loaded", ${specifiers.length});`;
    const r = await run(process.execPath, ["--input-type=module", "-e", script], appDir!);
    expect(r.code, describeRun("importing every exports entry", r)).toBe(0);
  });

  it("the installed commands answer --help", async () => {
    for (const [cmd, args] of [
      ["paycode", ["--help"]],
      ["paycode", ["serve", "--help"]],
      // Operator commands load their modules lazily: each must be in the package.
      ["paycode", ["account", "--help"]],
      ["paycode", ["audit", "--help"]],
      ["paycode", ["prune", "--help"]],
      ["paycode", ["credential", "--help"]],
      ["paycode", ["issuer-key", "--help"]],
      ["paycode", ["code-key", "--help"]],
      ["paycode", ["master-key", "--help"]],
      ["paycode-conformance", ["--help"]],
      ["paycode-conformance", ["run", "--help"]],
      ["paycode-bench", ["--help"]],
    ] as const) {
      const r = await run(bin(cmd), [...args], appDir!);
      expect(r.code, describeRun(`${cmd} ${args.join(" ")}`, r)).toBe(0);
      expect(r.stdout).toMatch(/^Usage: /m);
    }
  });

  it("the installed paycode bench scan-layers runs a Scan through the store and the issuer", async () => {
    const report = join(appDir!, "scan-layers.json");
    const r = await run(
      bin("paycode"),
      [
        "bench",
        "scan-layers",
        "--store",
        `sqlite:${join(appDir!, "layers.db")}`,
        "--wallets",
        "40",
        "--scans",
        "16",
        "--groups",
        "1,4",
        "--json",
        report,
      ],
      appDir!,
    );
    expect(r.code, describeRun("paycode bench scan-layers", r)).toBe(0);
    const j = JSON.parse(readFileSync(report, "utf8")) as {
      kind: string;
      results: { layer: string; group: number }[];
    };
    expect(j.kind).toBe("paycode-bench-scan-layers");
    expect(j.results.map((x) => `${x.layer}/${x.group}`)).toEqual([
      "store/1",
      "store/4",
      "issuer/1",
      "issuer/4",
    ]);
    expect(r.stdout).toMatch(/^layer +Scans per group/m);
  });

  it("paycode serve starts on a free port with test control", async () => {
    server = await startServeProcess(
      bin("paycode"),
      [
        "serve",
        "--enable-test-control",
        "--port",
        "0",
        "--store",
        `sqlite:${join(appDir!, "issuer.db")}`,
      ],
      { cwd: appDir!, env: ENV },
    );
    url = server.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.log()).toMatch(/test control enabled/);
  });

  it(
    "the installed paycode-conformance passes against the installed server",
    async () => {
      expect(url, "server not started").not.toBe("");
      const report = join(appDir!, "conformance.json");
      const r = await run(
        bin("paycode-conformance"),
        ["run", "--target", url, "--json", report],
        appDir!,
        5 * MINUTE,
      );
      expect(r.code, describeRun("paycode-conformance run", r)).toBe(0);
      const total = /Total: (\d+) cases: (\d+) passed, (\d+) failed/.exec(r.stdout);
      expect(total, r.stdout).not.toBeNull();
      expect(Number(total![1])).toBeGreaterThan(50);
      expect(total![2]).toBe(total![1]);
      expect(total![3]).toBe("0");
      expect(r.stdout).toMatch(/^RESULT: PASS/m);
      expect(existsSync(report)).toBe(true);
    },
    6 * MINUTE,
  );

  it("a plain ESM program importing only @paycode/sdk pays with an online code", async () => {
    expect(url, "server not started").not.toBe("");
    expect(importsOf(PROGRAM).map((i) => i.specifier)).toEqual(["@paycode/sdk"]);
    expect(PROGRAM.split("\n").length).toBeLessThanOrEqual(35);
    writeFileSync(join(appDir!, "pay.mjs"), PROGRAM);
    const r = await run(process.execPath, ["pay.mjs", url], appDir!);
    expect(r.code, describeRun("node pay.mjs", r)).toBe(0);
    expect(r.stdout).toMatch(/^payment \S+: SUCCEEDED$/m);
  });

  it("the server stops on SIGTERM", async () => {
    expect(server, "server not started").toBeDefined();
    expect(await server!.stop(15_000), server!.log()).toBe(0);
  });
});
