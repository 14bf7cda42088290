import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { stepOf } from "@paycode/protocol";
import { HealthService } from "@paycode/protocol/v1";
import { type MachineInfo, machineInfo } from "../machine.js";
import { startBareServer } from "./bare-server.js";
import { type PreparedScan, prepareScans, walletsNeeded } from "./codes.js";
import { methodPath } from "./connect-unary.js";
import {
  type BenchWallet,
  type Credentials,
  parseAccounts,
  provisionBenchWallets,
  readCredentials,
  writeCredentials,
} from "./credentials.js";
import { drivePhase, type LoadMode, type PhaseResult, type RequestSource } from "./drive.js";
import { H1Transport } from "./h1-transport.js";
import { H2Transport } from "./h2-transport.js";
import { type ProgressSink, silentProgress } from "./progress.js";
import {
  codeProfileOf,
  createBenchMerchant,
  createBenchTerminal,
  fetchTargetInfo,
  fetchTargetInfoAsTerminal,
  ping,
  type TargetInfo,
} from "./provision.js";
import { RawH2Transport } from "./raw-h2-transport.js";
import { SdkTransport } from "./sdk-transport.js";
import { RepeatSource, ScanSource } from "./sources.js";
import type { HttpVersion, UnaryTransport } from "./transport.js";
import { readWalletFile, sample } from "./wallet-file.js";
import {
  OnceSource,
  prepareDeclines,
  prepareOfflineScans,
  prepareUploads,
  scanEndpoint,
  WORK_RPC,
  type WorkKind,
  type WorkSetup,
} from "./work.js";

export type Protocol = "connect" | "grpc" | "grpc-web";
/** auto: raw for Connect over h2c, node for Connect over HTTP/1.1 cleartext, sdk otherwise. */
export type ClientKind = "auto" | "raw" | "node" | "sdk";
/** @deprecated use ClientKind */
export type H2Client = "raw" | "node";

export interface LoadOptions {
  /** Base URL of the target, e.g. http://127.0.0.1:8080 or https://host:8443. */
  target: string;
  mode: LoadMode;
  durationS: number;
  warmupS: number;
  http: HttpVersion;
  /** HTTP/2 sessions (h2) or ignored (h1: one socket per in-flight call). */
  connections: number;
  /** Which client drives the load (its own CPU cost differs); default auto. */
  client?: ClientKind;
  /** @deprecated: --h2-client raw|node, same as client. */
  h2Client?: H2Client;
  protocol: Protocol;
  /** PEM CA certificate(s) to trust for an https:// target. */
  caFile?: string;
  work?: WorkKind;
  /** upload-batch: records per UploadOfflineBatch call. */
  batchSize?: number;
  /**
   * Wallet population. Without a wallet file: how many to provision over
   * RPC (default: as many as the load needs). With one: how many of the
   * file's wallets form the population (default: all).
   */
  wallets?: number;
  walletFile?: string;
  /**
   * JSON credentials (merchant key, terminal key, wallets, profile): the
   * only input a target without test control needs. With test control it
   * is also a wallet cache: created if missing, topped up, written back.
   */
  credentials?: string;
  /** Closed loop: rate to budget work for; default a short calibration run. */
  expectedRate?: number;
  /** Parallel provisioning calls. */
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
  version: 2;
  startedAt: string;
  machine: MachineInfo;
  target: string;
  implementation: string;
  storeLabel: string | null;
  /** Whether the target serves ConformanceService (test control). */
  testControl: boolean;
  /** The client that drove every phase and its description. */
  client: { kind: Exclude<ClientKind, "auto">; description: string };
  /** Same as client.description (v1 name). */
  transport: string;
  work: { kind: WorkKind; rpc: string; itemsPerCall: number };
  options: {
    mode: LoadMode;
    durationS: number;
    warmupS: number;
    http: HttpVersion;
    connections: number;
    protocol: Protocol;
    tls: boolean;
    amountMinor: string;
    batchSize?: number;
  };
  setup: {
    walletSource: "rpc" | "file" | "credentials" | "credentials+rpc";
    walletPopulation: number;
    walletsNeeded: number;
    walletsUsed: number;
    /** Wallets provisioned over RPC during this run. */
    walletsProvisioned: number;
    callsPrepared: number;
    codesSkippedExpiring: number;
    callsLeft: number;
    budgetRate: number;
    /** Closed loop without --expected-rate: rate of the short calibration run. */
    calibrationRate?: number;
    provisionSeconds: number;
    prepareSeconds: number;
    warnings: string[];
  };
  /** Wall time of the whole run and the part of it that was measured (warm-up excluded). */
  timing: { totalSeconds: number; measuredSeconds: number };
  phases: { ping?: PhaseResult; work: PhaseResult; bareHttp?: PhaseResult };
  /** Outcomes of the work calls, warm-up included (per record for upload-batch). */
  outcomes: Record<string, number>;
  ratios: {
    /** Work ok calls/s ÷ Ping ok/s (closed loop: capacity ratio). */
    workToPingThroughput?: number;
    pingToBareThroughput?: number;
    /** Work p50 ÷ Ping p50 (open loop: latency ratio at the same rate). */
    workToPingP50?: number;
    workToPingP99?: number;
    pingToBareP50?: number;
  };
  /** Items per second of the work phase: scans, or records for upload-batch. */
  itemsPerSecond: number;
}

