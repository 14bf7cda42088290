import { writeFile } from "node:fs/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { LoadMode } from "../index.js";

/** The benchmarks themselves, loaded when a command runs rather than for `--help`. */
const loadBench = () => import("../index.js");

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number");
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("must be a number ≥ 0");
  return n;
}

interface ModeOptions {
  h2Client: "raw" | "node";
  concurrency?: number;
  rate?: number;
  maxInflight?: number;
  connections: number;
}

function modeOf(o: ModeOptions): LoadMode {
  if (o.rate !== undefined && o.concurrency !== undefined) {
    throw new InvalidArgumentError("give either --concurrency or --rate, not both");
  }
  if (o.rate !== undefined) {
    return { kind: "open", rate: o.rate, maxInFlight: o.maxInflight ?? 1000 * o.connections };
  }
  return { kind: "closed", concurrency: o.concurrency ?? 16 };
}

function addDriveOptions(c: Command): Command {
  return c
    .option("--concurrency <n>", "closed loop: calls in flight (default 16)", positiveInt)
    .option(
      "--rate <r>",
      "open loop: calls per second, latency from intended send time",
      positiveNumber,
    )
    .option(
      "--max-inflight <n>",
      "open loop: in-flight cap; calls beyond it queue (charged)",
      positiveInt,
    )
    .option("--duration <s>", "measured seconds per phase", positiveNumber, 10)
    .option("--warmup <s>", "warm-up seconds per phase (not measured)", nonNegativeNumber, 2)
    .addOption(new Option("--http <version>", "HTTP version").choices(["2", "1.1"]).default("2"))
    .option("--connections <n>", "HTTP/2 connections (streams are multiplexed)", positiveInt, 1)
    .addOption(
      new Option("--h2-client <impl>", "HTTP/2 client: raw frames (lean) or node:http2")
        .choices(["raw", "node"])
        .default("raw"),
    )
    .option("--json <file>", "write the full report as JSON")
    .option("--quiet", "no progress line");
}

