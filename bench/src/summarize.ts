import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatCount, formatMicros, formatRatio } from "./format.js";
import type { PhaseResult } from "./load/drive.js";
import type { LoadReport } from "./load/load-report.js";
import { describeMode } from "./load/report.js";
import { describeMachine } from "./machine.js";
import type { MicroReport } from "./micro.js";
import {
  describeScanLayers,
  SCAN_LAYERS_HEADERS,
  type ScanLayersReport,
  scanLayersRows,
} from "./scan-layers-report.js";

function md(headers: string[], rows: string[][]): string {
  return [
    `| ${headers.join(" | ")} |`,
    `|${headers.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

function read<T>(dir: string, name: string): T | undefined {
  const f = join(dir, name);
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as T) : undefined;
}

const verdict = (value: number | undefined, target: number) =>
  value === undefined ? "-" : value >= target ? "met" : "**missed**";

function microSection(r: MicroReport): string {
  const targets: Record<string, { floor?: number; peer?: number }> = {
    "ours.online-verify-valid": { floor: 1 / 3, peer: 2 },
    "ours.offline-verify": { floor: 0.9 },
  };
  const rows = r.tasks.map((t) => {
    const goal = targets[t.id];
    const goals = [
      goal?.floor !== undefined
        ? `≥ ${goal.floor.toFixed(2)}× floor: ${verdict(t.floorRatio, goal.floor)}`
        : "",
      goal?.peer !== undefined ? `≥ ${goal.peer}× peer: ${verdict(t.peerRatio, goal.peer)}` : "",
    ].filter((g) => g !== "");
    return [
      `\`${t.id}\``,
      formatCount(t.opsPerSec),
      formatMicros(t.p50Us),
      formatMicros(t.p99Us),
      t.floorRatio !== undefined ? `${formatRatio(t.floorRatio)} \`${t.floor}\`` : "",
      t.peerRatio !== undefined ? `${formatRatio(t.peerRatio)} \`${t.peer}\`` : "",
      goals.join("; "),
    ];
  });
  return [
    `${r.options.rounds} rounds of ${r.options.timeMs} ms per run, each task right after a run of its floor and peer; ` +
      "ops/s is the median run, each ratio the median over rounds of the adjacent pairs' ratios.",
    "",
    md(["task", "ops/s", "p50 µs", "p99 µs", "vs floor", "vs peer", "target"], rows),
  ].join("\n");
}

function phaseRows(phases: PhaseResult[]): string[][] {
  return phases.map((p) => [
    p.name,
    formatCount(p.throughput),
    formatMicros(p.latency.p50Us),
    formatMicros(p.latency.p90Us),
    formatMicros(p.latency.p99Us),
    formatMicros(p.latency.p999Us),
    formatMicros(p.latency.maxUs),
    p.cpu ? `${formatMicros(p.cpu.clientUsPerCall)}` : "-",
    p.cpu?.serverUsPerCall !== undefined ? `${formatMicros(p.cpu.serverUsPerCall)}` : "-",
    Object.entries(p.errors)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ") || "0",
  ]);
}

const PHASE_HEADERS = [
  "phase",
  "ok/s",
  "p50 µs",
  "p90 µs",
  "p99 µs",
  "p99.9 µs",
  "max µs",
  "client CPU µs/call",
  "server CPU µs/call",
  "errors",
];

function loadSection(r: LoadReport): string {
  const phases = [r.phases.ping, r.phases.work, r.phases.bareHttp].filter(
    (p): p is PhaseResult => p !== undefined,
  );
  const q = r.ratios;
  const lines = [
    `${r.storeLabel ?? "store ?"}; ${describeMode(r.options.mode)}; ${r.options.warmupS} s warm-up + ${r.options.durationS} s per phase; ${r.transport}.`,
    `Wallets: population ${formatCount(r.setup.walletPopulation)}, ${formatCount(r.setup.walletsUsed)} used, ${formatCount(r.setup.callsPrepared)} codes prepared.` +
      (r.setup.calibrationRate !== undefined
        ? ` Calibration: ${formatCount(r.setup.calibrationRate)} scans/s.`
        : ""),
    "",
    md(PHASE_HEADERS, phaseRows(phases)),
    "",
  ];
  const ratios: string[] = [];
  if (q.workToPingThroughput !== undefined) {
    ratios.push(`Scan / Ping throughput **${formatRatio(q.workToPingThroughput)}**`);
  }
  if (q.workToPingP50 !== undefined) {
    ratios.push(
      `Scan / Ping latency p50 ${formatRatio(q.workToPingP50)}, p99 ${formatRatio(q.workToPingP99)}`,
    );
  }
  if (q.pingToBareThroughput !== undefined) {
    ratios.push(`Ping / bare HTTP throughput **${formatRatio(q.pingToBareThroughput)}**`);
  }
  lines.push(`${ratios.join("; ")}.`);
  const outcomes = Object.entries(r.outcomes)
    .map(([k, v]) => `${k} ${formatCount(v)}`)
    .join(", ");
  lines.push(`Scan outcomes (warm-up included): ${outcomes || "none"}.`);
  for (const w of r.setup.warnings) lines.push(`Warning from the run: ${w}`);
  return lines.join("\n");
}

