import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { ConformanceService, HealthService } from "@paycode/protocol/v1";
import { makeSelfSignedCert, testTransport } from "@paycode/server/testing";
import { afterAll, describe, expect, it } from "vitest";
import { COMMANDS, createProgram } from "./main.js";
import { runPaycode, startServe } from "./testing/spawn-cli.js";

const dir = mkdtempSync(join(tmpdir(), "paycode-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEY = randomBytes(32).toString("hex");
const noKey = { PAYCODE_MASTER_KEY: "" };

/** One line on stderr, `paycode: ...`, and no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^paycode: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe("paycode CLI", () => {
  it("answers --help and --version", async () => {
    const help = await runPaycode(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: paycode");
    expect(help.stdout).toContain("serve");
    const serveHelp = await runPaycode(["serve", "--help"]);
    expect(serveHelp.code).toBe(0);
    for (const flag of [
      "--store",
      "--host",
      "--port",
      "--http-version",
      "--enable-test-control",
      "--tls-cert",
      "--master-key-file",
      "--mutant",
      "--pg-pool-size",
      "--pg-batches",
      "--reflection",
    ]) {
      expect(serveHelp.stdout).toContain(flag);
    }
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    const version = await runPaycode(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it("registers every command through createProgram", async () => {
    const names = (await createProgram()).commands.map((c) => c.name());
    expect(names[0]).toBe("serve");
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(COMMANDS.map((c) => c.name));
  });

  it("lists each command, unloaded, with the description its own module gives it", async () => {
    const full = await createProgram();
    const lazy = await createProgram(["node", "paycode", "--help"]);
    for (const entry of COMMANDS) {
      const loaded = full.commands.find((c) => c.name() === entry.name);
      expect(loaded?.description(), entry.name).toBe(entry.summary);
      const stub = lazy.commands.find((c) => c.name() === entry.name);
      expect(stub?.description(), entry.name).toBe(entry.summary);
      expect(stub?.options, `${entry.name} is only a stub`).toHaveLength(0);
    }
    const serveOnly = await createProgram(["node", "paycode", "serve", "--help"]);
    expect(serveOnly.commands.find((c) => c.name() === "serve")?.options.length).toBeGreaterThan(3);
  });

  it.concurrent.each([
    ["an unknown flag", ["serve", "--bogus"], /unknown option '--bogus'/],
    ["an unknown command", ["srve"], /unknown command 'srve'/],
    ["a bad port", ["serve", "--port", "70000"], /--port/],
    ["a bad store URL", ["serve", "--store", "mysql://db/x"], /unsupported store URL/],
    [
      "PostgreSQL without a master key",
      ["serve", "--store", "postgres://u@127.0.0.1:1/db"],
      /needs a master key/,
    ],
    [
      "half a TLS pair",
      ["serve", "--tls-cert", "x.pem", "--port", "0"],
      /--tls-cert and --tls-key go together/,
    ],
    ["an unknown mutant", ["serve", "--mutant", "nope", "--port", "0"], /unknown mutant "nope"/],
    ["an unknown --http-version", ["serve", "--http-version", "3"], /--http-version/],
    ["an unknown --http (the old name)", ["serve", "--http", "3"], /--http/],
    ["a pool size of 0", ["serve", "--pg-pool-size", "0"], /--pg-pool-size/],
    ["a pool size that is no number", ["serve", "--pg-pool-size", "ten"], /--pg-pool-size/],
    [
      "a pool size for a SQLite store",
      ["serve", "--store", "sqlite:x.db", "--pg-pool-size", "4", "--port", "0"],
      /--pg-pool-size needs a postgres:\/\/ store/,
    ],
    ["no batches", ["serve", "--pg-batches", "0"], /--pg-batches/],
    [
      "batches for a SQLite store",
      ["serve", "--store", "sqlite:x.db", "--pg-batches", "4", "--port", "0"],
      /--pg-batches needs a postgres:\/\/ store/,
    ],
  ])("rejects %s with exit code 2 and one line", async (_name, args, pattern) => {
    const r = await runPaycode(args, { env: noKey, cwd: dir });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, pattern);
  });

  it("rejects a malformed PAYCODE_MASTER_KEY", async () => {
    const r = await runPaycode(["serve", "--port", "0"], {
      env: { PAYCODE_MASTER_KEY: "abc" },
      cwd: dir,
    });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /PAYCODE_MASTER_KEY must be 64 hex/);
  });

  it("reports a port in use with exit code 1", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runPaycode(
        ["serve", "--store", `sqlite:${join(dir, "inuse.db")}`, "--port", String(port)],
        {
          env: { PAYCODE_MASTER_KEY: KEY },
        },
      );
      expect(r.code).toBe(1);
      expectOneLineError(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}: address already in use`));
    } finally {
      blocker.close();
    }
  });

  it("reports a store it cannot open with exit code 1", async () => {
    const r = await runPaycode(
      ["serve", "--store", "sqlite:/nonexistent/dir/x.db", "--port", "0"],
      {
        env: { PAYCODE_MASTER_KEY: KEY },
      },
    );
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /cannot open store sqlite:\/nonexistent\/dir\/x\.db/);
  });

  it("creates a development master key once, mode 0600, and reuses it", async () => {
    const cwd = mkdtempSync(join(dir, "dev-"));
    const first = await startServe(["--port", "0"], { env: noKey, cwd });
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.stderr()).toMatch(
      /warning: generated a development master key in paycode\.db\.master-key/,
    );
    const keyFile = join(cwd, "paycode.db.master-key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // The database holds sealed seeds and balances: no one else reads it either.
    expect(statSync(join(cwd, "paycode.db")).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, "utf8");
    expect(key.trim()).toMatch(/^[0-9a-f]{64}$/);
    first.child.kill("SIGINT");
    expect((await first.exited).code).toBe(0);

    const second = await startServe(["--port", "0"], { env: noKey, cwd });
    expect(second.stderr()).toMatch(
      /warning: using the development master key in paycode\.db\.master-key/,
    );
    expect(readFileSync(keyFile, "utf8")).toBe(key);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
  });

  it("reads the master key from --master-key-file", async () => {
    const keyFile = join(dir, "master.key");
    writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
    const s = await startServe(
      ["--store", `sqlite:${join(dir, "keyfile.db")}`, "--port", "0", "--master-key-file", keyFile],
      {
        env: noKey,
      },
    );
    expect(s.stderr()).not.toContain("warning");
    s.child.kill("SIGTERM");
    expect((await s.exited).code).toBe(0);
    const bad = join(dir, "bad.key");
    writeFileSync(bad, "not a key\n", { mode: 0o600 });
    const r = await runPaycode(["serve", "--port", "0", "--master-key-file", bad], { cwd: dir });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /master key file .* must be 64 hex characters/);
  });

  it("refuses a master key file other users can read", async () => {
    const shared = join(dir, "shared.key");
    writeFileSync(shared, `${KEY}\n`);
    chmodSync(shared, 0o644);
    const r = await runPaycode(["serve", "--port", "0", "--master-key-file", shared], {
      cwd: dir,
    });
    expect(r.code).toBe(2);
    expectOneLineError(
      r.stderr,
      /master key file .*shared\.key is accessible to other users \(mode 0644\); run chmod 600/,
    );
  });

  /** [CTRL-1] Starts `paycode serve` with `args` and no --enable-test-control; is ConformanceService off? */
  async function testControlIsOff(args: string[]): Promise<boolean> {
    const s = await startServe(["--port", "0", ...args], {
      env: { PAYCODE_MASTER_KEY: KEY },
    });
    const t = testTransport(s.url, "connect-h1");
    try {
      await t.client(HealthService).ping({});
      const err = await t
        .client(ConformanceService)
        .getCapabilities({})
        .catch((e: unknown) => e);
      return err instanceof ConnectError && err.code === Code.Unimplemented;
    } finally {
      t.close();
      s.child.kill("SIGTERM");
      expect((await s.exited).code).toBe(0);
    }
  }

  it("serves without test control by default and says so", async () => {
    expect(await testControlIsOff(["--store", `sqlite:${join(dir, "plain.db")}`])).toBe(true);
    // The check catches a server that serves it anyway (the mutant proving [CTRL-1]).
    expect(
      await testControlIsOff([
        "--store",
        `sqlite:${join(dir, "mutant.db")}`,
        "--mutant",
        "test-control-on-by-default",
      ]),
    ).toBe(false);
  });

  it("serves gRPC server reflection with --reflection, not by default", async () => {
    const buf = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));
    const listServices = (url: string) =>
      new Promise<{ ok: boolean; stdout: string; stderr: string }>((resolve) =>
        execFile(
          buf,
          ["curl", "--list-services", "--protocol", "grpc", "--http2-prior-knowledge", url],
          { timeout: 30_000 },
          (err, stdout, stderr) => resolve({ ok: err === null, stdout, stderr }),
        ),
      );
    const env = { env: { PAYCODE_MASTER_KEY: KEY } };
    const on = await startServe(
      ["--store", `sqlite:${join(dir, "reflect.db")}`, "--port", "0", "--reflection"],
      env,
    );
    try {
      const r = await listServices(on.url);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("paycode.v1.MerchantService\n");
      expect(r.stdout).toContain("grpc.reflection.v1.ServerReflection\n");
      // Test control stays off: only --enable-test-control adds it.
      expect(r.stdout).not.toContain("ConformanceService");
    } finally {
      on.child.kill("SIGTERM");
    }
    expect((await on.exited).code).toBe(0);
    const off = await startServe(
      ["--store", `sqlite:${join(dir, "reflect.db")}`, "--port", "0"],
      env,
    );
    try {
      const r = await listServices(off.url);
      expect(r.ok).toBe(false);
      expect(r.stderr).toMatch(/unimplemented|not implemented/i);
    } finally {
      off.child.kill("SIGTERM");
    }
    expect((await off.exited).code).toBe(0);
  });

  const cert = makeSelfSignedCert();
  it.skipIf(cert === undefined)("serves HTTPS with --tls-cert and --tls-key", async () => {
    const certFile = join(dir, "cert.pem");
    const keyFile = join(dir, "key.pem");
    writeFileSync(certFile, cert!.cert);
    writeFileSync(keyFile, cert!.key, { mode: 0o600 });
    const s = await startServe(
      [
        "--store",
        `sqlite:${join(dir, "tls.db")}`,
        "--port",
        "0",
        "--tls-cert",
        certFile,
        "--tls-key",
        keyFile,
        "--enable-test-control",
      ],
      { env: { PAYCODE_MASTER_KEY: KEY } },
    );
    expect(s.url).toMatch(/^https:\/\//);
    const t = testTransport(s.url, "grpc-h2", { ca: cert!.cert });
    try {
      await t.client(HealthService).ping({});
      expect((await t.client(ConformanceService).getCapabilities({})).features).toContain(
        "controllable-clock",
      );
    } finally {
      t.close();
      s.child.kill("SIGTERM");
    }
    expect((await s.exited).code).toBe(0);
  });
});
