import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { HealthService, MerchantService } from "@paycode/protocol/v1";
import { type MachineInfo, machineInfo } from "../machine.js";
import { startBareServer } from "./bare-server.js";
import { prepareScans, type WalletSecret, walletsNeeded } from "./codes.js";
import { methodPath } from "./connect-unary.js";
import { drivePhase, type LoadMode, type PhaseResult } from "./drive.js";
import { H1Transport } from "./h1-transport.js";
import { H2Transport } from "./h2-transport.js";
import { type ProgressSink, silentProgress } from "./progress.js";
import { createBenchMerchant, fetchTargetInfo, ping, provisionWallets } from "./provision.js";
import { RawH2Transport } from "./raw-h2-transport.js";
import { RepeatSource, ScanSource } from "./sources.js";
import type { HttpVersion, UnaryTransport } from "./transport.js";
import { readWalletFile, sample } from "./wallet-file.js";

export interface LoadOptions {
  /** Base URL of the target, e.g. http://127.0.0.1:8080. */
  target: string;
  mode: LoadMode;
  durationS: number;
  warmupS: number;
  http: HttpVersion;
  /** HTTP/2 sessions (h2) or ignored (h1: one socket per in-flight call). */
  connections: number;
  /** HTTP/2 client: "raw" frames (default, lean) or the stock `node:http2` client. */
  h2Client?: H2Client;
  protocol: "connect";
  /**
   * Wallet population. Without a wallet file: how many to provision over
   * RPC (default: as many as the load needs). With one: how many of the
   * file's wallets form the population (default: all).
   */
  wallets?: number;
  walletFile?: string;
  /** Closed loop: Scan rate to budget codes for; default the measured Ping rate. */
  expectedRate?: number;
  /** Parallel ProvisionSeed calls. */
  provisionParallel: number;
  amountMinor: bigint;
  storeLabel?: string;
  /** Also measure a bare node:http(2) handler in a child process. */
  floorHttp: boolean;
  /** The target server's pid, to report its CPU use (Linux, same machine). */
  serverPid?: number;
  /** Skip the Ping phase (not recommended: it is the floor). */
  skipPing?: boolean;
  progress?: ProgressSink;
}

export interface LoadReport {
  kind: "paycode-bench-load";
  version: 1;
  startedAt: string;
  machine: MachineInfo;
  target: string;
  implementation: string;
  storeLabel: string | null;
  transport: string;
  options: {
    mode: LoadMode;
    durationS: number;
    warmupS: number;
    http: HttpVersion;
    h2Client: H2Client;
    connections: number;
    protocol: string;
    amountMinor: string;
  };
  setup: {
    walletSource: "rpc" | "file";
    walletPopulation: number;
    walletsNeeded: number;
    walletsUsed: number;
    codesPrepared: number;
    codesSkippedExpiring: number;
    codesLeft: number;
    budgetRate: number;
    /** Closed loop without --expected-rate: Scan rate of the short calibration run. */
    calibrationRate?: number;
    provisionSeconds: number;
    prepareSeconds: number;
    warnings: string[];
  };
  phases: { ping?: PhaseResult; scan: PhaseResult; bareHttp?: PhaseResult };
  /** Scan payment outcomes, warm-up included: SUCCEEDED, DECLINED:<reason>, ... */
  scanOutcomes: Record<string, number>;
  ratios: {
    /** Scan ok/s ÷ Ping ok/s (closed loop: capacity ratio). */
    scanToPingThroughput?: number;
    /** Ping ok/s ÷ bare-http ok/s. */
    pingToBareThroughput?: number;
    /** Scan p50 ÷ Ping p50 (open loop: latency ratio at the same rate). */
    scanToPingP50?: number;
    scanToPingP99?: number;
    pingToBareP50?: number;
  };
}

export type H2Client = "raw" | "node";

function newTransport(
  url: string,
  http: HttpVersion,
  connections: number,
  mode: LoadMode,
  h2Client: H2Client = "raw",
): UnaryTransport {
  if (http === "2") {
    return h2Client === "node"
      ? new H2Transport(url, connections, "application/proto")
      : new RawH2Transport(url, connections, "application/proto");
  }
  const sockets = mode.kind === "closed" ? mode.concurrency : mode.maxInFlight;
  return new H1Transport(url, Math.max(1, sockets), "application/proto");
}

const CALIBRATION_WALLETS = 64;
const CALIBRATION_S = 2;

/**
 * Where wallets come from: a wallet file (its first `--wallets` lines form
 * the population) or RPC provisioning on demand (`--wallets` provisions
 * that many up front). Wallets handed out are never handed out again, so
 * no code is made twice.
 */
class WalletPool {
  private handedOut = 0;

  private constructor(
    private readonly secrets: WalletSecret[],
    private readonly provision: ((n: number) => Promise<WalletSecret[]>) | undefined,
    private provisioned: number,
  ) {}

