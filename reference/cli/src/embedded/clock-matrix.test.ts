import { describe, expect, it } from "vitest";
import { matrixRuns, runClockMatrix, verdictDifferences } from "./clock-matrix.js";

describe("the clock matrix", () => {
  it("covers each start time twice, under two time zones", () => {
    const runs = matrixRuns("2026-03-14");
    expect(runs).toHaveLength(10);
    for (const start of new Set(runs.map((r) => r.start))) {
      const zones = runs.filter((r) => r.start === start).map((r) => r.tz);
      expect(new Set(zones).size).toBe(2);
    }
    expect([...new Set(runs.map((r) => r.start.slice(11)))]).toEqual([
      "23:59:30.000Z",
      "00:00:30.000Z",
      "12:34:59.000Z",
      "12:35:01.000Z",
      "12:00:00.000Z",
    ]);
  });

  it("finds a verdict that differs between runs", () => {
    const a = { start: "a", tz: "UTC", durationMs: 0, verdicts: { x: "passed", y: "passed" } };
    const b = { start: "b", tz: "UTC", durationMs: 0, verdicts: { x: "passed", y: "failed" } };
    expect(verdictDifferences([a, b])).toEqual(["y: a UTC → passed; b UTC → failed"]);
  });

  it("gives every case the same verdict whatever the time of day and TZ, and leaves the clock as found", async () => {
    const results = await runClockMatrix();
    console.log(
      results
        .map(
          (r) =>
            `${r.start} TZ=${r.tz}: ${Object.values(r.verdicts).filter((v) => v === "passed").length}/${Object.keys(r.verdicts).length} passed in ${(r.durationMs / 1000).toFixed(1)} s`,
        )
        .join("\n"),
    );
    expect(results).toHaveLength(10);
    expect(verdictDifferences(results)).toEqual([]);
    expect(
      results.flatMap((r) => (r.restoreProblem ? [`${r.start}: ${r.restoreProblem}`] : [])),
    ).toEqual([]);
    // Every run certifies: no case fails or is skipped at any time of day.
    expect(
      results.flatMap((r) =>
        Object.entries(r.verdicts)
          .filter(([, v]) => v !== "passed")
          .map(([id, v]) => `${r.start} ${r.tz} ${id}: ${v}`),
      ),
    ).toEqual([]);
  }, 300_000);
});
