import type { MachineInfo } from "../machine.js";
import type { LoadMode, PhaseResult } from "./drive.js";
import type { ClientKind, H2Client, Protocol } from "./load-client.js";
import type { ProgressSink } from "./progress.js";
import type { HttpVersion } from "./transport.js";
import type { WorkKind } from "./work.js";

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