  static async open(
    o: LoadOptions,
    t: UnaryTransport,
    currency: string,
    progress: ProgressSink,
  ): Promise<WalletPool> {
    const provision = async (count: number) => {
      progress.note(`provisioning ${count} wallets over RPC (CreateAccount + ProvisionSeed)...`);
      return provisionWallets(t, count, currency, o.provisionParallel, (done) =>
        progress.note(`  provisioned ${done}/${count}`),
      );
    };
    if (o.walletFile) {
      const all = await readWalletFile(o.walletFile);
      const pop = o.wallets !== undefined ? all.slice(0, o.wallets) : all;
      progress.note(`wallet file: ${all.length} wallets, population ${pop.length}`);
      // Shuffled once: take() then hands out random, distinct wallets.
      return new WalletPool(sample(pop, pop.length), undefined, pop.length);
    }
    if (o.wallets !== undefined) {
      const all = await provision(o.wallets);
      return new WalletPool(sample(all, all.length), undefined, all.length);
    }
    return new WalletPool([], provision, 0);
  }

  get population(): number {
    return this.provision ? this.provisioned : this.secrets.length;
  }

  /** Up to `want` unused wallets; provisions on demand up to `atLeast` (default want). */
  async take(want: number, atLeast = want): Promise<WalletSecret[]> {
    if (this.provision) {
      const fresh = await this.provision(atLeast);
      this.provisioned += fresh.length;
      return fresh;
    }
    const out = this.secrets.slice(this.handedOut, this.handedOut + want);
    this.handedOut += out.length;
    return out;
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 ? round3(a / b) : undefined;

/**
 * One load run: Ping (the floor: same server, same client, an RPC that does
 * nothing), then Scan with real codes, then optionally a bare HTTP handler.
 */
export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const progress = o.progress ?? silentProgress;
  const startedAt = new Date().toISOString();
  const warnings: string[] = [];
  const transport = newTransport(o.target, o.http, o.connections, o.mode, o.h2Client);
  await transport.connect();
  try {
    await ping(transport).catch((e: unknown) => {
      throw new Error(`${o.target} does not answer HealthService.Ping: ${(e as Error).message}`);
    });
    const info = await fetchTargetInfo(transport);
    const phaseS = o.warmupS + o.durationS;

    let pingPhase: PhaseResult | undefined;
    if (!o.skipPing) {
      const endpoint = transport.prepare(methodPath(HealthService.method.ping));
      pingPhase = await drivePhase({
        name: "ping",
        mode: o.mode,
        warmupS: o.warmupS,
        durationS: o.durationS,
        source: new RepeatSource(transport, endpoint),
        progress,
        ...(o.serverPid !== undefined ? { serverPid: o.serverPid } : {}),
      });
    }

    const merchant = await createBenchMerchant(transport, "paycode bench");
    const scanEndpoint = transport.prepare(methodPath(MerchantService.method.scan), {
      authorization: `Bearer ${merchant.apiKey}`,
    });
    const runTag = `bench-${randomBytes(6).toString("hex")}`;
    const tProvision = performance.now();
    const pool = await WalletPool.open(o, transport, info.currency, progress);

    // Budget codes for the rate Scan can reach: the open-loop rate, the
    // given --expected-rate, or (closed loop) a short calibration run of
    // Scan itself on a few wallets set aside for it.
    let budgetRate: number;
    let calibration: { rate: number; wallets: number } | undefined;
    if (o.mode.kind === "open") budgetRate = o.mode.rate;
    else if (o.expectedRate !== undefined) budgetRate = o.expectedRate;
    else {
      const wallets = await pool.take(CALIBRATION_WALLETS);
      const cal = await drivePhase({
        name: "calibrate",
        mode: o.mode,
        warmupS: 0,
        durationS: CALIBRATION_S,
        source: new ScanSource(
          transport,
          scanEndpoint,
          prepareScans({
            wallets,
            profile: info.profile,
            serverNowMs: Date.now() + info.clockOffsetMs,
            phaseSeconds: CALIBRATION_S,
            rate: Math.max(1000, pingPhase?.throughput ?? 5000),
            currency: info.currency,
            amountMinor: o.amountMinor,
            runTag: `${runTag}-cal`,
          }),
          info.profile,
          info.clockOffsetMs,
        ),
        progress,
      });
      calibration = { rate: cal.throughput, wallets: wallets.length };
      // 1.5×: the warmed-up server may be faster than during calibration.
      budgetRate = Math.max(50, cal.throughput * 1.5);
      progress.note(`calibration: Scan ran at ${Math.round(cal.throughput)}/s`);
    }
    const needed = walletsNeeded(budgetRate, phaseS, info.profile);
    progress.note(
      `wallets needed for ${Math.round(budgetRate)} scans/s over ${phaseS} s: ${needed} ` +
        `(8 codes per wallet per 60 s step, window −${info.profile.windowBackSteps}/+${info.profile.windowAheadSteps} steps)`,
    );
    // Spread the load over as much of the population as the codes reach,
    // as real traffic would: one code per wallet when the population is large.
    const used = await pool.take(Math.max(needed, Math.ceil(budgetRate * phaseS * 1.2)), needed);
    const population = pool.population;
    const provisionSeconds = (performance.now() - tProvision) / 1000;
    if (used.length < needed) {
      warnings.push(
        `only ${used.length} wallets for ${needed} needed: Scan may run out of codes ` +
          `(pass --wallets ${needed + (calibration?.wallets ?? 0)} or more, or lower --rate / --duration)`,
      );
    }

    const tPrepare = performance.now();
    const scans = prepareScans({
      wallets: used,
      profile: info.profile,
      serverNowMs: Date.now() + info.clockOffsetMs,
      phaseSeconds: phaseS,
      rate: budgetRate,
      currency: info.currency,
      amountMinor: o.amountMinor,
      runTag,
    });
    const prepareSeconds = (performance.now() - tPrepare) / 1000;
    progress.note(`prepared ${scans.length} Scan requests in ${prepareSeconds.toFixed(1)} s`);

    const scanSource = new ScanSource(
      transport,
      scanEndpoint,
      scans,
      info.profile,
      info.clockOffsetMs,
    );
    const scanPhase = await drivePhase({
      name: "scan",
      mode: o.mode,
      warmupS: o.warmupS,
      durationS: o.durationS,
      source: scanSource,
      progress,
      ...(o.serverPid !== undefined ? { serverPid: o.serverPid } : {}),
    });
    if (scanPhase.ended === "exhausted") {
      warnings.push(
        `Scan ran out of codes after ${scanPhase.measuredS} s measured: provision more wallets`,
      );
    }
    const outcomes = scanSource.outcomes;
    const answered = Object.values(outcomes).reduce((a, b) => a + b, 0);
    const succeeded = outcomes["SUCCEEDED"] ?? 0;
    if (answered > 0 && succeeded < answered * 0.99) {
      warnings.push(
        `only ${succeeded} of ${answered} scans SUCCEEDED; see scanOutcomes — the figures ` +
          "are not those of the success path",
      );
    }

    let barePhase: PhaseResult | undefined;
    if (o.floorHttp) {
      barePhase = await runBarePhase(o, progress);
    }

    const p = pingPhase;
    return {
      kind: "paycode-bench-load",
      version: 1,
      startedAt,
      machine: machineInfo(),
      target: o.target,
      implementation: info.implementation,
      storeLabel: o.storeLabel ?? null,
      transport: transport.description,
      options: {
        mode: o.mode,
        durationS: o.durationS,
        warmupS: o.warmupS,
        http: o.http,
        h2Client: o.h2Client ?? "raw",
        connections: o.connections,
        protocol: o.protocol,
        amountMinor: o.amountMinor.toString(),
      },
      setup: {
        walletSource: o.walletFile ? "file" : "rpc",
        walletPopulation: population,
        walletsNeeded: needed,
        walletsUsed: used.length,
        codesPrepared: scans.length,
        codesSkippedExpiring: scanSource.skippedExpiring,
        codesLeft: scanSource.remaining,
        budgetRate: Math.round(budgetRate),
        ...(calibration ? { calibrationRate: Math.round(calibration.rate) } : {}),
        provisionSeconds: round3(provisionSeconds),
        prepareSeconds: round3(prepareSeconds),
        warnings,
      },
      phases: {
        ...(p ? { ping: p } : {}),
        scan: scanPhase,
        ...(barePhase ? { bareHttp: barePhase } : {}),
      },
      scanOutcomes: outcomes,
      ratios: {
        scanToPingThroughput: ratio(scanPhase.throughput, p?.throughput),
        pingToBareThroughput: ratio(p?.throughput, barePhase?.throughput),
        scanToPingP50: ratio(scanPhase.latency.p50Us, p?.latency.p50Us),
        scanToPingP99: ratio(scanPhase.latency.p99Us, p?.latency.p99Us),
        pingToBareP50: ratio(p?.latency.p50Us, barePhase?.latency.p50Us),
      },
    };
  } finally {
    await transport.close();
  }
}

/** The bare node:http(2) handler, driven exactly like Ping. */
export async function runBarePhase(
  o: Pick<LoadOptions, "http" | "connections" | "mode" | "warmupS" | "durationS" | "h2Client">,
  progress: ProgressSink,
): Promise<PhaseResult> {
  const bare = await startBareServer(o.http);
  const t = newTransport(bare.url, o.http, o.connections, o.mode, o.h2Client);
  try {
    await t.connect();
    return await drivePhase({
      name: "bare-http",
      mode: o.mode,
      warmupS: o.warmupS,
      durationS: o.durationS,
      source: new RepeatSource(t, t.prepare(methodPath(HealthService.method.ping))),
      progress,
      serverPid: bare.pid,
    });
  } finally {
    await t.close();
    await bare.stop();
  }
}