/** Adds `micro`, `load`, `floor-http` and `summarize` to `bench`. */
export function addBenchCommands(bench: Command): void {
  bench
    .command("micro")
    .description(
      "codec micro-benchmarks (tinybench) against HMAC / Ed25519 floors and OTP / FF1 peers",
    )
    .option("--time <ms>", "measured time per task, milliseconds", positiveInt, 1000)
    .option("--tasks <list>", "only tasks whose id contains one of these (comma-separated)")
    .option(
      "--rounds <n>",
      "run every task n times, interleaved; report the median",
      positiveInt,
      1,
    )
    .option("--json <file>", "write the full report as JSON")
    .option("--quiet", "no progress")
    .action(
      async (o: {
        time: number;
        rounds: number;
        tasks?: string;
        json?: string;
        quiet?: boolean;
      }) => {
        const { describeMachine, formatMicroReport, machineInfo, runMicro, toJson } =
          await loadBench();
        if (!o.quiet) process.stderr.write(`machine: ${describeMachine(machineInfo())}\n`);
        const report = await runMicro({
          timeMs: o.time,
          rounds: o.rounds,
          ...(o.tasks ? { tasks: o.tasks.split(",").map((s) => s.trim()) } : {}),
          ...(o.quiet ? {} : { onTask: (id: string) => process.stderr.write(`  ${id}...\n`) }),
        });
        process.stdout.write(`${formatMicroReport(report)}\n`);
        if (o.json) await writeFile(o.json, toJson(report));
      },
    );

  addDriveOptions(
    bench
      .command("load")
      .description("drive MerchantService.Scan with real codes; Ping (no-op RPC) is the floor")
      .requiredOption("--target <url>", "base URL of a server with test control enabled")
      .option(
        "--wallets <n>",
        "wallet population (default: as many as the load needs)",
        positiveInt,
      )
      .option(
        "--wallet-file <file>",
        "wallets written by `bench seed-wallets` instead of provisioning",
      )
      .option(
        "--expected-rate <r>",
        "closed loop: Scan rate to budget codes for (default: Ping's)",
        positiveNumber,
      )
      .option("--provision-parallel <n>", "parallel ProvisionSeed calls", positiveInt, 4)
      .option("--amount <minor>", "amount of each Scan, minor units", positiveInt, 1)
      .addOption(
        new Option("--protocol <p>", "wire protocol").choices(["connect"]).default("connect"),
      )
      .option("--store-label <text>", 'store description for the report, e.g. "sqlite"')
      .option("--svg <file>", "write the latency percentile plot (Scan vs Ping) as SVG")
      .option("--floor-http", "also measure a bare node:http handler in a child process")
      .option(
        "--server-pid <pid>",
        "the server's process id, to report its CPU (Linux, same machine)",
        positiveInt,
      )
      .option("--no-ping", "skip the Ping floor phase"),
  ).action(
    async (
      o: ModeOptions & {
        target: string;
        duration: number;
        warmup: number;
        http: "2" | "1.1";
        wallets?: number;
        walletFile?: string;
        expectedRate?: number;
        provisionParallel: number;
        amount: number;
        protocol: "connect";
        storeLabel?: string;
        json?: string;
        svg?: string;
        floorHttp?: boolean;
        serverPid?: number;
        ping: boolean;
        quiet?: boolean;
      },
    ) => {
      const { formatLoadReport, loadReportSvg, runLoad, silentProgress, streamProgress, toJson } =
        await loadBench();
      const mode = modeOf(o);
      const progress = o.quiet ? silentProgress : streamProgress();
      const report = await runLoad({
        target: o.target.replace(/\/+$/, ""),
        mode,
        durationS: o.duration,
        warmupS: o.warmup,
        http: o.http,
        connections: o.connections,
        h2Client: o.h2Client,
        protocol: o.protocol,
        ...(o.wallets !== undefined ? { wallets: o.wallets } : {}),
        ...(o.walletFile !== undefined ? { walletFile: o.walletFile } : {}),
        ...(o.expectedRate !== undefined ? { expectedRate: o.expectedRate } : {}),
        provisionParallel: o.provisionParallel,
        amountMinor: BigInt(o.amount),
        ...(o.storeLabel !== undefined ? { storeLabel: o.storeLabel } : {}),
        floorHttp: o.floorHttp === true,
        ...(o.serverPid !== undefined ? { serverPid: o.serverPid } : {}),
        skipPing: !o.ping,
        progress,
      });
      process.stdout.write(`${formatLoadReport(report)}\n`);
      if (o.json) await writeFile(o.json, toJson(report));
      if (o.svg) await writeFile(o.svg, loadReportSvg(report));
    },
  );

  addDriveOptions(
    bench
      .command("floor-http")
      .description("drive a bare node:http (or h2c) handler in a child process: the HTTP floor"),
  ).action(
    async (
      o: ModeOptions & {
        duration: number;
        warmup: number;
        http: "2" | "1.1";
        json?: string;
        quiet?: boolean;
      },
    ) => {
      const {
        describeMachine,
        describeMode,
        formatPhaseTable,
        machineInfo,
        runBarePhase,
        silentProgress,
        streamProgress,
        toJson,
      } = await loadBench();
      const mode = modeOf(o);
      const phase = await runBarePhase(
        {
          http: o.http,
          connections: o.connections,
          h2Client: o.h2Client,
          mode,
          warmupS: o.warmup,
          durationS: o.duration,
        },
        o.quiet ? silentProgress : streamProgress(),
      );
      const machine = machineInfo();
      process.stdout.write(
        `${describeMode(mode)}, HTTP/${o.http}\nmachine ${describeMachine(machine)}\n\n${formatPhaseTable([phase])}\n`,
      );
      if (o.json) {
        await writeFile(
          o.json,
          toJson({ kind: "paycode-bench-floor-http", version: 1, machine, phase }),
        );
      }
    },
  );

  bench
    .command("summarize")
    .description("markdown tables of a bench/run-benchmarks.sh output directory")
    .argument("<dir>", "directory with micro.json, sqlite-c16.json, ...")
    .action(async (dir: string) => {
      const { summarizeResults } = await loadBench();
      process.stdout.write(`${summarizeResults(dir)}\n`);
    });
}
