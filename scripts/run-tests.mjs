#!/usr/bin/env node
// Runs vitest, then prints the plain "N passed, N failed, N skipped" closing
// line that CI reads, from vitest's own JSON report.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

const report = ".vitest-results.json";
rmSync(report, { force: true });
const args = [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
];
const run = spawnSync("npx", args, { stdio: "inherit" });
if (!existsSync(report)) {
  console.error("vitest wrote no report");
  process.exit(run.status || 1);
}
const r = JSON.parse(readFileSync(report, "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`\nTests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
if (r.numTotalTests === 0) {
  console.error("no test ran");
  process.exit(1);
}
process.exit(run.status ?? 1);
