// Cross-language SDK test: code generated from proto/ by `npm run sdk`
// (scripts/generate-sdk.mjs) talks gRPC over h2c to a reference server.
// The Python and Go clients of docs/sdk-examples/ ping, set up an account,
// merchant and terminal through test control, read the issuer keys with the
// terminal key, and scan an 18-digit code made by the TypeScript wallet
// twice: SUCCEEDED, then DECLINED with CODE_REUSED. Java is generated and
// compiled against Debian's protobuf and grpc-java jars; C# is generated only.
//
// Needs Debian packages (installed by .ci/run). Without them the test fails
// under CI=true and is skipped elsewhere, naming what to install.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { createPaycodeTransport, MemoryWalletStateStore, WalletClient } from "@paycode/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandResult,
  runCommand,
  type ServeProcess,
  startServeProcess,
} from "./child-process.js";

const ROOT = resolve(import.meta.dirname, "..");
const CI = process.env.CI === "true";
const MINUTE = 60_000;
const GENERATOR = join(ROOT, "scripts/generate-sdk.mjs");
const PYTHON = "/usr/bin/python3"; // Debian's, which python3-grpcio serves
const GOCODE = "/usr/share/gocode";
const JARS = "/usr/share/java";
const JAVA_CLASSPATH = [
  ["protobuf.jar", "libprotobuf-java"],
  ["grpc-api.jar", "libgrpc-java"],
  ["grpc-stub.jar", "libgrpc-java"],
  ["grpc-protobuf.jar", "libgrpc-java"],
  ["grpc-protobuf-lite.jar", "libgrpc-java"],
  ["guava.jar", "libguava-java"],
  ["geronimo-annotation-1.3-spec.jar", "libgeronimo-annotation-1.3-spec-java"],
] as const;

function onPath(bin: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
}

/** What is missing to run the test, as "thing (Debian package)". */
function missing(): string[] {
  const out: string[] = [];
  for (const language of ["python", "go", "java", "csharp"]) {
    const r = spawnSync(process.execPath, [GENERATOR, "check", language], { encoding: "utf8" });
    if (r.status !== 0) out.push(...r.stderr.trim().split("\n"));
  }
  const py = spawnSync(PYTHON, ["-c", "import grpc, google.protobuf, cryptography"], {
    stdio: "ignore",
  });
  if (py.status !== 0)
    out.push(
      `${PYTHON} with grpc, protobuf, cryptography (python3-grpcio python3-protobuf python3-cryptography)`,
    );
  if (!onPath("go")) out.push("go (golang-go)");
  for (const [dir, pkg] of [
    ["google.golang.org/grpc", "golang-google-grpc-dev"],
    ["google.golang.org/protobuf", "golang-google-protobuf-dev"],
    // grpc-go 1.33's codec goes through github.com/golang/protobuf; the 1.3
    // series cannot marshal APIv2 messages, 1.5 can.
    ["github.com/golang/protobuf/proto/registry.go", "golang-github-golang-protobuf-1-5-dev"],
  ]) {
    if (!existsSync(join(GOCODE, "src", dir))) out.push(`${GOCODE}/src/${dir} (${pkg})`);
  }
  if (!onPath("javac")) out.push("javac (default-jdk-headless)");
  for (const [jar, pkg] of JAVA_CLASSPATH) {
    if (!existsSync(join(JARS, jar))) out.push(`${JARS}/${jar} (${pkg})`);
  }
  return [...new Set(out)];
}

const MISSING = missing();
if (MISSING.length > 0 && !CI) {
  console.warn(
    `cross-language SDK test skipped, missing:\n  ${MISSING.join("\n  ")}\n` +
      "install the Debian packages listed in .ci/run (apt-get install ...) to run it",
  );
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return runCommand(cmd, args, { cwd: opts.cwd ?? ROOT, timeoutMs: MINUTE, ...opts });
}

async function mustRun(
  what: string,
  cmd: string,
  args: string[],
  opts?: Parameters<typeof run>[2],
): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${what} exited with ${r.code}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