/** The outcome every call of a work kind should have on a healthy target. */
export const EXPECTED_OUTCOME: Record<WorkKind, (key: string) => boolean> = {
  "scan-online": (k) => k === "SUCCEEDED",
  "scan-offline": (k) => k === "SUCCEEDED",
  "upload-batch": (k) => k === "SETTLED",
  decline: (k) => k === "DECLINED:CODE_INVALID" || k === "DECLINED:CODE_EXPIRED",
};

/** Which client a protocol / HTTP version / scheme gets, or why the asked one cannot serve. */
export function resolveClient(
  target: string,
  protocol: Protocol,
  http: HttpVersion,
  asked: ClientKind = "auto",
): Exclude<ClientKind, "auto"> {
  const tls = target.startsWith("https:");
  if (protocol === "grpc" && http !== "2") {
    throw new Error("gRPC needs HTTP/2: use --http-version 2 with --protocol grpc");
  }
  if (asked === "auto") {
    if (protocol !== "connect" || tls) return "sdk";
    return http === "2" ? "raw" : "node";
  }
  if (asked !== "sdk" && protocol !== "connect") {
    throw new Error(
      `the ${asked} client speaks Connect only: --protocol ${protocol} goes through --client sdk (the default for it)`,
    );
  }
  if (asked === "raw" && (tls || http !== "2")) {
    throw new Error(
      "the raw HTTP/2 client speaks h2c (http://, --http-version 2) only: for an https:// " +
        "target or HTTP/1.1 use --client sdk or --client node (auto picks one)",
    );
  }
  return asked;
}

interface TransportSpec {
  target: string;
  protocol: Protocol;
  http: HttpVersion;
  connections: number;
  mode: LoadMode;
  client: Exclude<ClientKind, "auto">;
  ca?: string | Buffer;
}

function newTransport(o: TransportSpec): UnaryTransport {
  const ct = "application/proto";
  switch (o.client) {
    case "raw":
      return new RawH2Transport(o.target, o.connections, ct);
    case "node":
      if (o.http === "2") return new H2Transport(o.target, o.connections, ct, o.ca);
      return new H1Transport(
        o.target,
        Math.max(1, o.mode.kind === "closed" ? o.mode.concurrency : o.mode.maxInFlight),
        ct,
        o.ca,
      );
    case "sdk":
      return new SdkTransport({
        baseUrl: o.target,
        protocol: o.protocol,
        httpVersion: o.http,
        connections: o.connections,
        ...(o.ca !== undefined ? { ca: o.ca } : {}),
      });
  }
}

