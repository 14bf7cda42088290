import type { Case } from "../case.js";
import type { CaseResult, ConfigReport, RunReport } from "../result.js";
import type { RunListener } from "../runner.js";

export interface ConsoleOptions {
  /** Where to write; default process.stdout. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Print passing cases too (always true when not a TTY). */
  verbose?: boolean;
  /** Force or disable the live progress line; defaults to stream.isTTY. */
  tty?: boolean;
  /** Force or disable colours; defaults to `colorEnabled(stream)`. */
  color?: boolean;
}

/**
 * Whether to colour output written to `stream`: only on a terminal, never
 * with NO_COLOR set (https://no-color.org), always with FORCE_COLOR set
 * (unless it is "0" or "false"); NO_COLOR wins.
 */
export function colorEnabled(
  stream: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

/**
 * Target-supplied text (error messages) is shown with control characters
 * made visible, so a hostile target cannot drive the terminal with escape
 * sequences.
 */
export function printable(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

const MARK: Record<CaseResult["status"], string> = {
  passed: "PASS",
  failed: "FAIL",
  skipped: "SKIP",
  "known-failing": "XFAIL",
};

/**
 * Console reporter. On a terminal: a live progress line, with failures
 * printed above it as they happen. Elsewhere (CI logs): one plain line per
 * case. Both end with the same summary.
 */
export class ConsoleReporter implements RunListener {
  private readonly out: NonNullable<ConsoleOptions["stream"]>;
  private readonly tty: boolean;
  private readonly useColor: boolean;
  private readonly verbose: boolean;
  private total = 0;
  private done = 0;
  private counts = { passed: 0, failed: 0, skipped: 0, "known-failing": 0 };
  private readonly running = new Set<string>();
  private lineShown = false;

  constructor(o: ConsoleOptions = {}) {
    this.out = o.stream ?? process.stdout;
    this.tty = o.tty ?? Boolean(this.out.isTTY);
    this.useColor = o.color ?? colorEnabled(this.out);
    this.verbose = o.verbose ?? !this.tty;
  }

  private color(code: string, text: string): string {
    return this.useColor ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  private clearLine(): void {
    if (this.tty && this.lineShown) {
      this.out.write("\r\x1b[2K");
      this.lineShown = false;
    }
  }

  private drawLine(): void {
    if (!this.tty) return;
    const width = this.out.columns ?? 100;
    const c = this.counts;
    const head = `[${this.done}/${this.total}] ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c["known-failing"]} known-failing`;
    const run =
      this.running.size > 0 ? `running ${this.running.size}: ${[...this.running].join(", ")}` : "";
    let line = run ? `${head} | ${run}` : head;
    if (line.length > width - 1) line = `${line.slice(0, width - 2)}…`;
    this.out.write(`\r\x1b[2K${line}`);
    this.lineShown = true;
  }

  onStart(info: {
    target: string;
    implementation: string;
    total: number;
    features: string[];
    configs?: readonly ConfigReport[];
  }): void {
    this.total = info.total;
    const impl = info.implementation ? ` (${printable(info.implementation)})` : "";
    const configs = info.configs ? `  ${formatConfigs(info.configs)}\n` : "";
    this.out.write(
      `Paycode conformance: ${info.total} cases against ${info.target}${impl}\n` +
        `  features claimed: ${info.features.length > 0 ? printable(info.features.join(", ")) : "(none)"}\n` +
        configs,
    );
    this.drawLine();
  }

  onCaseStart(c: Case): void {
    this.running.add(c.id);
    this.drawLine();
  }

  onCaseEnd(r: CaseResult): void {
    this.running.delete(r.id);
    this.done++;
    this.counts[r.status]++;
    const show = r.status === "failed" || this.verbose;
    if (show) {
      this.clearLine();
      const colors = { passed: "32", failed: "31", skipped: "33", "known-failing": "35" };
      const mark = this.color(colors[r.status], MARK[r.status].padEnd(5));
      const sev = r.severity === "recommended" ? " [recommended]" : "";
      const msg = r.message ? `\n      ${printable(r.message)}` : "";
      this.out.write(`${mark} ${r.id}${sev}${overConfigs(r)} (${r.durationMs} ms)${msg}\n`);
    }
    this.drawLine();
  }

  onEnd(report: RunReport): void {
    this.clearLine();
    this.out.write(formatSummary(report, (c, t) => this.color(c, t)));
  }
}

/**
 * " over connect-http1.1-proto, connect-http1.1-json": the configs a case
 * ran on, each with its own verdict when they differ.
 */
export function overConfigs(r: CaseResult): string {
  if (r.configs.length === 0) return "";
  const same = r.configs.every((c) => c.status === r.configs[0]!.status);
  const names = r.configs.map((c) =>
    same ? c.config : `${c.config} ${c.status === "passed" ? "passed" : c.status.toUpperCase()}`,
  );
  return ` over ${names.join(", ")}`;
}

/**
 * "protocols: connect-http1.1-proto, connect-http1.1-json (mandatory, every
 * case); grpc-http2-proto (every case); not served: grpc-web-http1.1-proto":
 * what the run exercised.
 */
export function formatConfigs(configs: readonly ConfigReport[]): string {
  const group = (list: readonly ConfigReport[]) => list.map((c) => c.name).join(", ");
  const parts: string[] = [];
  const mandatory = configs.filter((c) => c.mandatory && c.served);
  if (mandatory.length > 0) parts.push(`${group(mandatory)} (mandatory, every case)`);
  const all = configs.filter((c) => !c.mandatory && c.served && c.cases === "all");
  if (all.length > 0) parts.push(`${group(all)} (every case)`);
  const subset = configs.filter((c) => !c.mandatory && c.served && c.cases === "subset");
  if (subset.length > 0) parts.push(`${group(subset)} (optional-config subset)`);
  const missing = configs.filter((c) => c.mandatory && !c.served);
  if (missing.length > 0) parts.push(`NOT SERVED, mandatory [RPC-3]: ${group(missing)}`);
  const unserved = configs.filter((c) => !c.mandatory && !c.served);
  if (unserved.length > 0) parts.push(`not served: ${group(unserved)}`);
  return `protocols: ${parts.length > 0 ? parts.join("; ") : "(none)"}`;
}

/**
 * The closing summary: counts, every non-passing case with its reason
 * (blocking failures first, then recommended ones, then known failures),
 * the verdict last so it ends the log.
 */
export function formatSummary(
  report: RunReport,
  color: (code: string, text: string) => string = (_c, t) => t,
): string {
  const s = report.summary;
  const lines: string[] = [""];
  if (report.targetProblem) {
    lines.push(color("31", `Target not tested: ${printable(report.targetProblem.message)}`));
  }
  const failed = [
    ...report.cases.filter((c) => c.status === "failed" && c.blocking),
    ...report.cases.filter((c) => c.status === "failed" && !c.blocking),
  ];
  if (failed.length > 0) {
    lines.push("Failed cases:");
    for (const c of failed) {
      const tag = c.blocking ? "" : " (recommended, not counted)";
      lines.push(
        `  ${c.id}${tag} [${c.requirements.join(", ")}]${overConfigs(c)}`,
        `      ${printable(c.message)}`,
      );
    }
  }
  const kf = report.cases.filter((c) => c.status === "known-failing");
  if (kf.length > 0) {
    lines.push("Known failing (expected):");
    for (const c of kf) lines.push(`  ${c.id}${overConfigs(c)}: ${printable(c.message)}`);
  }
  if (report.unmatchedKnownFailing.length > 0) {
    lines.push(
      `Known-failing patterns matching no selected case: ${report.unmatchedKnownFailing.join(", ")}`,
    );
  }
  if (report.interrupted) lines.push(color("33", "Run interrupted: results are partial."));
  if (report.configs.length > 0) lines.push(formatConfigs(report.configs));
  if (report.unexercisedMandatory.length > 0) {
    lines.push(
      color(
        "31",
        `Not a certification run: it left out ${report.unexercisedMandatory.join(", ")}, mandatory by [RPC-3]`,
      ),
    );
  }
  lines.push(
    `Total: ${s.total} cases: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped, ${s.knownFailing} known-failing (${(report.durationMs / 1000).toFixed(1)} s)`,
  );
  if (s.staleKnownFailing > 0) {
    lines.push(
      color(
        "31",
        `${s.staleKnownFailing} stale known-failing entr${s.staleKnownFailing === 1 ? "y" : "ies"}`,
      ),
    );
  }
  const why =
    s.blockingFailures > 0 || report.unexercisedMandatory.length === 0
      ? `${s.blockingFailures} blocking failure${s.blockingFailures === 1 ? "" : "s"}`
      : "mandatory protocols not exercised";
  lines.push(
    report.ok
      ? color("32", "RESULT: PASS (no required case failed)")
      : color("31", `RESULT: FAIL (${why})`),
  );
  return `${lines.join("\n")}\n`;
}