/** What `bench/run-benchmarks.sh` writes of its pgbench run. */
interface PgbenchResult {
  tps: number;
  latencyAvgMs: number;
  clients: number;
  threads: number;
  scale: number;
  durationS: number;
}

/** Scan on PostgreSQL against pgbench on the same server, and two servers against one. */
function postgresFloorSection(dir: string): string[] {
  const out: string[] = [];
  const pgbench = read<PgbenchResult>(dir, "pgbench.json");
  const one = read<LoadReport>(dir, "pg-c16.json");
  if (pgbench && one) {
    const r = one.phases.work.throughput / pgbench.tps;
    out.push(
      "### PostgreSQL: Scan vs pgbench",
      "",
      md(
        ["run", "tx/s", "latency avg µs"],
        [
          [
            `pgbench tpcb-like, ${pgbench.clients} clients, -j ${pgbench.threads}, scale ${pgbench.scale}, ${pgbench.durationS} s`,
            formatCount(pgbench.tps),
            formatMicros(pgbench.latencyAvgMs * 1000),
          ],
          [
            "Scan, 16 in flight",
            formatCount(one.phases.work.throughput),
            formatMicros(one.phases.work.latency.meanUs),
          ],
        ],
      ),
      "",
      `Scan / pgbench: **${formatRatio(r)}** (target ≥ 0.8×: ${verdict(r, 0.8)}).`,
      "",
    );
  }
  const a = read<LoadReport>(dir, "pg-two-a.json");
  const b = read<LoadReport>(dir, "pg-two-b.json");
  // One server under the same two load generators (runs of this script since
  // issue 10's fourth round); older runs compare with the 16-in-flight run.
  const oneA = read<LoadReport>(dir, "pg-one-a.json");
  const oneB = read<LoadReport>(dir, "pg-one-b.json");
  if (one && a && b) {
    const sameShape = oneA && oneB ? [oneA, oneB] : [];
    const rows = [...sameShape, a, b].map((x) => [
      x.storeLabel ?? "?",
      formatCount(x.phases.work.throughput),
      formatMicros(x.phases.work.latency.p50Us),
      formatMicros(x.phases.work.latency.p99Us),
      // Each generator divides its server's CPU by its own calls: shared by two, that is no figure.
      x.phases.work.cpu?.serverUsPerCall !== undefined && !sameShape.includes(x)
        ? formatMicros(x.phases.work.cpu.serverUsPerCall)
        : "-",
      Object.entries(x.outcomes)
        .map(([k, v]) => `${k} ${formatCount(v)}`)
        .join(", "),
    ]);
    const sum = (xs: LoadReport[]) => xs.reduce((n, x) => n + x.phases.work.throughput, 0);
    const together = sum([a, b]);
    const sixteen = one.phases.work.throughput;
    const verdictLine =
      sameShape.length > 0
        ? `Two servers together ${formatCount(together)} scans/s; one server under the same two load generators ${formatCount(sum(sameShape))}: **${formatRatio(together / sum(sameShape))}** (target ≥ 1×: ${verdict(together / sum(sameShape), 1)}). Against one server at 16 in flight from one generator (${formatCount(sixteen)}): ${formatRatio(together / sixteen)}.`
        : `Together ${formatCount(together)} scans/s; one server at 16 in flight ${formatCount(sixteen)}: **${formatRatio(together / sixteen)}** (target ≥ 1×: ${verdict(together / sixteen, 1)}).`;
    out.push(
      "### PostgreSQL: two servers on one database, 8 + 8 in flight",
      "",
      md(["server", "Scan ok/s", "p50 µs", "p99 µs", "server CPU µs/scan", "outcomes"], rows),
      "",
      verdictLine,
      "",
    );
  }
  return out;
}