const CALIBRATION_WALLETS = 32;
const CALIBRATION_S = 2;
/** Wallets the other work kinds spread their codes over (offline codes have no per-minute cap). */
const OFFLINE_WALLETS = 16;
const DECLINE_WALLETS = 2;

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 ? round3(a / b) : undefined;

/** Reads the profile and clock: test control if present, else GetIssuerKeys, else the file. */
async function targetInfo(
  t: UnaryTransport,
  creds: Credentials | undefined,
  warnings: string[],
): Promise<{ info: TargetInfo; testControl: boolean }> {
  try {
    return { info: await fetchTargetInfo(t), testControl: true };
  } catch (e) {
    if (!creds) {
      throw new Error(
        `${(e as Error).message} Or, for a target without test control, pass --credentials ` +
          "<file> made by `paycode-bench provision` (see bench/README.md).",
      );
    }
  }
  if (creds.terminal) {
    // GetIssuerKeys gives the issuer clock; the code key (a wallet secret)
    // only ProvisionSeed gave, so the profile comes from the file.
    const asTerminal = await fetchTargetInfoAsTerminal(t, creds.terminal.apiKey);
    return {
      info: { ...asTerminal, profile: codeProfileOf(creds.profile), currency: creds.currency },
      testControl: false,
    };
  }
  warnings.push(
    "no test control and no terminal key: issuer clock offset unknown (assumed 0), profile from the credentials file",
  );
  return {
    info: {
      implementation: "unknown (no test control)",
      profile: codeProfileOf(creds.profile),
      currency: creds.currency,
      clockOffsetMs: 0,
      offlineValidityS: creds.profile.offlineCodeValiditySeconds,
    },
    testControl: false,
  };
}

/**
 * Wallets for the run: a wallet file, a credentials file (topped up over RPC
 * when the target has test control, and written back so later runs reuse
 * them), or RPC provisioning. Wallets handed out are never handed out again.
 */
class WalletPool {
  private readonly free: BenchWallet[];
  provisioned = 0;
  provisionSeconds = 0;

  constructor(
    wallets: BenchWallet[],
    private readonly provisionFn: ((n: number) => Promise<BenchWallet[]>) | undefined,
    public creds: { path: string; data: Credentials } | undefined,
  ) {
    this.free = wallets;
  }

  get population(): number {
    return this.free.length + this.handedOut.length;
  }

  private readonly handedOut: BenchWallet[] = [];

  /**
   * Up to `want` wallets, freshest first (none of their online steps from
   * `fromStep` on used); provisions what is missing (when it can) so that
   * at least `atLeast` fresh ones come back.
   */
  async take(want: number, atLeast: number, fromStep: number): Promise<BenchWallet[]> {
    const fresh = (w: BenchWallet) => (w.usedThroughStep ?? -1) < fromStep;
    this.free.sort((a, b) => (a.usedThroughStep ?? -1) - (b.usedThroughStep ?? -1));
    const nFresh = this.free.filter(fresh).length;
    if (nFresh < atLeast && this.provisionFn) {
      const t0 = performance.now();
      const more = await this.provisionFn(atLeast - nFresh);
      this.provisionSeconds += (performance.now() - t0) / 1000;
      this.provisioned += more.length;
      this.free.unshift(...more);
      if (this.creds) {
        this.creds.data.wallets.push(...more);
        await writeCredentials(this.creds.path, this.creds.data);
      }
    }
    const out = this.free.splice(0, Math.min(want, this.free.length));
    this.handedOut.push(...out);
    return out;
  }

  /** Records which online steps the wallets used; written back to a credentials file. */
  async markUsed(wallets: BenchWallet[], throughStep: number): Promise<void> {
    for (const w of wallets) w.usedThroughStep = Math.max(w.usedThroughStep ?? -1, throughStep);
    if (this.creds) await writeCredentials(this.creds.path, this.creds.data);
  }
}

