import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { allCases, PRIMARY_CONFIG, runSuite } from "@paycode/conformance";
import { ConformanceService } from "@paycode/protocol/v1";
import { createPaycodeTransport } from "@paycode/sdk";
import { startEmbeddedTarget } from "./reference-target.js";

/**
 * The clock matrix: the whole suite against the embedded reference with its
 * clock started at awkward times of day, each twice under different time
 * zones, so that any verdict that depends on when the run happens (or on
 * TZ) shows up as a difference between runs. Each time zone is a child
 * process started with that TZ; each child runs its share in turn.
 */

/** One run: where the reference's clock started and under which TZ. */
export interface MatrixRun {
  readonly start: string;
  readonly tz: string;
}

/** What one run found. */
export interface MatrixResult extends MatrixRun {
  /** Case id → status. */
  readonly verdicts: Record<string, string>;
  readonly durationMs: number;
  /** Set when the run did not leave the clock running at the time found plus the time elapsed. */
  readonly restoreProblem?: string;
}

export const MATRIX_ZONES = ["UTC", "Asia/Shanghai", "America/Los_Angeles"] as const;

/**
 * Start times on `dayIso` (YYYY-MM-DD, UTC): just before and just after
 * midnight, one second either side of a minute boundary, and noon; each
 * twice, the two under different time zones.
 */
export function matrixRuns(dayIso: string): MatrixRun[] {
  const day = Date.parse(`${dayIso}T00:00:00Z`);
  const iso = (ms: number) => new Date(ms).toISOString();
  const starts = [
    iso(day - 30_000), // 23:59:30 of the day before
    iso(day + 30_000), // 00:00:30
    iso(day + 12 * 3_600_000 + 35 * 60_000 - 1_000), // 12:34:59
    iso(day + 12 * 3_600_000 + 35 * 60_000 + 1_000), // 12:35:01
    iso(day + 12 * 3_600_000), // 12:00:00
  ];
  const runs: MatrixRun[] = [];
  let i = 0;
  for (const start of starts) {
    for (let k = 0; k < 2; k++) runs.push({ start, tz: MATRIX_ZONES[i++ % MATRIX_ZONES.length]! });
  }
  return runs;
}

/** Runs the suite once against a fresh embedded reference whose clock starts at `start`. */
export async function runOnce(start: string, tz: string): Promise<MatrixResult> {
  const startMs = Date.parse(start);
  const target = await startEmbeddedTarget({ fastPasswords: true, clockStartMs: startMs });
  const t0 = performance.now();
  try {
    const report = await runSuite({
      target: target.url,
      // Verdicts against the clock, not the protocols: one config keeps the
      // matrix of runs affordable (certification runs take every config).
      configs: [PRIMARY_CONFIG],
      cases: allCases,
      parallel: 8,
      timeoutMs: 30_000,
    });
    const durationMs = Math.round(performance.now() - t0);
    const verdicts = Object.fromEntries(report.cases.map((c) => [c.id, c.status]));
    // The run leaves the clock where it found it: running, at start + elapsed.
    const pt = createPaycodeTransport({ baseUrl: target.url, httpVersion: "1.1" });
    const caps = await createClient(ConformanceService, pt.transport)
      .getCapabilities({})
      .finally(() => pt.close());
    const now = caps.now ? timestampMs(caps.now) : Number.NaN;
    const expected = startMs + (performance.now() - t0);
    const restoreProblem =
      caps.clockFrozen || !(Math.abs(now - expected) < 5_000)
        ? `after the run the clock reads ${new Date(now).toISOString()}${caps.clockFrozen ? " (frozen)" : ""}, expected about ${new Date(expected).toISOString()} running`
        : undefined;
    return { start, tz, verdicts, durationMs, ...(restoreProblem ? { restoreProblem } : {}) };
  } finally {
    await target.close();
  }
}

/** The differences between runs: one line per case whose verdict is not the same everywhere. */
export function verdictDifferences(results: readonly MatrixResult[]): string[] {
  const ids = new Set(results.flatMap((r) => Object.keys(r.verdicts)));
  const out: string[] = [];
  for (const id of [...ids].sort()) {
    const seen = results.map((r) => r.verdicts[id] ?? "missing");
    if (new Set(seen).size > 1) {
      out.push(`${id}: ${results.map((r, i) => `${r.start} ${r.tz} → ${seen[i]}`).join("; ")}`);
    }
  }
  return out;
}

const CHILD = fileURLToPath(new URL("../../dist/embedded/clock-matrix.js", import.meta.url));

/**
 * Runs the matrix: one child process per time zone (TZ set in its
 * environment), all at once; each runs its share of `runs` in turn.
 */
export async function runClockMatrix(
  runs: readonly MatrixRun[] = matrixRuns(new Date().toISOString().slice(0, 10)),
): Promise<MatrixResult[]> {
  if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: build first (npx tsc -b)`);
  const byZone = new Map<string, string[]>();
  for (const r of runs) byZone.set(r.tz, [...(byZone.get(r.tz) ?? []), r.start]);
  const children = [...byZone].map(
    ([tz, starts]) =>
      new Promise<MatrixResult[]>((resolve, reject) => {
        const child = spawn(process.execPath, [CHILD, "--child", ...starts], {
          env: { ...process.env, TZ: tz },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => {
          out += d;
        });
        child.stderr.on("data", (d) => {
          err += d;
        });
        child.on("error", reject);
        child.on("exit", (code) => {
          if (code !== 0) return reject(new Error(`TZ=${tz} child exited ${code}: ${err}`));
          resolve(
            out
              .split("\n")
              .filter((l) => l.startsWith("{"))
              .map((l) => JSON.parse(l) as MatrixResult),
          );
        });
      }),
  );
  return (await Promise.all(children)).flat();
}

/** Child: runs each start time given on the command line, one JSON line per run. */
async function childMain(starts: readonly string[]): Promise<void> {
  const tz = process.env.TZ ?? "";
  for (const start of starts) {
    process.stdout.write(`${JSON.stringify(await runOnce(start, tz))}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "--child") {
  childMain(process.argv.slice(3)).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
