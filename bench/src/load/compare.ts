import { formatCount, formatLatency, formatMicros, formatRatio, formatTable } from "../format.js";
import { describeMachine, type MachineInfo, machineInfo } from "../machine.js";
import { runLoad } from "./load.js";
import type { LoadOptions, LoadReport } from "./load-report.js";
import { describeMode, formatLoadReport, loadReportSvg } from "./report.js";
import { type PlotSeries, renderPercentilePlot } from "./svg-plot.js";

export interface CompareReport {
  kind: "paycode-bench-compare";
  version: 1;
  startedAt: string;
  machine: MachineInfo;
  /** How the two targets shared the run: one after the other, same settings. */
  order: "back-to-back";
  /** Two runs: A, the --target run, then B, the --compare run. */
  runs: [LoadReport, LoadReport];
  /** B ÷ A. Above 1 for throughput: B is faster; above 1 for latency: B is slower. */
  ratios: {
    workThroughput?: number;
    workP50?: number;
    workP99?: number;
    pingThroughput?: number;
    /** (B work/Ping) ÷ (A work/Ping): each target against its own floor. */
    workToPingThroughput?: number;
  };
}

// Unrounded, like the run's own ratios: reports round once, when they print.
const div = (b: number | undefined, a: number | undefined) =>
  a !== undefined && b !== undefined && a > 0 ? b / a : undefined;

/**
 * The same load against two targets in one process and one run, back to
 * back: A (the --target) then B (the --compare URL), same options except
 * what `b` overrides (credentials, store label, server pid).
 */
export async function runCompare(
  a: LoadOptions,
  b: Partial<LoadOptions> & { target: string },
): Promise<CompareReport> {
  const startedAt = new Date().toISOString();
  a.progress?.note(`[A] ${a.target}`);
  const ra = await runLoad(a);
  a.progress?.note(`[B] ${b.target}`);
  const rb = await runLoad({ ...a, ...b });
  return {
    kind: "paycode-bench-compare",
    version: 1,
    startedAt,
    machine: machineInfo(),
    order: "back-to-back",
    runs: [ra, rb],
    ratios: {
      workThroughput: div(rb.phases.work.throughput, ra.phases.work.throughput),
      workP50: div(rb.phases.work.latency.p50Us, ra.phases.work.latency.p50Us),
      workP99: div(rb.phases.work.latency.p99Us, ra.phases.work.latency.p99Us),
      pingThroughput: div(rb.phases.ping?.throughput, ra.phases.ping?.throughput),
      workToPingThroughput: div(rb.ratios.workToPingThroughput, ra.ratios.workToPingThroughput),
    },
  };
}

function name(r: LoadReport, i: number): string {
  return `${i === 0 ? "A" : "B"} ${r.storeLabel ?? r.target}`;
}

/** Side-by-side text: one row per target, then the B ÷ A ratios. */
export function formatCompareReport(c: CompareReport): string {
  const [a, b] = c.runs;
  const row = (r: LoadReport, i: number) => [
    name(r, i),
    r.phases.ping ? formatCount(r.phases.ping.throughput) : "-",
    formatCount(r.phases.work.throughput),
    formatMicros(r.phases.work.latency.p50Us),
    formatMicros(r.phases.work.latency.p99Us),
    r.ratios.workToPingThroughput !== undefined ? formatRatio(r.ratios.workToPingThroughput) : "-",
    Object.entries(r.outcomes)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ") || "none",
  ];
  const q = c.ratios;
  const f = (x: number | undefined) => (x === undefined ? "-" : formatRatio(x));
  return [
    `compare (${c.order}): ${a.work.kind}, ${a.options.protocol} over HTTP/${a.options.http}, ${describeMode(a.options.mode)}, ${a.options.warmupS} s warm-up + ${a.options.durationS} s each`,
    `client ${a.client.kind}: ${a.client.description}`,
    `machine ${describeMachine(c.machine)}`,
    "",
    formatTable(
      ["target", "ping ok/s", `${a.work.kind} ok/s`, "p50 µs", "p99 µs", "work/ping", "outcomes"],
      [row(a, 0), row(b, 1)],
      [false, true, true, true, true, true, false],
    ),
    "",
    `B ÷ A: throughput ${f(q.workThroughput)}, p50 ${f(q.workP50)}, p99 ${f(q.workP99)}; ping ${f(q.pingThroughput)}; work/ping ${f(q.workToPingThroughput)}`,
    ...[a, b].flatMap((r, i) =>
      r.setup.warnings.map((w) => `WARNING (${i === 0 ? "A" : "B"}): ${w}`),
    ),
  ].join("\n");
}

/** Both targets' work and Ping percentile curves in one plot. */
export function compareSvg(c: CompareReport): string {
  const colors = [
    ["#d62728", "#ff9896"],
    ["#1f77b4", "#aec7e8"],
  ];
  const series: PlotSeries[] = [];
  c.runs.forEach((r, i) => {
    const p = r.phases.work;
    series.push({
      label: `${name(r, i)} ${r.work.kind}: ${formatCount(p.throughput)} ok/s, p50 ${formatLatency(p.latency.p50Us)}, p99 ${formatLatency(p.latency.p99Us)}`,
      points: p.curve,
      color: colors[i]![0]!,
    });
    if (r.phases.ping) {
      series.push({
        label: `${name(r, i)} Ping: ${formatCount(r.phases.ping.throughput)} ok/s`,
        points: r.phases.ping.curve,
        color: colors[i]![1]!,
      });
    }
  });
  const a = c.runs[0];
  return renderPercentilePlot({
    title: `${a.work.kind}: ${name(c.runs[0], 0)} vs ${name(c.runs[1], 1)}`,
    subtitle: `${describeMode(a.options.mode)}, ${a.options.durationS} s, ${a.options.protocol} HTTP/${a.options.http}; ${c.machine.cpuModel}, ${c.machine.cores} cores`,
    series,
  });
}

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * A self-contained HTML page (no external resource): the text reports,
 * the SVG plots inline and the JSON, of one load run or of a comparison.
 */
export function reportHtml(r: LoadReport | CompareReport): string {
  const isCompare = r.kind === "paycode-bench-compare";
  const title = isCompare
    ? `paycode bench: ${r.runs[0].work.kind}, ${r.runs[0].storeLabel ?? r.runs[0].target} vs ${r.runs[1].storeLabel ?? r.runs[1].target}`
    : `paycode bench: ${r.work.kind} on ${r.storeLabel ?? r.target}`;
  const text = isCompare ? formatCompareReport(r) : formatLoadReport(r);
  const svgs = isCompare ? [compareSvg(r), ...r.runs.map(loadReportSvg)] : [loadReportSvg(r)];
  const details = isCompare
    ? r.runs
        .map(
          (x, i) =>
            `<h2>${i === 0 ? "A" : "B"}: ${esc(x.target)}</h2>\n<pre>${esc(formatLoadReport(x))}</pre>`,
        )
        .join("\n")
    : "";
  const json = JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 1);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:13px}svg{max-width:100%;height:auto;display:block;margin:1em 0}</style>
</head><body>
<h1>${esc(title)}</h1>
<pre>${esc(text)}</pre>
${svgs.join("\n")}
${details}
<details><summary>JSON report</summary><pre>${esc(json)}</pre></details>
</body></html>
`;
}