type Calibratable = RequestSource & { remaining: number };

/**
 * One load run: Ping (the floor: same server, same client, an RPC that does
 * nothing), then the work phase, then optionally a bare HTTP handler.
 */
export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const tStart = performance.now();
  const progress = o.progress ?? silentProgress;
  const startedAt = new Date().toISOString();
  const warnings: string[] = [];
  const work: WorkKind = o.work ?? "scan-online";
  const batchSize = o.batchSize ?? 100;
  const client = resolveClient(o.target, o.protocol, o.http, o.client ?? o.h2Client ?? "auto");
  const ca = o.caFile ? readFileSync(o.caFile) : undefined;
  const transport = newTransport({
    target: o.target,
    protocol: o.protocol,
    http: o.http,
    connections: o.connections,
    mode: o.mode,
    client,
    ...(ca ? { ca } : {}),
  });
  await transport.connect();
  try {
    await ping(transport).catch((e: unknown) => {
      throw new Error(`${o.target} does not answer HealthService.Ping: ${(e as Error).message}`);
    });
    const credsPath = o.credentials;
    let creds: Credentials | undefined;
    if (credsPath && existsSync(credsPath)) creds = await readCredentials(credsPath);
    const { info, testControl } = await targetInfo(transport, creds, warnings);
    if (credsPath && !creds && !testControl) {
      throw new Error(`${credsPath} does not exist and ${o.target} has no test control`);
    }
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

    // Merchant and terminal: from the credentials file, else test control.
    let merchant = creds?.merchant;
    if (!merchant) {
      if (!testControl) throw new Error("the credentials file has no merchant");
      const m = await createBenchMerchant(transport, "paycode bench");
      merchant = { id: m.merchantId, apiKey: m.apiKey };
      if (creds && credsPath) {
        creds.merchant = merchant;
        await writeCredentials(credsPath, creds);
      }
    }
    let terminalKey: string | undefined;
    if (work === "upload-batch") {
      let terminal = creds?.terminal;
      if (!terminal) {
        if (!testControl)
          throw new Error("upload-batch needs a terminal key in the credentials file");
        const t = await createBenchTerminal(transport, merchant.id);
        terminal = { id: t.terminalId, apiKey: t.apiKey };
        if (creds && credsPath) {
          creds.terminal = terminal;
          await writeCredentials(credsPath, creds);
        }
      }
      terminalKey = terminal.apiKey;
    }

    // Wallets.
    const provisionFn = testControl
      ? async (count: number) => {
          progress.note(
            `provisioning ${count} wallets over RPC (CreateAccount + ProvisionSeed, ${o.provisionParallel} in parallel)...`,
          );
          const r = await provisionBenchWallets(transport, {
            count,
            currency: info.currency,
            parallel: o.provisionParallel,
            onProgress: (done, total) => progress.note(`  provisioned ${done}/${total}`),
          });
          if (creds === undefined && credsPath) {
            creds = {
              target: o.target,
              currency: info.currency,
              profile: r.profile!,
              merchant: merchant!,
              wallets: [],
            };
            pool.creds = { path: credsPath, data: creds };
          }
          return r.wallets;
        }
      : undefined;
    let initial: BenchWallet[] = [];
    let walletSource: LoadReport["setup"]["walletSource"] = "rpc";
    if (o.walletFile) {
      const all = await readWalletFile(o.walletFile);
      const pop = o.wallets !== undefined ? all.slice(0, o.wallets) : all;
      progress.note(`wallet file: ${all.length} wallets, population ${pop.length}`);
      initial = sample(pop, pop.length) as BenchWallet[];
      walletSource = "file";
    } else if (creds) {
      initial = sample(creds.wallets, creds.wallets.length);
      walletSource = "credentials";
    }
    // The credentials file, if any, is created by the first provisioning when missing.
    const pool: WalletPool = new WalletPool(
      initial,
      o.walletFile ? undefined : provisionFn,
      creds && credsPath ? { path: credsPath, data: creds } : undefined,
    );
    if (o.wallets !== undefined && !o.walletFile && !creds) {
      await pool.take(0, o.wallets, 0); // provision the asked population up front
    }
    if (walletSource === "credentials" && testControl) walletSource = "credentials+rpc";
    const nowStep = () => stepOf(Math.floor((Date.now() + info.clockOffsetMs) / 1000));

    const runTag = `bench-${randomBytes(6).toString("hex")}`;
    const setup: WorkSetup = {
      transport,
      profile: info.profile,
      currency: info.currency,
      amountMinor: o.amountMinor,
      clockOffsetMs: info.clockOffsetMs,
      merchantKey: merchant.apiKey,
      runTag,
    };
    const needOffline = work === "scan-offline" || work === "upload-batch";
    const checkOffline = (ws: BenchWallet[]) => {
      if (needOffline && ws.some((w) => !w.certificate)) {
        throw new Error(
          `${work} needs wallets with certificates and keys: use --credentials, not --wallet-file`,
        );
      }
      if (ws.length === 0) throw new Error(`no wallets for ${work}`);
      return ws;
    };

    let prepareSeconds = 0;
    let walletsNeededCount = 0;
    let walletsUsed = 0;
    let workSource: Calibratable;
    let outcomesOf: () => Record<string, number>;
    let skippedOf = () => 0;
    let itemsPerCall = 1;
    let budgetRate: number;
    let calibration: number | undefined;

    const calibrate = async (source: Calibratable): Promise<number> => {
      const cal = await drivePhase({
        name: "calibrate",
        mode: o.mode,
        warmupS: 0,
        durationS: CALIBRATION_S,
        source,
        progress,
      });
      progress.note(`calibration: ${work} ran at ${Math.round(cal.throughput)} calls/s`);
      return cal.throughput;
    };
    const calRate = Math.max(1000, pingPhase?.throughput ?? 5000);

    if (work === "scan-online") {
      const endpoint = scanEndpoint(setup);
      let leftover: PreparedScan[] = [];
      if (o.mode.kind === "open") budgetRate = o.mode.rate;
      else if (o.expectedRate !== undefined) budgetRate = o.expectedRate;
      else {
        const wallets = checkOffline(
          await pool.take(
            CALIBRATION_WALLETS,
            CALIBRATION_WALLETS,
            nowStep() - info.profile.windowBackSteps,
          ),
        );
        const scans = prepareScans({
          wallets,
          profile: info.profile,
          serverNowMs: Date.now() + info.clockOffsetMs,
          phaseSeconds: CALIBRATION_S + phaseS,
          rate: calRate,
          currency: info.currency,
          amountMinor: o.amountMinor,
          runTag: `${runTag}-cal`,
        });
        await pool.markUsed(wallets, Math.max(...scans.map((x) => x.step)));
        walletsUsed += wallets.length;
        const src = new ScanSource(transport, endpoint, scans, info.profile, info.clockOffsetMs);
        calibration = await calibrate(src);
        leftover = src.leftover();
        // 1.5×: the warmed-up server may be faster than during calibration.
        budgetRate = Math.max(50, calibration * 1.5);
      }
      // Codes the calibration left unused count against the budget.
      const restRate = Math.max(0, budgetRate - leftover.length / phaseS);
      const stillNeeded = restRate * phaseS * 1.2;
      const needed = restRate > 0 ? walletsNeeded(restRate, phaseS, info.profile) : 0;
      walletsNeededCount = needed;
      progress.note(
        `wallets needed for ${Math.round(budgetRate)} scans/s over ${phaseS} s: ${needed} more ` +
          `(${leftover.length} codes left from calibration; 8 codes per wallet per 60 s step, window −${info.profile.windowBackSteps}/+${info.profile.windowAheadSteps} steps)`,
      );
      const fromStep = nowStep() - info.profile.windowBackSteps;
      const used =
        needed > 0
          ? checkOffline(
              await pool.take(Math.max(needed, Math.ceil(stillNeeded)), needed, fromStep),
            )
          : [];
      walletsUsed += used.length;
      const fresh = used.filter((w) => (w.usedThroughStep ?? -1) < fromStep).length;
      if (fresh < needed) {
        warnings.push(
          `only ${fresh} fresh wallets for ${needed} needed: the work phase may run out of codes ` +
            "(provision more with `paycode-bench provision`, or lower --rate / --duration)",
        );
      }
      const tPrepare = performance.now();
      const scans = used.length
        ? prepareScans({
            wallets: used,
            profile: info.profile,
            serverNowMs: Date.now() + info.clockOffsetMs,
            phaseSeconds: phaseS,
            rate: restRate,
            currency: info.currency,
            amountMinor: o.amountMinor,
            runTag,
          })
        : [];
      if (scans.length) await pool.markUsed(used, Math.max(...scans.map((x) => x.step)));
      const all = [...leftover, ...scans].sort((a, b) => a.step - b.step);
      prepareSeconds = (performance.now() - tPrepare) / 1000;
      progress.note(`prepared ${scans.length} Scan requests in ${prepareSeconds.toFixed(1)} s`);
      const src = new ScanSource(transport, endpoint, all, info.profile, info.clockOffsetMs);
      workSource = src;
      outcomesOf = () => src.outcomes;
      skippedOf = () => src.skippedExpiring;
    } else {
      const walletsWanted = work === "decline" ? DECLINE_WALLETS : OFFLINE_WALLETS;
      const wallets = checkOffline(
        await pool.take(walletsWanted, work === "decline" ? 1 : Math.min(walletsWanted, 4), 0),
      );
      walletsUsed = wallets.length;
      walletsNeededCount = work === "decline" ? 1 : walletsWanted;
      if (work === "decline") {
        // Expired codes belong to an old step: they burn nothing, but keep the wallets' steps apart.
        await pool.markUsed(wallets, nowStep() + info.profile.windowAheadSteps);
      }
      itemsPerCall = work === "upload-batch" ? batchSize : 1;
      const make = async (calls: number, tag: string): Promise<OnceSource> => {
        if (work === "scan-offline") return prepareOfflineScans(setup, wallets, calls, tag);
        if (work === "decline") return prepareDeclines(setup, wallets, calls, tag);
        return prepareUploads(
          setup,
          {
            baseUrl: o.target,
            protocol: o.protocol,
            httpVersion: o.http,
            terminalKey: terminalKey!,
            batchSize,
            ...(ca ? { ca } : {}),
          },
          wallets,
          calls,
          tag,
        );
      };
      let leftoverSrc: OnceSource | undefined;
      if (o.mode.kind === "open") budgetRate = o.mode.rate;
      else if (o.expectedRate !== undefined) budgetRate = o.expectedRate;
      else {
        const calls = Math.ceil(
          (calRate * CALIBRATION_S) / itemsPerCall / (work === "decline" ? 1 : 2),
        );
        leftoverSrc = await make(Math.max(8, calls), "cal");
        calibration = await calibrate(leftoverSrc);
        budgetRate = Math.max(work === "upload-batch" ? 2 : 50, calibration * 1.5);
      }
      const tPrepare = performance.now();
      const left = leftoverSrc?.leftover() ?? [];
      const want = Math.ceil(budgetRate * phaseS * 1.2) - left.length;
      const main = want > 0 ? await make(want, "main") : undefined;
      prepareSeconds = (performance.now() - tPrepare) / 1000;
      const src = new OnceSource(
        transport,
        (main ?? leftoverSrc!)["endpoint"],
        [...left, ...(main?.leftover() ?? [])],
        (main ?? leftoverSrc!)["classify"],
        itemsPerCall,
      );
      const calOutcomes = leftoverSrc?.outcomes ?? {};
      progress.note(
        `prepared ${Math.max(0, want)} ${work} calls in ${prepareSeconds.toFixed(1)} s`,
      );
      if (needOffline && phaseS + prepareSeconds + 10 > info.offlineValidityS) {
        warnings.push(
          `offline codes are valid ${info.offlineValidityS} s after issue; a ${phaseS} s phase may outlive them`,
        );
      }
      workSource = src;
      outcomesOf = () => {
        const out: Record<string, number> = { ...calOutcomes };
        for (const [k, v] of Object.entries(src.outcomes)) out[k] = (out[k] ?? 0) + v;
        return out;
      };
    }

    const workPhase = await drivePhase({
      name: work,
      mode: o.mode,
      warmupS: o.warmupS,
      durationS: o.durationS,
      source: workSource,
      progress,
      ...(o.serverPid !== undefined ? { serverPid: o.serverPid } : {}),
    });
    if (workPhase.ended === "exhausted") {
      warnings.push(
        `${work} ran out of prepared calls after ${workPhase.measuredS} s measured: provision more wallets or pass --expected-rate`,
      );
    }
    const outcomes = outcomesOf();
    const answered = Object.values(outcomes).reduce((a, b) => a + b, 0);
    const good = Object.entries(outcomes)
      .filter(([k]) => EXPECTED_OUTCOME[work](k))
      .reduce((a, [, v]) => a + v, 0);
    if (answered > 0 && good < answered * 0.99) {
      warnings.push(
        `only ${good} of ${answered} ${work} outcomes are the expected ones; see outcomes — the figures ` +
          "are not those of the intended path",
      );
    }

    let barePhase: PhaseResult | undefined;
    if (o.floorHttp) {
      barePhase = await runBarePhase(
        {
          http: o.http,
          connections: o.connections,
          mode: o.mode,
          warmupS: o.warmupS,
          durationS: o.durationS,
        },
        progress,
      );
    }

    const p = pingPhase;
    const measured = workPhase.measuredS + (p?.measuredS ?? 0) + (barePhase?.measuredS ?? 0);
    return {
      kind: "paycode-bench-load",
      version: 2,
      startedAt,
      machine: machineInfo(),
      target: o.target,
      implementation: info.implementation,
      storeLabel: o.storeLabel ?? null,
      testControl,
      client: { kind: client, description: transport.description },
      transport: transport.description,
      work: { kind: work, rpc: WORK_RPC[work], itemsPerCall },
      options: {
        mode: o.mode,
        durationS: o.durationS,
        warmupS: o.warmupS,
        http: o.http,
        connections: o.connections,
        protocol: o.protocol,
        tls: o.target.startsWith("https:"),
        amountMinor: o.amountMinor.toString(),
        ...(work === "upload-batch" ? { batchSize } : {}),
      },
      setup: {
        walletSource,
        walletPopulation: pool.population,
        walletsNeeded: walletsNeededCount,
        walletsUsed,
        walletsProvisioned: pool.provisioned,
        callsPrepared: workSource.remaining + workPhase.calls,
        codesSkippedExpiring: skippedOf(),
        callsLeft: workSource.remaining,
        budgetRate: Math.round(budgetRate),
        ...(calibration !== undefined ? { calibrationRate: Math.round(calibration) } : {}),
        provisionSeconds: round3(pool.provisionSeconds),
        prepareSeconds: round3(prepareSeconds),
        warnings,
      },
      timing: {
        totalSeconds: round3((performance.now() - tStart) / 1000),
        measuredSeconds: round3(measured),
      },
      phases: {
        ...(p ? { ping: p } : {}),
        work: workPhase,
        ...(barePhase ? { bareHttp: barePhase } : {}),
      },
      outcomes,
      ratios: {
        workToPingThroughput: ratio(workPhase.throughput, p?.throughput),
        pingToBareThroughput: ratio(p?.throughput, barePhase?.throughput),
        workToPingP50: ratio(workPhase.latency.p50Us, p?.latency.p50Us),
        workToPingP99: ratio(workPhase.latency.p99Us, p?.latency.p99Us),
        pingToBareP50: ratio(p?.latency.p50Us, barePhase?.latency.p50Us),
      },
      itemsPerSecond: Math.round(workPhase.throughput * itemsPerCall),
    };
  } finally {
    await transport.close();
  }
}

