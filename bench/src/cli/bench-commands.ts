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
  client: "auto" | "raw" | "node" | "sdk";
  h2Client?: "raw" | "node";
  httpVersion?: "2" | "1.1";
  http?: "2" | "1.1";
  concurrency?: number;
  rate?: number;
  maxInflight?: number;
  connections: number;
}

const httpOf = (o: ModeOptions) => o.httpVersion ?? o.http ?? "2";
const clientOf = (o: ModeOptions) => (o.client === "auto" && o.h2Client ? o.h2Client : o.client);

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
    .addOption(
      new Option("--http-version <version>", "HTTP version (default 2)").choices(["2", "1.1"]),
    )
    .addOption(
      new Option("--http <version>", "same as --http-version").choices(["2", "1.1"]).hideHelp(),
    )
    .option("--connections <n>", "HTTP/2 connections (streams are multiplexed)", positiveInt, 1)
    .addOption(
      new Option(
        "--client <impl>",
        "client that drives the load: raw (bench's h2c frames, Connect only), node (node:http/http2, Connect only), sdk (@paycode/sdk: any protocol, TLS); auto = raw for Connect over h2c, node for Connect over HTTP/1.1 cleartext, sdk otherwise",
      )
        .choices(["auto", "raw", "node", "sdk"])
        .default("auto"),
    )
    .addOption(
      new Option("--h2-client <impl>", "same as --client").choices(["raw", "node"]).hideHelp(),
    )
    .option("--json <file>", "write the full report as JSON")
    .option("--quiet", "no progress line");
}

