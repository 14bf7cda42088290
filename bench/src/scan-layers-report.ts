import { formatCount, formatMicros, formatTable } from "./format.js";
import type { MachineInfo } from "./machine.js";

/**
 * The report of `paycode bench scan-layers` (the reference CLI runs the
 * Scans; this package owns the format, so `summarize` reads what the CLI
 * writes): a Scan in-process, without HTTP, through one layer of the server.
 */
export type ScanLayer = "store" | "issuer";

export interface ScanLayerResult {
  layer: ScanLayer;
  /** Scans submitted together. */
  group: number;
  scans: number;
  seconds: number;
  scansPerSec: number;
  /**
   * CPU of the whole process per Scan (all threads: a SQLite store's WAL
   * flush on libuv's pool and its checkpoint worker count), µs. A database
   * server's own CPU is not in it.
   */
  cpuUsPerScan: number;
}

export interface ScanLayersReport {
  kind: "paycode-bench-scan-layers";
  version: 1;
  startedAt: string;
  machine: MachineInfo;
  store: "sqlite" | "postgres";
  options: { wallets: number; scans: number; groups: number[] };
  results: ScanLayerResult[];
}

export const SCAN_LAYERS_HEADERS = ["layer", "Scans per group", "Scans", "Scans/s", "CPU µs/Scan"];

/** One row per layer and group size, in run order. */
export function scanLayersRows(r: ScanLayersReport): string[][] {
  return r.results.map((x) => [
    x.layer,
    String(x.group),
    formatCount(x.scans),
    formatCount(Math.round(x.scansPerSec)),
    formatMicros(x.cpuUsPerScan),
  ]);
}

/** What the layers are, in one sentence for the text and the markdown report. */
export function describeScanLayers(r: ScanLayersReport): string {
  return (
    `A Scan in-process, no HTTP, ${formatCount(r.options.wallets)} wallets on a new ${r.store} store: ` +
    "`store` is `Store.scanOnce` alone, `issuer` is `Issuer.scan` (API key, code, seed, store, audit); " +
    "each round submits that many Scans at once. CPU is this process's, all threads" +
    (r.store === "postgres" ? " (PostgreSQL's own is not in it)." : ".")
  );
}

export function formatScanLayersReport(r: ScanLayersReport): string {
  return [
    describeScanLayers(r),
    formatTable(SCAN_LAYERS_HEADERS, scanLayersRows(r), [false, true, true, true, true]),
  ].join("\n");
}
