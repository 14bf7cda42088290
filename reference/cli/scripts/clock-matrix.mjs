#!/usr/bin/env node
// Runs the whole conformance suite against the embedded reference with its
// clock started just before and after UTC midnight, one second either side
// of a minute boundary and at noon, each twice under different TZ values,
// and fails on any verdict that differs between runs. Needs a build
// (npm run build). The same check runs as reference/cli/src/embedded/clock-matrix.test.ts.
import { runClockMatrix, verdictDifferences } from "../dist/embedded/clock-matrix.js";

const t0 = performance.now();
const results = await runClockMatrix();
for (const r of results) {
  const passed = Object.values(r.verdicts).filter((v) => v === "passed").length;
  console.log(
    `${r.start} TZ=${r.tz}: ${passed}/${Object.keys(r.verdicts).length} passed in ${(r.durationMs / 1000).toFixed(1)} s${r.restoreProblem ? ` — ${r.restoreProblem}` : ""}`,
  );
}
const diffs = verdictDifferences(results);
for (const d of diffs) console.log(`DIFFERS ${d}`);
const restore = results.filter((r) => r.restoreProblem);
console.log(
  `${results.length} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${diffs.length} differing verdicts, ${restore.length} clocks not restored`,
);
process.exit(diffs.length === 0 && restore.length === 0 ? 0 : 1);
