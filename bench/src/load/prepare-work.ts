import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { stepOf } from "@paycode/protocol";
import { type PreparedScan, prepareScans, walletsNeeded } from "./codes.js";
import type { BenchWallet } from "./credentials.js";
import { drivePhase } from "./drive.js";
import type { Calibratable, LoadRun, PreparedWork } from "./load-run.js";
import type { TargetInfo } from "./provision.js";
import { ScanSource } from "./sources.js";
import type { Endpoint } from "./transport.js";
import type { WalletPool } from "./wallet-pool.js";
import {
  OnceSource,
  prepareDeclines,
  prepareOfflineScans,
  prepareUploads,
  scanEndpoint,
  type WorkKind,
  type WorkSetup,
} from "./work.js";

const CALIBRATION_WALLETS = 32;
const CALIBRATION_S = 2;
/** Wallets the other work kinds spread their codes over (offline codes have no per-minute cap). */
const OFFLINE_WALLETS = 16;
const DECLINE_WALLETS = 2;

/** What every work kind's preparation shares. */
interface Preparation {
  run: LoadRun;
  pool: WalletPool;
  setup: WorkSetup;
  terminalKey: string | undefined;
  /** The rate a calibration run's calls are prepared for. */
  calRate: number;
}

/**
 * Prepares the calls of the work phase, budgeted for the open-loop rate,
 * --expected-rate, or 1.5× a short calibration run (closed loop).
 */
export async function prepareWork(
  run: LoadRun,
  pool: WalletPool,
  keys: { merchantKey: string; terminalKey: string | undefined },
  pingThroughput: number | undefined,
): Promise<PreparedWork> {
  const { info } = run;
  const setup: WorkSetup = {
    transport: run.transport,
    profile: info.profile,
    currency: info.currency,
    amountMinor: run.o.amountMinor,
    clockOffsetMs: info.clockOffsetMs,
    merchantKey: keys.merchantKey,
    runTag: `bench-${randomBytes(6).toString("hex")}`,
  };
  const p: Preparation = {
    run,
    pool,
    setup,
    terminalKey: keys.terminalKey,
    calRate: Math.max(1000, pingThroughput ?? 5000),
  };
  return run.work === "scan-online" ? prepareOnlineScans(p) : prepareOnceCalls(p);
}

const needsOffline = (work: WorkKind) => work === "scan-offline" || work === "upload-batch";

/** The issuer's current online step. */
const nowStep = (info: TargetInfo) => stepOf(Math.floor((Date.now() + info.clockOffsetMs) / 1000));

/** The wallets, if they can serve the work kind. */
function checkWallets(work: WorkKind, ws: BenchWallet[]): BenchWallet[] {
  if (needsOffline(work) && ws.some((w) => !w.certificate)) {
    throw new Error(
      `${work} needs wallets with certificates and keys: use --credentials, not --wallet-file`,
    );
  }
  if (ws.length === 0) throw new Error(`no wallets for ${work}`);
  return ws;
}

/** Drives the source for a short closed-loop run; its throughput in calls/s. */
async function calibrate(run: LoadRun, source: Calibratable): Promise<number> {
  const cal = await drivePhase({
    name: "calibrate",
    mode: run.o.mode,
    warmupS: 0,
    durationS: CALIBRATION_S,
    source,
    progress: run.progress,
  });
  run.progress.note(`calibration: ${run.work} ran at ${Math.round(cal.throughput)} calls/s`);
  return cal.throughput;
}

/** scan-online: codes spread over wallets at 8 per wallet per step, sent in step order. */
async function prepareOnlineScans(p: Preparation): Promise<PreparedWork> {
  const { run, pool } = p;
  const { o, info, phaseS, progress, warnings } = run;
  const endpoint = scanEndpoint(p.setup);
  let leftover: PreparedScan[] = [];
  let walletsUsed = 0;
  let budgetRate: number;
  let calibration: number | undefined;
  if (o.mode.kind === "open") budgetRate = o.mode.rate;
  else if (o.expectedRate !== undefined) budgetRate = o.expectedRate;
  else {
    const cal = await calibrateOnlineScans(p, endpoint);
    walletsUsed += cal.walletsUsed;
    leftover = cal.leftover;
    calibration = cal.rate;
    // 1.5×: the warmed-up server may be faster than during calibration.
    budgetRate = Math.max(50, calibration * 1.5);
  }
  // Codes the calibration left unused count against the budget.
  const restRate = Math.max(0, budgetRate - leftover.length / phaseS);
  const stillNeeded = restRate * phaseS * 1.2;
  const needed = restRate > 0 ? walletsNeeded(restRate, phaseS, info.profile) : 0;
  progress.note(
    `wallets needed for ${Math.round(budgetRate)} scans/s over ${phaseS} s: ${needed} more ` +
      `(${leftover.length} codes left from calibration; 8 codes per wallet per 60 s step, window −${info.profile.windowBackSteps}/+${info.profile.windowAheadSteps} steps)`,
  );
  const fromStep = nowStep(info) - info.profile.windowBackSteps;
  const used =
    needed > 0
      ? checkWallets(
          run.work,
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
        runTag: p.setup.runTag,
      })
    : [];
  if (scans.length) await pool.markUsed(used, maxStep(scans));
  const all = [...leftover, ...scans].sort((a, b) => a.step - b.step);
  const prepareSeconds = (performance.now() - tPrepare) / 1000;
  progress.note(`prepared ${scans.length} Scan requests in ${prepareSeconds.toFixed(1)} s`);
  const src = new ScanSource(run.transport, endpoint, all, info.profile, info.clockOffsetMs);
  return {
    source: src,
    outcomesOf: () => src.outcomes,
    skippedOf: () => src.skippedExpiring,
    itemsPerCall: 1,
    budgetRate,
    calibration,
    prepareSeconds,
    walletsNeeded: needed,
    walletsUsed,
  };
}