/** Adds `micro`, `load`, `floor-http`, `summarize` and `profile-summary` to `bench`. */
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
      "n rounds over every task, each task right after its floor and peer; report medians",
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
      .description(
        "drive Scan (online or offline codes), UploadOfflineBatch or declined Scans against any implementation; Ping (no-op RPC) is the floor",
      )
      .requiredOption(
        "--target <url>",
        "base URL (http:// or https://): with test control, or with --credentials",
      )
      .addOption(
        new Option("--work <kind>", "what the work phase drives")
          .choices(["scan-online", "scan-offline", "upload-batch", "decline"])
          .default("scan-online"),
      )
      .option(
        "--batch-size <n>",
        "upload-batch: records per UploadOfflineBatch call",
        positiveInt,
        100,
      )
      .option(
        "--credentials <file>",
        "JSON merchant/terminal keys + wallets (paycode-bench provision); without test control the only input; with it, a wallet cache reused across runs (created, topped up, written back)",
      )
      .option(
        "--wallets <n>",
        "wallet population (default: as many as the load needs)",
        positiveInt,
      )
      .option(
        "--wallet-file <file>",
        "online-code wallets written by `bench seed-wallets` (handle + seed lines) instead of provisioning",
      )
      .option(
        "--expected-rate <r>",
        "closed loop: work rate (calls/s) to budget for (default: a short calibration run)",
        positiveNumber,
      )
      .option("--provision-parallel <n>", "parallel provisioning calls", positiveInt, 8)
      .option("--amount <minor>", "amount of each Scan or record, minor units", positiveInt, 1)
      .addOption(
        new Option("--protocol <p>", "wire protocol")
          .choices(["connect", "grpc", "grpc-web"])
          .default("connect"),
      )
      .option("--ca-file <pem>", "https:// targets: CA certificate(s) to trust (PEM)")
      .option("--store-label <text>", 'store description for the report, e.g. "sqlite"')
      .option(
        "--compare <url>",
        "run the same load against this second target, back to back, and report B ÷ A",
      )
      .option("--compare-credentials <file>", "--credentials for the --compare target")
      .option("--compare-store-label <text>", "store label of the --compare target")
      .option("--compare-server-pid <pid>", "server pid of the --compare target", positiveInt)
      .option("--svg <file>", "write the latency percentile plot as SVG")
      .option("--html <file>", "write a self-contained HTML page (report, plots, JSON)")
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
        work: "scan-online" | "scan-offline" | "upload-batch" | "decline";
        batchSize: number;
        credentials?: string;
        wallets?: number;
        walletFile?: string;
        expectedRate?: number;
        provisionParallel: number;
        amount: number;
        protocol: "connect" | "grpc" | "grpc-web";
        caFile?: string;
        storeLabel?: string;
        compare?: string;
        compareCredentials?: string;
        compareStoreLabel?: string;
        compareServerPid?: number;
        json?: string;
        svg?: string;
        html?: string;
        floorHttp?: boolean;
        serverPid?: number;
        ping: boolean;
        quiet?: boolean;
      },
    ) => {
      const {
        compareSvg,
        formatCompareReport,
        formatLoadReport,
        loadReportSvg,
        reportHtml,
        runCompare,
        runLoad,
        silentProgress,
        streamProgress,
        toJson,
      } = await loadBench();
      const mode = modeOf(o);
      const progress = o.quiet ? silentProgress : streamProgress();
      const trim = (u: string) => u.replace(/\/+$/, "");
      const options = {
        target: trim(o.target),
        mode,
        durationS: o.duration,
        warmupS: o.warmup,
        http: httpOf(o),
        connections: o.connections,
        client: clientOf(o),
        protocol: o.protocol,
        work: o.work,
        batchSize: o.batchSize,
        ...(o.caFile !== undefined ? { caFile: o.caFile } : {}),
        ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
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
      };
      if (o.compare) {
        const { credentials: _c, storeLabel: _s, serverPid: _p, ...rest } = options;
        const report = await runCompare(options, {
          ...rest,
          target: trim(o.compare),
          ...(o.compareCredentials !== undefined ? { credentials: o.compareCredentials } : {}),
          ...(o.compareStoreLabel !== undefined ? { storeLabel: o.compareStoreLabel } : {}),
          ...(o.compareServerPid !== undefined ? { serverPid: o.compareServerPid } : {}),
        });
        process.stdout.write(`${formatCompareReport(report)}\n`);
        if (o.json) await writeFile(o.json, toJson(report));
        if (o.svg) await writeFile(o.svg, compareSvg(report));
        if (o.html) await writeFile(o.html, reportHtml(report));
        return;
      }
      const report = await runLoad(options);
      process.stdout.write(`${formatLoadReport(report)}\n`);
      if (o.json) await writeFile(o.json, toJson(report));
      if (o.svg) await writeFile(o.svg, loadReportSvg(report));
      if (o.html) await writeFile(o.html, reportHtml(report));
    },
  );

  bench
    .command("provision")
    .description(
      "make a --credentials file: merchant and terminal keys and funded wallets (with test control, or from accounts you made)",
    )
    .requiredOption("--target <url>", "base URL of the target")
    .requiredOption("--out <file>", "credentials JSON to write (holds secrets: mode 0600)")
    .option("--wallets <n>", "wallets to provision", positiveInt, 100)
    .option(
      "--accounts <file>",
      "no test control: funded accounts you created, one `accountId password` line each (one wallet per account)",
    )
    .option("--merchant-key <key>", "merchant API key (else test control creates a merchant)")
    .option("--merchant-id <id>", "id of --merchant-key's merchant (informative)")
    .option("--terminal-key <key>", "terminal API key (else test control creates a terminal)")
    .option("--terminal-id <id>", "id of --terminal-key's terminal (informative)")
    .option("--parallel <n>", "parallel provisioning calls", positiveInt, 8)
    .addOption(
      new Option("--protocol <p>", "wire protocol")
        .choices(["connect", "grpc", "grpc-web"])
        .default("connect"),
    )
    .addOption(
      new Option("--http-version <version>", "HTTP version").choices(["2", "1.1"]).default("2"),
    )
    .option("--ca-file <pem>", "https:// targets: CA certificate(s) to trust (PEM)")
    .action(
      async (o: {
        target: string;
        out: string;
        wallets: number;
        accounts?: string;
        merchantKey?: string;
        merchantId?: string;
        terminalKey?: string;
        terminalId?: string;
        parallel: number;
        protocol: "connect" | "grpc" | "grpc-web";
        httpVersion: "2" | "1.1";
        caFile?: string;
      }) => {
        const { provisionCredentials } = await loadBench();
        const r = await provisionCredentials({
          target: o.target.replace(/\/+$/, ""),
          out: o.out,
          wallets: o.wallets,
          parallel: o.parallel,
          protocol: o.protocol,
          http: o.httpVersion,
          ...(o.caFile !== undefined ? { caFile: o.caFile } : {}),
          ...(o.accounts !== undefined ? { accountsFile: o.accounts } : {}),
          ...(o.merchantKey !== undefined
            ? { merchant: { id: o.merchantId ?? "", apiKey: o.merchantKey } }
            : {}),
          ...(o.terminalKey !== undefined
            ? { terminal: { id: o.terminalId ?? "", apiKey: o.terminalKey } }
            : {}),
          onProgress: (done, total) => process.stderr.write(`  provisioned ${done}/${total}\n`),
        });
        process.stdout.write(
          `provisioned ${r.wallets} wallets in ${r.seconds.toFixed(1)} s (${((r.seconds * 1000) / Math.max(1, r.wallets)).toFixed(0)} ms each); credentials in ${o.out}\n`,
        );
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
          http: httpOf(o),
          connections: o.connections,
          client: clientOf(o),
          mode,
          warmupS: o.warmup,
          durationS: o.duration,
        },
        o.quiet ? silentProgress : streamProgress(),
      );
      const machine = machineInfo();
      process.stdout.write(
        `${describeMode(mode)}, HTTP/${httpOf(o)}\nmachine ${describeMachine(machine)}\n\n${formatPhaseTable([phase])}\n`,
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
  bench
    .command("profile-summary")
    .description(
      "per-layer split and top self frames of a server's node --cpu-prof profile (markdown)",
    )
    .argument("<file>", ".cpuprofile written by node --cpu-prof")
    .option("--from <s>", "first second of the profile to count", nonNegativeNumber, 0)
    .option("--to <s>", "last second of the profile to count", positiveNumber)
    .option("--top <n>", "self frames to list", positiveInt, 15)
    .action(async (file: string, o: { from: number; to?: number; top: number }) => {
      const { summarizeCpuProfile, formatProfileSummary } = await loadBench();
      const s = summarizeCpuProfile(file, { fromS: o.from, toS: o.to, top: o.top });
      process.stdout.write(`${formatProfileSummary(s)}\n`);
    });
}