/**
 * Markdown tables of one `bench/run-benchmarks.sh` output directory, for
 * docs/benchmarks.md: every figure comes from the JSON the tools wrote.
 */
function scanLayersSection(r: ScanLayersReport, load: LoadReport | undefined): string {
  const lines = [
    `\`paycode bench scan-layers\`. ${describeScanLayers(r)}`,
    "",
    md(SCAN_LAYERS_HEADERS, scanLayersRows(r)),
  ];
  const server = load?.phases.work.cpu?.serverUsPerCall;
  const ping = load?.phases.ping?.cpu?.serverUsPerCall;
  if (server !== undefined) {
    lines.push(
      "",
      `Server CPU per Scan in the load run at 16 in flight: ${formatMicros(server)} µs` +
        (ping !== undefined ? `; per Ping: ${formatMicros(ping)} µs.` : "."),
    );
  }
  return lines.join("\n");
}

export function summarizeResults(dir: string): string {
  const out: string[] = [];
  const micro = read<MicroReport>(dir, "micro.json");
  if (micro) {
    out.push(
      `Machine: ${describeMachine(micro.machine)}.`,
      "",
      "### Micro",
      "",
      microSection(micro),
      "",
    );
  }
  for (const [file, title] of [
    ["sqlite-c16.json", "Load: SQLite, 16 in flight"],
    ["sqlite-c1.json", "Load: SQLite, 1 in flight"],
    ["sqlite-open.json", "Load: SQLite, open loop"],
    ["pg-c16.json", "Load: PostgreSQL, 16 in flight"],
  ] as const) {
    const r = read<LoadReport>(dir, file);
    if (r) out.push(`### ${title}`, "", loadSection(r), "");
  }
  out.push(...postgresFloorSection(dir));
  for (const [file, title, load] of [
    [
      "scan-layers-sqlite.json",
      "In-process: a Scan through the store and the issuer (SQLite)",
      "sqlite-c16.json",
    ],
    [
      "scan-layers-pg.json",
      "In-process: a Scan through the store and the issuer (PostgreSQL)",
      "pg-c16.json",
    ],
  ] as const) {
    const r = read<ScanLayersReport>(dir, file);
    if (r) out.push(`### ${title}`, "", scanLayersSection(r, read<LoadReport>(dir, load)), "");
  }
  const s1k = read<LoadReport>(dir, "scale-1k.json");
  const s1m = read<LoadReport>(dir, "scale-1m.json");
  if (s1k) {
    const rows = [s1k, s1m]
      .filter((r): r is LoadReport => r !== undefined)
      .map((r) => [
        formatCount(r.setup.walletPopulation),
        formatCount(r.setup.walletsUsed),
        formatCount(r.phases.work.throughput),
        formatMicros(r.phases.work.latency.p50Us),
        formatMicros(r.phases.work.latency.p99Us),
        r.phases.work.cpu?.serverUsPerCall !== undefined
          ? formatMicros(r.phases.work.cpu.serverUsPerCall)
          : "-",
        formatCount(r.phases.ping?.throughput ?? 0),
        formatRatio(r.ratios.workToPingThroughput),
      ]);
    out.push(
      "### Scale: 10^3 vs 10^6 wallets",
      "",
      md(
        [
          "wallets in store",
          "wallets used",
          "Scan ok/s",
          "p50 µs",
          "p99 µs",
          "server CPU µs/scan",
          "Ping ok/s",
          "Scan / Ping",
        ],
        rows,
      ),
      "",
    );
    if (s1m) {
      const r = s1m.phases.work.throughput / s1k.phases.work.throughput;
      out.push(
        `10^6 / 10^3 Scan throughput: **${formatRatio(r)}** (target ≥ 0.9×: ${verdict(r, 0.9)}).`,
        "",
      );
    }
  }
  const floors = [
    ["floor-http-h2.json", "HTTP/2 (h2c)"],
    ["floor-http-h1.json", "HTTP/1.1"],
  ] as const;
  const floorRows = floors.flatMap(([file, label]) => {
    const f = read<{ phase: PhaseResult }>(dir, file);
    return f ? phaseRows([{ ...f.phase, name: label }]) : [];
  });
  if (floorRows.length > 0) {
    out.push("### Bare HTTP floor, 16 in flight", "", md(PHASE_HEADERS, floorRows), "");
  }
  return out.join("\n");
}
