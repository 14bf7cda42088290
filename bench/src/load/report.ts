import { formatCount, formatLatency, formatMicros, formatRatio, formatTable } from "../format.js";
import { describeMachine } from "../machine.js";
import type { LoadMode, PhaseResult } from "./drive.js";
import type { LoadReport } from "./load-report.js";
import { type PlotSeries, renderPercentilePlot } from "./svg-plot.js";

export function describeMode(m: LoadMode): string {
  return m.kind === "closed"
    ? `closed loop, ${m.concurrency} in flight`
    : `open loop, ${m.rate} calls/s (latency from intended send time)`;
}

function shortMode(m: LoadMode): string {
  return m.kind === "closed" ? `${m.concurrency} in flight` : `${m.rate}/s open loop`;
}

function errorsText(e: Record<string, number>): string {
  const entries = Object.entries(e);
  return entries.length === 0 ? "0" : entries.map(([k, v]) => `${k}=${v}`).join(" ");
}

function cpuText(percent: number | undefined, perCall: number | undefined): string {
  return percent === undefined ? "-" : `${Math.round(percent)}% ${formatMicros(perCall ?? 0)}`;
}

export function formatPhaseTable(phases: PhaseResult[]): string {
  const rows = phases.map((p) => [
    p.name,
    formatCount(p.throughput),
    formatMicros(p.latency.p50Us),
    formatMicros(p.latency.p90Us),
    formatMicros(p.latency.p99Us),
    formatMicros(p.latency.p999Us),
    formatMicros(p.latency.maxUs),
    formatCount(p.ok),
    cpuText(p.cpu?.clientPercent, p.cpu?.clientUsPerCall),
    cpuText(p.cpu?.serverPercent, p.cpu?.serverUsPerCall),
    errorsText(p.errors),
  ]);
  return formatTable(
    [
      "phase",
      "ok/s",
      "p50 µs",
      "p90 µs",
      "p99 µs",
      "p99.9 µs",
      "max µs",
      "ok",
      "client CPU µs/call",
      "server CPU µs/call",
      "errors",
    ],
    rows,
    [false, true, true, true, true, true, true, true, true, true, false],
  );
}

export function formatLoadReport(r: LoadReport): string {
  const phases = [r.phases.ping, r.phases.work, r.phases.bareHttp].filter(
    (p): p is PhaseResult => p !== undefined,
  );
  const lines = [
    `target ${r.target} (${r.implementation}${r.storeLabel ? `, store ${r.storeLabel}` : ""})`,
    `work ${r.work.kind}: ${r.work.rpc}${r.work.itemsPerCall > 1 ? `, ${r.work.itemsPerCall} records per call` : ""}; ${r.options.protocol} over HTTP/${r.options.http}${r.options.tls ? " (TLS)" : ""}; test control ${r.testControl ? "yes" : "no"}`,
    `client ${r.client.kind}: ${r.client.description}; ${describeMode(r.options.mode)}; ${r.options.warmupS} s warm-up + ${r.options.durationS} s`,
    `machine ${describeMachine(r.machine)}`,
    `wallets: population ${r.setup.walletPopulation} (${r.setup.walletSource}), used ${r.setup.walletsUsed}, provisioned now ${r.setup.walletsProvisioned} in ${r.setup.provisionSeconds} s; calls prepared ${r.setup.callsPrepared}, skipped ${r.setup.codesSkippedExpiring}, left ${r.setup.callsLeft}`,
    `time: ${r.timing.totalSeconds} s in all, ${r.timing.measuredSeconds} s measured`,
    "",
    formatPhaseTable(phases),
    "",
  ];
  const q = r.ratios;
  const ratioLines: string[] = [];
  if (q.workToPingThroughput !== undefined) {
    ratioLines.push(`Work / Ping throughput  ${formatRatio(q.workToPingThroughput)}`);
  }
  if (q.workToPingP50 !== undefined) {
    ratioLines.push(
      `Work / Ping latency     p50 ${formatRatio(q.workToPingP50)}, p99 ${formatRatio(q.workToPingP99)}`,
    );
  }
  if (q.pingToBareThroughput !== undefined) {
    ratioLines.push(`Ping / bare-http throughput  ${formatRatio(q.pingToBareThroughput)}`);
  }
  if (q.pingToBareP50 !== undefined) {
    ratioLines.push(`Ping / bare-http p50         ${formatRatio(q.pingToBareP50)}`);
  }
  lines.push(...ratioLines);
  const lags = phases.filter((p) => p.sendLag !== undefined);
  if (lags.length > 0) {
    lines.push(
      `open-loop send lag (generator floor, µs): ${lags
        .map(
          (p) =>
            `${p.name} p50 ${formatMicros(p.sendLag!.p50Us)} p99 ${formatMicros(p.sendLag!.p99Us)}`,
        )
        .join("; ")}`,
    );
  }
  lines.push(
    `${r.work.kind} outcomes (warm-up included): ${errorsText(r.outcomes) === "0" ? "none" : errorsText(r.outcomes)}`,
  );
  if (r.work.itemsPerCall > 1) lines.push(`records per second: ${formatCount(r.itemsPerSecond)}`);
  for (const w of r.setup.warnings) lines.push(`WARNING: ${w}`);
  return lines.join("\n");
}

/** The Scan / Ping / bare-HTTP percentile curves of one run, as SVG. */
export function loadReportSvg(r: LoadReport): string {
  const series: PlotSeries[] = [];
  const label = (name: string, p: PhaseResult) =>
    `${name}: ${formatCount(p.throughput)} ok/s, p50 ${formatLatency(p.latency.p50Us)}, p99 ${formatLatency(p.latency.p99Us)}`;
  series.push({
    label: label(r.work.kind, r.phases.work),
    points: r.phases.work.curve,
    color: "#d62728",
  });
  if (r.phases.ping) {
    series.push({
      label: label("Ping (no-op RPC)", r.phases.ping),
      points: r.phases.ping.curve,
      color: "#1f77b4",
    });
  }
  if (r.phases.bareHttp) {
    series.push({
      label: label("bare node:http", r.phases.bareHttp),
      points: r.phases.bareHttp.curve,
      color: "#2ca02c",
    });
  }
  return renderPercentilePlot({
    title: `${r.work.kind} latency${r.storeLabel ? ` (${r.storeLabel})` : ""} vs no-op RPC`,
    subtitle: `${shortMode(r.options.mode)}, ${r.options.durationS} s, ${r.options.protocol} HTTP/${r.options.http}, ${r.client.kind} client; ${r.machine.cpuModel}, ${r.machine.cores} cores, Node ${r.machine.nodeVersion}`,
    series,
  });
}

/** JSON with bigint-safe serialization. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}
