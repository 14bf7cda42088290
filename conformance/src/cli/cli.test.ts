// The `paycode-conformance` program as users run it: a real child process
// of bin/paycode-conformance.js (which runs the built dist/).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { TARGET_PROBLEM_EXIT_CODES } from "../probe-codes.js";
import {
  closedPortUrl,
  startConnectOnlyServer,
  startGarbageServer,
  startGrpcOnlyServer,
  startHangingServer,
  startServerWithoutTestControl,
  type TestServer,
} from "../testing/stub-targets.js";

const BIN = fileURLToPath(new URL("../../bin/paycode-conformance.js", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function conformance(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, PAYCODE_DEBUG: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Exactly one line on stderr, `paycode-conformance: ...`, no stack trace, nothing on stdout (no case ran). */
function expectOneLine(r: Run, pattern: RegExp) {
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^paycode-conformance: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |RangeError|TypeError/);
  expect(r.stdout).toBe("");
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(start: () => Promise<TestServer>): Promise<TestServer> {
  const s = await start();
  servers.push(s);
  return s;
}

describe("paycode-conformance run against a target it cannot test", () => {
  it("documents every exit status in --help", async () => {
    const r = await conformance(["run", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Exit status:");
    expect(r.stdout).toContain("--http-version <version>");
    expect(r.stdout).not.toMatch(/--http </);
    for (const [kind, code] of Object.entries(TARGET_PROBLEM_EXIT_CODES)) {
      if (kind === "invalid-target") continue;
      expect(r.stdout).toMatch(new RegExp(`\\n  ${code}    \\S`));
    }
    expect(r.stdout).toMatch(/\n {2}2 {4}usage error/);
    expect(r.stdout).toMatch(/\n {2}130 {2}interrupted/);
  });

  it("exit codes are distinct and keep 0, 1, 2 and 130 for their usual meaning", () => {
    const codes = Object.entries(TARGET_PROBLEM_EXIT_CODES)
      .filter(([k]) => k !== "invalid-target")
      .map(([, c]) => c);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect([0, 1, 2, 130]).not.toContain(c);
    expect(TARGET_PROBLEM_EXIT_CODES["invalid-target"]).toBe(2);
  });

  it.each([
    ["127.0.0.1:8080", /--target "127\.0\.0\.1:8080" is not a URL; include the scheme/],
    ["localhost:8080", /must be an http:\/\/ or https:\/\/ URL; include the scheme/],
    [
      "ftp://example.com",
      /--target "ftp:\/\/example\.com" must be an http:\/\/ or https:\/\/ URL$/,
    ],
    ["::garbage::", /is not a URL/],
  ])("a bad --target %s is a usage error: exit 2, one line", async (target, message) => {
    const r = await conformance(["run", "--target", target]);
    expect(r.code).toBe(2);
    expectOneLine(r, message);
  });

  it("an unreadable --known-failing file and --http against --http-version are usage errors", async () => {
    const kf = await conformance([
      "run",
      "--target",
      "http://127.0.0.1:9",
      "--known-failing",
      "/nonexistent/known.txt",
    ]);
    expect(kf.code).toBe(2);
    expectOneLine(kf, /cannot read --known-failing/);
    const both = await conformance([
      "run",
      "--target",
      "http://127.0.0.1:9",
      "--http",
      "1.1",
      "--http-version",
      "2",
    ]);
    expect(both.code).toBe(2);
    expectOneLine(both, /--http is the old name of --http-version/);
    const grpc = await conformance([
      "run",
      "--target",
      "http://127.0.0.1:9",
      "--protocol",
      "grpc",
      "--http",
      "1.1",
    ]);
    expect(grpc.code).toBe(2);
    expectOneLine(grpc, /gRPC needs HTTP\/2: use --http-version 2/);
  });

  it("connection refused: exit 3, one line", async () => {
    const url = await closedPortUrl();
    const r = await conformance(["run", "--target", url]);
    expect(r.code).toBe(TARGET_PROBLEM_EXIT_CODES.unreachable);
    expect(r.code).toBe(3);
    expectOneLine(r, /is unreachable: connection refused by 127\.0\.0\.1:\d+$/);
  });

  it("no answer in time: exit 3, one line, only the Ping was sent", async () => {
    const s = await serve(startHangingServer);
    const r = await conformance(["run", "--target", s.url, "--timeout", "500"]);
    expect(r.code).toBe(3);
    expectOneLine(r, /is unreachable: no answer to HealthService\.Ping .* within 500 ms$/);
    expect(s.paths()).toEqual(["/paycode.v1.HealthService/Ping"]);
  });

  it("garbage: not a Paycode server, exit 4, one line, no test-control call", async () => {
    const s = await serve(startGarbageServer);
    const r = await conformance(["run", "--target", s.url]);
    expect(r.code).toBe(4);
    expectOneLine(
      r,
      /is not a Paycode server: it accepts connections but HealthService\.Ping fails/,
    );
    expect(s.paths().filter((p) => p !== "/paycode.v1.HealthService/Ping")).toEqual([]);
  });

  it("a Paycode server without test control: exit 5, one line, no case ran", async () => {
    const s = await serve(startServerWithoutTestControl);
    const r = await conformance(["run", "--target", s.url]);
    expect(r.code).toBe(5);
    expectOneLine(r, /is a Paycode server without test control: .*--enable-test-control\)$/);
    expect(s.paths()).toEqual([
      "/paycode.v1.HealthService/Ping",
      "/paycode.v1.ConformanceService/GetCapabilities",
    ]);
  });

  it("a server that speaks Connect only, asked for gRPC: wrong protocol, exit 6, one line", async () => {
    const s = await serve(startConnectOnlyServer);
    const r = await conformance(["run", "--target", s.url, "--protocol", "grpc"]);
    expect(r.code).toBe(6);
    expectOneLine(
      r,
      /does not speak gRPC over HTTP\/2 .* but answers over Connect over HTTP\/1\.1: use --protocol connect --http-version 1\.1/,
    );
    expect(s.paths()).not.toContain("/paycode.v1.ConformanceService/CreateAccount");
  });
});

describe("paycode-conformance run certifies protocols, not assumes them", () => {
  it("a gRPC-only target fails [RPC-3] (exit 1), and every report names the configs per case", async () => {
    const s = await serve(() => startGrpcOnlyServer());
    const dir = mkdtempSync(join(tmpdir(), "pc-cli-protocols-"));
    const files = {
      json: join(dir, "r.json"),
      junit: join(dir, "r.xml"),
      html: join(dir, "r.html"),
    };
    const r = await conformance([
      "run",
      "--target",
      s.url,
      "--run",
      "auth-isolation/ping-needs-no-credential",
      "--verbose",
      ...Object.entries(files).flatMap(([k, f]) => [`--${k}`, f]),
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(
      "protocols: grpc-http2-proto (every case); NOT SERVED, mandatory [RPC-3]: connect-http1.1-proto, connect-http1.1-json",
    );
    expect(r.stdout).toMatch(/\nFAIL {2}protocols\/connect-http1\.1-proto \(0 ms\)\n/);
    expect(r.stdout).toMatch(/\nFAIL {2}protocols\/connect-http1\.1-json \(0 ms\)\n/);
    expect(r.stdout).toMatch(
      /\nPASS {2}auth-isolation\/ping-needs-no-credential over grpc-http2-proto \(\d+ ms\)\n/,
    );
    expect(r.stdout).toMatch(/\nRESULT: FAIL \(2 blocking failures\)\nHTML report: /);
    const json = JSON.parse(readFileSync(files.json, "utf8"));
    expect(json.ok).toBe(false);
    const ping = json.cases.find(
      (c: { id: string }) => c.id === "auth-isolation/ping-needs-no-credential",
    );
    expect(ping.configs.map((c: { config: string }) => c.config)).toEqual(["grpc-http2-proto"]);
    expect(readFileSync(files.junit, "utf8")).toContain(
      'name="auth-isolation/ping-needs-no-credential@grpc-http2-proto"',
    );
    expect(readFileSync(files.junit, "utf8")).toContain('<property name="protocol" value="grpc"/>');
    expect(readFileSync(files.html, "utf8")).toContain(
      '<span class="cfg passed" title="passed">grpc-http2-proto</span>',
    );
  });

  it("--protocols and --protocol together are a usage error", async () => {
    const r = await conformance([
      "run",
      "--target",
      "http://127.0.0.1:9",
      "--protocols",
      "all",
      "--protocol",
      "grpc",
    ]);
    expect(r.code).toBe(2);
    expectOneLine(r, /--protocols and --protocol\/--http-version both choose the optional configs/);
  });
});

describe("paycode-conformance output", () => {
  it("exits quietly when the reader of its output closes the pipe early (| head)", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, "list"], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        // The reader goes away before the program writes a byte: every write hits EPIPE.
        child.stdout.destroy();
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
        });
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stderr }));
      });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
  });

  it("`list` to a pipe that stays open prints every case", async () => {
    const r = await conformance(["list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n\d+ cases \(suite \d+\.\d+\.\d+\)\n$/);
    expect(r.stdout).not.toContain("\x1b[");
  });
});
