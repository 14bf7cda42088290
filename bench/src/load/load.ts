import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { HealthService } from "@paycode/protocol/v1";
import { machineInfo } from "../machine.js";
import { startBareServer } from "./bare-server.js";
import { methodPath } from "./connect-unary.js";
import { drivePhase, type PhaseResult } from "./drive.js";
import { type ClientKind, newTransport, resolveClient } from "./load-client.js";
import type { LoadOptions, LoadReport } from "./load-report.js";
import type { LoadRun, PreparedWork } from "./load-run.js";
import { benchKeys, probeTarget } from "./load-target.js";
import { prepareWork } from "./prepare-work.js";
import { type ProgressSink, silentProgress } from "./progress.js";
import { RepeatSource } from "./sources.js";
import { openWalletPool, type WalletPool, type WalletSource } from "./wallet-pool.js";
import { EXPECTED_OUTCOME, WORK_RPC } from "./work.js";

const round3 = (x: number) => Math.round(x * 1000) / 1000;
// Unrounded: reports round once, when they print (0.1348 rounded to 0.135 first printed as 0.14×).
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 ? a / b : undefined;

/**
 * One load run: Ping (the floor: same server, same client, an RPC that does
 * nothing), then the work phase, then optionally a bare HTTP handler.
 */
export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const tStart = performance.now();
  const startedAt = new Date().toISOString();
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
    const warnings: string[] = [];
    const target = await probeTarget(o, transport, warnings);
    const run: LoadRun = {
      o,
      work: o.work ?? "scan-online",
      batchSize: o.batchSize ?? 100,
      ca,
      transport,
      progress: o.progress ?? silentProgress,
      warnings,
      info: target.info,
      testControl: target.testControl,
      phaseS: o.warmupS + o.durationS,
    };
    const ping = o.skipPing ? undefined : await runPingPhase(run);
    const { merchant, terminalKey } = await benchKeys(target, transport, run.work);
    const { pool, walletSource } = await openWalletPool(run, target, merchant);
    const keys = { merchantKey: merchant.apiKey, terminalKey };
    const prepared = await prepareWork(run, pool, keys, ping?.throughput);
    const { work, outcomes } = await runWorkPhase(run, prepared);
    const bareHttp = o.floorHttp
      ? await runBarePhase(
          {
            http: o.http,
            connections: o.connections,
            mode: o.mode,
            warmupS: o.warmupS,
            durationS: o.durationS,
          },
          run.progress,
        )
      : undefined;
    return assembleReport({
      run,
      startedAt,
      tStart,
      client,
      pool,
      walletSource,
      prepared,
      phases: { ping, work, bareHttp },
      outcomes,
    });
  } finally {
    await transport.close();
  }
}

/** Ping: the floor, same server and client, an RPC that does nothing. */
function runPingPhase(run: LoadRun): Promise<PhaseResult> {
  const { o, transport } = run;
  const endpoint = transport.prepare(methodPath(HealthService.method.ping));
  return drivePhase({
    name: "ping",
    mode: o.mode,
    warmupS: o.warmupS,
    durationS: o.durationS,
    source: new RepeatSource(transport, endpoint),
    progress: run.progress,
    ...(o.serverPid !== undefined ? { serverPid: o.serverPid } : {}),
  });
}

/** The measured work phase; warns when it ran dry or its outcomes are not the expected ones. */
async function runWorkPhase(
  run: LoadRun,
  prepared: PreparedWork,
): Promise<{ work: PhaseResult; outcomes: Record<string, number> }> {
  const { o, work, warnings } = run;
  const workPhase = await drivePhase({
    name: work,
    mode: o.mode,
    warmupS: o.warmupS,
    durationS: o.durationS,
    source: prepared.source,
    progress: run.progress,
    ...(o.serverPid !== undefined ? { serverPid: o.serverPid } : {}),
  });
  if (workPhase.ended === "exhausted") {
    warnings.push(
      `${work} ran out of prepared calls after ${workPhase.measuredS} s measured: provision more wallets or pass --expected-rate`,
    );
  }
  const outcomes = prepared.outcomesOf();
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
  return { work: workPhase, outcomes };
}

/** Everything the report is made of, once the phases have run. */
interface ReportParts {
  run: LoadRun;
  startedAt: string;
  /** performance.now() at the start of the run. */
  tStart: number;
  client: LoadReport["client"]["kind"];
  pool: WalletPool;
  walletSource: WalletSource;
  prepared: PreparedWork;
  phases: { ping: PhaseResult | undefined; work: PhaseResult; bareHttp: PhaseResult | undefined };
  outcomes: Record<string, number>;
}

function assembleReport(r: ReportParts): LoadReport {
  const { o, work, batchSize, info, warnings } = r.run;
  const { pool, prepared } = r;
  const { ping: p, work: workPhase, bareHttp: barePhase } = r.phases;
  const measured = workPhase.measuredS + (p?.measuredS ?? 0) + (barePhase?.measuredS ?? 0);
  return {
    kind: "paycode-bench-load",
    version: 2,
    startedAt: r.startedAt,
    machine: machineInfo(),
    target: o.target,
    implementation: info.implementation,
    storeLabel: o.storeLabel ?? null,
    testControl: r.run.testControl,
    client: { kind: r.client, description: r.run.transport.description },
    transport: r.run.transport.description,
    work: { kind: work, rpc: WORK_RPC[work], itemsPerCall: prepared.itemsPerCall },
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
      walletSource: r.walletSource,
      walletPopulation: pool.population,
      walletsNeeded: prepared.walletsNeeded,
      walletsUsed: prepared.walletsUsed,
      walletsProvisioned: pool.provisioned,
      callsPrepared: prepared.source.remaining + workPhase.calls,
      codesSkippedExpiring: prepared.skippedOf(),
      callsLeft: prepared.source.remaining,
      budgetRate: Math.round(prepared.budgetRate),
      ...(prepared.calibration !== undefined
        ? { calibrationRate: Math.round(prepared.calibration) }
        : {}),
      provisionSeconds: round3(pool.provisionSeconds),
      prepareSeconds: round3(prepared.prepareSeconds),
      warnings,
    },
    timing: {
      totalSeconds: round3((performance.now() - r.tStart) / 1000),
      measuredSeconds: round3(measured),
    },
    phases: {
      ...(p ? { ping: p } : {}),
      work: workPhase,
      ...(barePhase ? { bareHttp: barePhase } : {}),
    },
    outcomes: r.outcomes,
    ratios: {
      workToPingThroughput: ratio(workPhase.throughput, p?.throughput),
      pingToBareThroughput: ratio(p?.throughput, barePhase?.throughput),
      workToPingP50: ratio(workPhase.latency.p50Us, p?.latency.p50Us),
      workToPingP99: ratio(workPhase.latency.p99Us, p?.latency.p99Us),
      pingToBareP50: ratio(p?.latency.p50Us, barePhase?.latency.p50Us),
    },
    itemsPerSecond: Math.round(workPhase.throughput * prepared.itemsPerCall),
  };
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