/** A calibration run of online scans; the codes it left unused go on to the work phase. */
async function calibrateOnlineScans(
  p: Preparation,
  endpoint: Endpoint,
): Promise<{ rate: number; leftover: PreparedScan[]; walletsUsed: number }> {
  const { run, pool } = p;
  const { info } = run;
  const wallets = checkWallets(
    run.work,
    await pool.take(
      CALIBRATION_WALLETS,
      CALIBRATION_WALLETS,
      nowStep(info) - info.profile.windowBackSteps,
    ),
  );
  const scans = prepareScans({
    wallets,
    profile: info.profile,
    serverNowMs: Date.now() + info.clockOffsetMs,
    phaseSeconds: CALIBRATION_S + run.phaseS,
    rate: p.calRate,
    currency: info.currency,
    amountMinor: run.o.amountMinor,
    runTag: `${p.setup.runTag}-cal`,
  });
  await pool.markUsed(wallets, maxStep(scans));
  const src = new ScanSource(run.transport, endpoint, scans, info.profile, info.clockOffsetMs);
  const rate = await calibrate(run, src);
  return { rate, leftover: src.leftover(), walletsUsed: wallets.length };
}

/** scan-offline, upload-batch, decline: pre-serialized calls, each sent once. */
async function prepareOnceCalls(p: Preparation): Promise<PreparedWork> {
  const { run, pool } = p;
  const { o, work, info, phaseS, progress, warnings } = run;
  const walletsWanted = work === "decline" ? DECLINE_WALLETS : OFFLINE_WALLETS;
  const wallets = checkWallets(
    work,
    await pool.take(walletsWanted, work === "decline" ? 1 : Math.min(walletsWanted, 4), 0),
  );
  if (work === "decline") {
    // Expired codes belong to an old step: they burn nothing, but keep the wallets' steps apart.
    await pool.markUsed(wallets, nowStep(info) + info.profile.windowAheadSteps);
  }
  const itemsPerCall = work === "upload-batch" ? run.batchSize : 1;
  let leftoverSrc: OnceSource | undefined;
  let budgetRate: number;
  let calibration: number | undefined;
  if (o.mode.kind === "open") budgetRate = o.mode.rate;
  else if (o.expectedRate !== undefined) budgetRate = o.expectedRate;
  else {
    const calls = Math.ceil(
      (p.calRate * CALIBRATION_S) / itemsPerCall / (work === "decline" ? 1 : 2),
    );
    leftoverSrc = await prepareOnceSource(p, wallets, Math.max(8, calls), "cal");
    calibration = await calibrate(run, leftoverSrc);
    budgetRate = Math.max(work === "upload-batch" ? 2 : 50, calibration * 1.5);
  }
  const tPrepare = performance.now();
  const left = leftoverSrc?.leftover() ?? [];
  const want = Math.ceil(budgetRate * phaseS * 1.2) - left.length;
  const main = want > 0 ? await prepareOnceSource(p, wallets, want, "main") : undefined;
  const prepareSeconds = (performance.now() - tPrepare) / 1000;
  const src = new OnceSource(
    run.transport,
    (main ?? leftoverSrc!)["endpoint"],
    [...left, ...(main?.leftover() ?? [])],
    (main ?? leftoverSrc!)["classify"],
    itemsPerCall,
  );
  const calOutcomes = leftoverSrc?.outcomes ?? {};
  progress.note(`prepared ${Math.max(0, want)} ${work} calls in ${prepareSeconds.toFixed(1)} s`);
  if (needsOffline(work) && phaseS + prepareSeconds + 10 > info.offlineValidityS) {
    warnings.push(
      `offline codes are valid ${info.offlineValidityS} s after issue; a ${phaseS} s phase may outlive them`,
    );
  }
  return {
    source: src,
    outcomesOf: () => {
      const out: Record<string, number> = { ...calOutcomes };
      for (const [k, v] of Object.entries(src.outcomes)) out[k] = (out[k] ?? 0) + v;
      return out;
    },
    skippedOf: () => 0,
    itemsPerCall,
    budgetRate,
    calibration,
    prepareSeconds,
    walletsNeeded: work === "decline" ? 1 : walletsWanted,
    walletsUsed: wallets.length,
  };
}

/** `calls` pre-serialized calls of the run's (once-sent) work kind. */
async function prepareOnceSource(
  p: Preparation,
  wallets: BenchWallet[],
  calls: number,
  tag: string,
): Promise<OnceSource> {
  const { run, setup } = p;
  if (run.work === "scan-offline") return prepareOfflineScans(setup, wallets, calls, tag);
  if (run.work === "decline") return prepareDeclines(setup, wallets, calls, tag);
  return prepareUploads(
    setup,
    {
      baseUrl: run.o.target,
      protocol: run.o.protocol,
      httpVersion: run.o.http,
      terminalKey: p.terminalKey!,
      batchSize: run.batchSize,
      ...(run.ca ? { ca: run.ca } : {}),
    },
    wallets,
    calls,
    tag,
  );
}

/** The latest step among `scans`; a loop, because spreading 10^5 arguments overflows the stack. */
function maxStep(scans: readonly { step: number }[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const s of scans) if (s.step > max) max = s.step;
  return max;
}
