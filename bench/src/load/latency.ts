import { build, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";

/** Latency percentiles in microseconds. */
export interface LatencySummary {
  count: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

/** 1 µs to 1 hour at 3 significant digits (0.1% value error). */
export function newLatencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
    autoResize: true,
  });
}

/** Records a latency in milliseconds (performance.now units) as whole µs, at least 1. */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(Math.max(us, 1));
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) {
    return { count: 0, meanUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0, maxUs: 0 };
  }
  return {
    count: h.totalCount,
    meanUs: Math.round(h.mean * 10) / 10,
    p50Us: h.getValueAtPercentile(50),
    p90Us: h.getValueAtPercentile(90),
    p99Us: h.getValueAtPercentile(99),
    p999Us: h.getValueAtPercentile(99.9),
    maxUs: h.maxValue,
  };
}

/**
 * Percentile curve on the "nines" scale, x = −log10(1 − p): 0 → p0,
 * 1 → p90, 2 → p99, 3 → p99.9, 4 → p99.99. Points are [percentile, µs].
 */
export function percentileCurve(h: Histogram, maxNines = 4, step = 0.05): [number, number][] {
  const out: [number, number][] = [];
  if (h.totalCount === 0) return out;
  for (let x = 0; x <= maxNines + 1e-9; x += step) {
    const p = 100 * (1 - 10 ** -x);
    out.push([Math.round(p * 10000) / 10000, h.getValueAtPercentile(p)]);
  }
  return out;
}

/** The whole histogram, HdrHistogram's compressed base64 form (re-plottable by any HDR tool). */
export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}
