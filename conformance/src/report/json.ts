import { renameSync, writeFileSync } from "node:fs";
import type { CaseResult, RunReport } from "../result.js";
import type { RunListener } from "../runner.js";

/** The JSON report: the run report with stable key order. */
export function toJson(report: RunReport): string {
  const cases = report.cases.map((c: CaseResult) => ({
    id: c.id,
    title: c.title,
    requirements: c.requirements,
    severity: c.severity,
    status: c.status,
    durationMs: c.durationMs,
    message: c.message,
    features: c.features,
    configs: c.configs.map((x) => ({
      config: x.config,
      status: x.status,
      durationMs: x.durationMs,
      message: x.message,
      ...(x.notes ? { notes: x.notes } : {}),
      ...(x.staleKnownFailing ? { staleKnownFailing: true } : {}),
    })),
    ...(c.notes ? { notes: c.notes } : {}),
    ...(c.staleKnownFailing ? { staleKnownFailing: true } : {}),
    blocking: c.blocking ?? false,
  }));
  const out = {
    suiteVersion: report.suiteVersion,
    target: report.target,
    protocol: report.protocol,
    httpVersion: report.httpVersion,
    configs: report.configs,
    ...(report.unexercisedMandatory.length > 0
      ? { unexercisedMandatory: report.unexercisedMandatory }
      : {}),
    implementation: report.implementation,
    features: report.features,
    ...(report.targetProblem ? { targetProblem: report.targetProblem } : {}),
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    strict: report.strict,
    interrupted: report.interrupted,
    ok: report.ok,
    unmatchedKnownFailing: report.unmatchedKnownFailing,
    summary: report.summary,
    cases,
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** Writes atomically (temp file + rename) so a reader never sees half a report. */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Rewrites the JSON file after every case, so a crash or Ctrl-C of the
 * harness still leaves every finished case on disk.
 */
export class JsonFileReporter implements RunListener {
  constructor(private readonly file: string) {}

  onCaseEnd(_r: CaseResult, soFar: RunReport): void {
    writeAtomic(this.file, toJson(soFar));
  }

  onEnd(report: RunReport): void {
    writeAtomic(this.file, toJson(report));
  }
}
