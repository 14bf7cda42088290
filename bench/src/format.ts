/** Plain-text table with right-aligned numeric columns, for terminal reports. */
export function formatTable(headers: string[], rows: string[][], rightAlign: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** 1234567.8 → "1,234,568"; small values keep a few significant digits. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return "-";
  if (n >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString("en-US");
  return n.toPrecision(3);
}

/** Microseconds with precision that suits their size. */
export function formatMicros(us: number): string {
  if (!Number.isFinite(us)) return "-";
  if (us >= 1000) return Math.round(us).toLocaleString("en-US");
  if (us >= 10) return us.toFixed(1);
  return us.toFixed(2);
}

export function formatRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return "";
  return r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

/** Latency for labels: "751 µs", "2.2 ms", "2.22 s". */
export function formatLatency(us: number): string {
  if (!Number.isFinite(us)) return "-";
  if (us >= 1_000_000) return `${(us / 1_000_000).toPrecision(3)} s`;
  if (us >= 1000) return `${(us / 1000).toPrecision(3)} ms`;
  return `${Math.round(us)} µs`;
}