/** The bare node:http(2) handler, driven exactly like Ping. */
export async function runBarePhase(
  o: Pick<LoadOptions, "http" | "connections" | "mode" | "warmupS" | "durationS" | "h2Client"> & {
    client?: ClientKind;
  },
  progress: ProgressSink,
): Promise<PhaseResult> {
  const bare = await startBareServer(o.http);
  const asked = o.client ?? o.h2Client ?? "auto";
  const t = newTransport({
    target: bare.url,
    protocol: "connect",
    http: o.http,
    connections: o.connections,
    mode: o.mode,
    client: resolveClient(bare.url, "connect", o.http, asked === "sdk" ? "auto" : asked),
  });
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

export interface ProvisionCredentialsOptions {
  target: string;
  out: string;
  wallets: number;
  parallel: number;
  protocol: Protocol;
  http: HttpVersion;
  caFile?: string;
  /** Accounts made by the operator (no test control): "accountId password" lines. */
  accountsFile?: string;
  merchant?: { id: string; apiKey: string };
  terminal?: { id: string; apiKey: string };
  onProgress?: (done: number, total: number) => void;
}

/**
 * Writes a credentials file for `bench load --credentials`. With test
 * control: CreateMerchant, CreateTerminal, CreateAccount per wallet. Without:
 * the merchant and terminal keys given, and one wallet per listed account.
 * Wallets: ProvisionSeed with a fresh Ed25519 key each.
 */
export async function provisionCredentials(
  o: ProvisionCredentialsOptions,
): Promise<{ wallets: number; seconds: number }> {
  const ca = o.caFile ? readFileSync(o.caFile) : undefined;
  const client = resolveClient(o.target, o.protocol, o.http);
  const t = newTransport({
    target: o.target,
    protocol: o.protocol,
    http: o.http,
    connections: 1,
    mode: { kind: "closed", concurrency: o.parallel },
    client,
    ...(ca ? { ca } : {}),
  });
  await t.connect();
  try {
    let testControl = true;
    let currency = "CNY";
    try {
      currency = (await fetchTargetInfo(t)).currency;
    } catch {
      testControl = false;
    }
    const accounts = o.accountsFile
      ? parseAccounts(readFileSync(o.accountsFile, "utf8"))
      : undefined;
    if (!testControl && (!accounts || !o.merchant)) {
      throw new Error(
        `${o.target} has no test control: pass --accounts <file> (funded accounts you created) and ` +
          "--merchant-key (and --terminal-key for upload-batch)",
      );
    }
    let merchant = o.merchant;
    if (!merchant) {
      const m = await createBenchMerchant(t, "paycode bench");
      merchant = { id: m.merchantId, apiKey: m.apiKey };
    }
    let terminal = o.terminal;
    if (!terminal && testControl) {
      const x = await createBenchTerminal(t, merchant.id);
      terminal = { id: x.terminalId, apiKey: x.apiKey };
    }
    const t0 = performance.now();
    const r = await provisionBenchWallets(t, {
      count: o.wallets,
      currency,
      parallel: o.parallel,
      ...(accounts ? { accounts } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    if (!r.profile) throw new Error("no wallet provisioned");
    await writeCredentials(o.out, {
      target: o.target,
      currency: r.profile.currency || currency,
      profile: r.profile,
      merchant,
      ...(terminal ? { terminal } : {}),
      wallets: r.wallets,
    });
    return { wallets: r.wallets.length, seconds };
  } finally {
    await t.close();
  }
}
