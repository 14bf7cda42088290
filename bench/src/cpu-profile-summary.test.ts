import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatProfileSummary, summarizeCpuProfile } from "./cpu-profile-summary.js";

const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 0 });

/**
 * root → scan (issuer) → scanOnce (store) → query (pg) → writev (native),
 * root → (idle), root → onStreamRead (node:) ; samples 1 ms apart.
 */
const PROFILE = {
  nodes: [
    { id: 1, callFrame: frame("(root)"), children: [2, 6, 7] },
    {
      id: 2,
      callFrame: frame("scan", "file:///x/reference/server/dist/issuer/scan-service.js"),
      children: [3],
    },
    {
      id: 3,
      callFrame: frame("scanOnce", "file:///x/reference/server/dist/store/postgres-store.js"),
      children: [4],
    },
    { id: 4, callFrame: frame("query", "file:///x/node_modules/pg/lib/client.js"), children: [5] },
    { id: 5, callFrame: frame("writev") },
    { id: 6, callFrame: frame("(idle)") },
    { id: 7, callFrame: frame("onStreamRead", "node:internal/stream_base_commons") },
  ],
  startTime: 0,
  endTime: 10_000,
  // 1 idle sample in the first second, then writev ×4, scan ×2, idle ×2, Node core ×1.
  samples: [6, 5, 5, 5, 5, 2, 2, 6, 6, 7],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe("summarizeCpuProfile", () => {
  it("splits samples by the innermost layer on the stack and skips the first seconds", () => {
    const dir = mkdtempSync(join(tmpdir(), "paycode-prof-"));
    try {
      const file = join(dir, "p.cpuprofile");
      writeFileSync(file, JSON.stringify(PROFILE));
      const s = summarizeCpuProfile(file, { fromS: 0.0015, top: 2 });
      expect(s.seconds).toBeCloseTo(0.009);
      expect(Object.fromEntries(s.layers.map((l) => [l.layer, l.share]))).toEqual({
        "SQL driver": 4 / 9,
        "issuer + codec": 2 / 9,
        idle: 2 / 9,
        "Node core": 1 / 9,
      });
      expect(s.top).toEqual([
        { frame: "writev", share: 4 / 9 },
        { frame: "scan issuer/scan-service.js:1", share: 2 / 9 },
      ]);
      expect(formatProfileSummary(s)).toContain("| SQL driver | 44.4% |");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
