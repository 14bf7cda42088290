import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { ConformanceService } from "@paycode/protocol/v1";
import { createPaycodeTransport } from "@paycode/sdk";
import { afterAll, describe, expect, it } from "vitest";

const PAYCODE = fileURLToPath(new URL("../../bin/paycode.js", import.meta.url));
const KEY = "4d".repeat(32);

/** Spawns `paycode args…`; `lines` collects what it prints. */
function paycode(args: string[]): {
  child: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [PAYCODE, ...args], {
    env: { ...process.env, PAYCODE_MASTER_KEY: KEY, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => {
    out += d;
  });
  child.stderr!.on("data", (d) => {
    out += d;
  });
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, out: () => out, exit };
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a conformance run leaves the target's clock where it found it", () => {
  const dir = mkdtempSync(join(tmpdir(), "paycode-clock-restore-"));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("after Ctrl-C: running, at the time found plus the time elapsed (serve --clock-start)", async () => {
    const start = Date.parse("2031-05-06T23:59:30Z");
    const serve = paycode([
      "serve",
      "--enable-test-control",
      "--port",
      "0",
      "--store",
      `sqlite:${join(dir, "paycode.db")}`,
      "--clock-start",
      new Date(start).toISOString(),
    ]);
    children.push(serve.child);
    const url = await until(
      "serve's URL",
      () => /listening on (http:\/\/\S+)/.exec(serve.out())?.[1],
    );
    const servedAt = performance.now();
    const pt = createPaycodeTransport({ baseUrl: url, httpVersion: "1.1" });
    const control = createClient(ConformanceService, pt.transport);
    try {
      const first = await control.getCapabilities({});
      expect(timestampMs(first.now!) - start).toBeLessThan(10_000);
      expect(timestampMs(first.now!)).toBeGreaterThanOrEqual(start);

      const run = paycode(["conformance", "run", "--target", url, "--parallel", "4"]);
      children.push(run.child);
      // Interrupt once cases are running (the run moved the clock to noon before it started them).
      await until("the run's start", () => (/features claimed/.test(run.out()) ? true : undefined));
      await new Promise((r) => setTimeout(r, 500));
      const moved = await control.getCapabilities({});
      expect(timestampMs(moved.now!) - start).toBeGreaterThan(12 * 3_600_000);
      run.child.kill("SIGINT");
      const code = await run.exit;
      expect(run.out()).toMatch(/interrupted/);
      expect(code).not.toBe(0);

      const after = await control.getCapabilities({});
      expect(after.clockFrozen).toBe(false);
      const expected = start + (performance.now() - servedAt);
      expect(Math.abs(timestampMs(after.now!) - expected)).toBeLessThan(5_000);
    } finally {
      pt.close();
      serve.child.kill("SIGTERM");
      await serve.exit;
    }
  }, 90_000);
});