function filesUnder(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, suffix));
    else if (e.name.endsWith(suffix)) out.push(p);
  }
  return out;
}

/** One client language: how to run a command of its example program. */
type Client = (args: string[]) => Promise<Record<string, unknown>>;

describe.skipIf(MISSING.length > 0 && !CI)(
  "SDKs generated from proto/ against the reference server",
  () => {
    let work = "";
    let server: ServeProcess | undefined;
    let hostPort = "";
    const clients: Record<"python" | "go", Client> = {
      python: () => Promise.reject(new Error("not set up")),
      go: () => Promise.reject(new Error("not set up")),
    };

    const generate = (language: string, out: string) =>
      mustRun(`npm run sdk -- ${language}`, process.execPath, [GENERATOR, language, "--out", out]);

    beforeAll(async () => {
      if (MISSING.length > 0) {
        throw new Error(
          `CI=true and the cross-language SDK test cannot run, missing:\n  ${MISSING.join("\n  ")}`,
        );
      }
      work = mkdtempSync(join(tmpdir(), "paycode-sdk-"));
      expect(relative(ROOT, work).startsWith("..")).toBe(true);

      server = await startServeProcess(
        process.execPath,
        [
          join(ROOT, "reference/cli/bin/paycode.js"),
          "serve",
          "--enable-test-control",
          "--port",
          "0",
          "--store",
          `sqlite:${join(work, "paycode.db")}`,
        ],
        { cwd: work },
      );
      const { url } = server;
      hostPort = new URL(url).host;

      // Python: generated modules on PYTHONPATH, the example run as is.
      const pyOut = join(work, "python");
      await generate("python", pyOut);
      const pyProgram = join(ROOT, "docs/sdk-examples/python/paycode_client.py");
      clients.python = async (args) => {
        const stdout = await mustRun(
          `python ${args[0]}`,
          PYTHON,
          [pyProgram, "--server", hostPort, ...args],
          { env: { ...process.env, PYTHONPATH: pyOut } },
        );
        return JSON.parse(stdout);
      };

      // Go: GOPATH mode over Debian's /usr/share/gocode, no module proxy.
      const gopath = join(work, "gopath");
      await generate("go", join(gopath, "src/github.com/paycode/paycode/gen/go"));
      const mainDir = join(gopath, "src/paycodeclient");
      mkdirSync(mainDir, { recursive: true });
      copyFileSync(join(ROOT, "docs/sdk-examples/go/main.go"), join(mainDir, "main.go"));
      const goBin = join(work, "paycode-client");
      const goEnv = {
        ...process.env,
        GOPATH: `${gopath}:${GOCODE}`,
        GO111MODULE: "off",
        GOFLAGS: "",
        GOPROXY: "off",
        // Go's build cache is safe to share between runs; it saves most of the build.
        GOCACHE: join(tmpdir(), "paycode-sdk-gocache"),
      };
      const started = Date.now();
      await mustRun("go build", "go", ["build", "-o", goBin, "."], {
        cwd: mainDir,
        env: goEnv,
        timeoutMs: 5 * MINUTE,
      });
      console.log(`cross-language: go build took ${Math.round((Date.now() - started) / 1000)} s`);
      clients.go = async (args) => {
        const [command, ...rest] = args;
        const flags = rest.map((a) => a.replace(/^--/, "-"));
        const stdout = await mustRun(`go ${command}`, goBin, [
          "-server",
          hostPort,
          command!,
          ...flags,
        ]);
        return JSON.parse(stdout);
      };
    }, 10 * MINUTE);

    afterAll(async () => {
      await server?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    }, MINUTE);

    for (const language of ["python", "go"] as const) {
      it(`${language}: ping, test-control set-up, issuer keys, a wallet code scanned twice`, async () => {
        const client = (args: string[]) => clients[language](args);
        expect(await client(["ping"])).toEqual({ ping: "ok" });

        const setup = (await client([
          "setup",
          "--password",
          "246810",
          "--balance",
          "50000",
        ])) as Record<string, string>;
        expect(setup.implementation).toMatch(/^paycode-reference\//);
        expect(setup.account_id).toMatch(/\S/);
        expect(setup.merchant_key).toMatch(/\S/);
        expect(setup.terminal_key).toMatch(/\S/);

        const keys = await client(["issuer-keys", "--terminal-key", setup.terminal_key!]);
        expect(keys.keys).toBeGreaterThanOrEqual(1);
        expect(keys.currency).toBe(setup.currency);

        // The TypeScript wallet makes the code: generated stubs carry no code
        // algorithm (spec/paycode.md §4-§6).
        const transport = createPaycodeTransport({
          baseUrl: `http://${hostPort}`,
          protocol: "grpc",
        });
        try {
          const wallet = new WalletClient({
            store: new MemoryWalletStateStore(),
            transport: transport.transport,
          });
          await wallet.provision({
            accountId: setup.account_id!,
            password: "246810",
            deviceLabel: `${language} cross-language test`,
          });
          const code = wallet.onlineCode();
          expect(code).toMatch(/^\d{18}$/);

          const scan = (order: string) =>
            client([
              "scan",
              "--merchant-key",
              setup.merchant_key!,
              "--code",
              code,
              "--amount",
              "1234",
              "--currency",
              setup.currency!,
              "--order",
              order,
            ]);
          const first = await scan(`${language}-${randomUUID()}`);
          expect(first).toMatchObject({ status: "SUCCEEDED", amount_minor: 1234 });
          const again = await scan(`${language}-${randomUUID()}`);
          expect(again).toMatchObject({ status: "DECLINED", decline_reason: "CODE_REUSED" });

          // Poll and cancel, as the guide shows: a cancel refunds a success.
          const polled = await client([
            "get",
            "--merchant-key",
            setup.merchant_key!,
            "--order",
            String(first.out_trade_no),
          ]);
          expect(polled).toMatchObject({ payment_id: first.payment_id, status: "SUCCEEDED" });
          const cancelled = await client([
            "cancel",
            "--merchant-key",
            setup.merchant_key!,
            "--order",
            String(first.out_trade_no),
          ]);
          expect(cancelled).toMatchObject({ status: "REFUNDED", action: "REFUNDED" });

          // Provisioning from the other language revokes the TypeScript wallet.
          const provisioned = await client([
            "provision",
            "--account",
            setup.account_id!,
            "--password",
            "246810",
          ]);
          expect(provisioned).toMatchObject({ seed_bytes: 32 });
        } finally {
          transport.close();
        }
      });
    }

    it(
      "java: generated messages and grpc-java stubs compile against Debian's jars",
      async () => {
        const out = join(work, "java");
        await generate("java", out);
        const sources = filesUnder(out, ".java");
        expect(sources.some((f) => f.endsWith("dev/paycode/v1/MerchantServiceGrpc.java"))).toBe(
          true,
        );
        const classes = join(work, "java-classes");
        const classpath = JAVA_CLASSPATH.map(([jar]) => join(JARS, jar)).join(":");
        await mustRun("javac", "javac", ["-nowarn", "-d", classes, "-cp", classpath, ...sources], {
          timeoutMs: 5 * MINUTE,
        });
        expect(existsSync(join(classes, "dev/paycode/v1/MerchantServiceGrpc.class"))).toBe(true);
        expect(existsSync(join(classes, "dev/paycode/v1/ScanRequest.class"))).toBe(true);
      },
      5 * MINUTE,
    );

    it("csharp: generated messages (not compiled: Debian has no Google.Protobuf runtime)", async () => {
      const out = join(work, "csharp");
      await generate("csharp", out);
      const files = filesUnder(out, ".cs").map((f) => relative(out, f));
      expect(files).toContain("MerchantService.cs");
      expect(files).toHaveLength(9);
    });
  },
);
