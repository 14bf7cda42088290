/** One line of the plot: [percentile (0–100), latency µs] points. */
export interface PlotSeries {
  label: string;
  points: [number, number][];
  color?: string;
}

export interface PercentilePlot {
  title: string;
  subtitle?: string;
  series: PlotSeries[];
  /** Right end of the x axis in nines: 4 → 99.99%. */
  maxNines?: number;
}

const PALETTE = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const W = 820;
const H = 520;
const M = { left: 78, right: 24, top: 64, bottom: 62 };

function esc(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** x position on the "nines" scale: 0 → 0%, 1 → 90%, 2 → 99%, 3 → 99.9%. */
function nines(percentile: number): number {
  const rest = 1 - percentile / 100;
  return rest <= 0 ? Number.POSITIVE_INFINITY : -Math.log10(rest);
}

function latencyLabel(us: number): string {
  if (us >= 1_000_000) return `${us / 1_000_000} s`;
  if (us >= 1000) return `${us / 1000} ms`;
  return `${us} µs`;
}

const PCT_TICKS: [number, string][] = [
  [0, "0%"],
  [1, "90%"],
  [2, "99%"],
  [3, "99.9%"],
  [4, "99.99%"],
  [5, "99.999%"],
];

/**
 * Latency by percentile, the HdrHistogram way: x is the percentile on a
 * log "nines" scale so the tail gets as much room as the median, y is the
 * latency on a log scale. Self-contained SVG (no scripts, no fonts to load).
 */
export function renderPercentilePlot(plot: PercentilePlot): string {
  const maxNines = plot.maxNines ?? 4;
  const series = plot.series.filter((s) => s.points.length > 0);
  const all = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0);
  const lo = all.length ? 10 ** Math.floor(Math.log10(Math.min(...all))) : 1;
  const hi = all.length ? 10 ** Math.ceil(Math.log10(Math.max(...all) * 1.0001)) : 1000;
  const yTop = hi > lo ? hi : lo * 10;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const xOf = (n: number) => M.left + (Math.min(n, maxNines) / maxNines) * pw;
  const yOf = (us: number) =>
    M.top + ph - ((Math.log10(Math.max(us, lo)) - Math.log10(lo)) / Math.log10(yTop / lo)) * ph;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${esc(plot.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(plot.title)}</text>`,
  );
  if (plot.subtitle) {
    parts.push(
      `<text x="${W / 2}" y="44" text-anchor="middle" fill="#555">${esc(plot.subtitle)}</text>`,
    );
  }
  // y grid: decades, with 2× and 5× minor lines
  for (let d = lo; d <= yTop * 1.0001; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > yTop * 1.0001) break;
      const y = yOf(v).toFixed(1);
      parts.push(
        `<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="${m === 1 ? "#ccc" : "#eee"}"/>`,
      );
      if (m === 1) {
        parts.push(
          `<text x="${M.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(latencyLabel(v))}</text>`,
        );
      }
    }
  }
  for (const [n, label] of PCT_TICKS) {
    if (n > maxNines) break;
    const x = xOf(n).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="#ddd"/>`,
      `<text x="${x}" y="${M.top + ph + 18}" text-anchor="middle">${label}</text>`,
    );
  }
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 16}" text-anchor="middle">percentile</text>`,
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">latency</text>`,
  );
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const pts = s.points
      .filter(([p]) => nines(p) <= maxNines + 1e-9)
      .map(([p, us]) => `${xOf(nines(p)).toFixed(1)},${yOf(us).toFixed(1)}`);
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" points="${pts.join(" ")}"/>`,
    );
    const ly = M.top + 16 + i * 18;
    parts.push(
      `<line x1="${M.left + 12}" x2="${M.left + 36}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${M.left + 42}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
