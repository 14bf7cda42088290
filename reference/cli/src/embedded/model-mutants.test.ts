import { allCases, formatMatrix, runMutantMatrix, runSuite } from "@paycode/conformance";
import { describe, expect, it } from "vitest";
import { startEmbeddedTarget } from "./reference-target.js";

const MODEL_CASES = allCases.filter(
  (c) => c.id.startsWith("model-based/") || c.id.startsWith("concurrent/"),
);

describe("model-based and concurrent cases", () => {
  it("pass against the clean reference", async () => {
    const t = await startEmbeddedTarget({ fastPasswords: true });
    try {
      const r = await runSuite({ target: t.url, cases: MODEL_CASES, parallel: 4 });
      console.log(r.cases.map((c) => `${c.id} ${c.status} ${c.durationMs}ms`).join("\n"));
      const failed = r.cases.filter((c) => c.status !== "passed");
      expect(failed.map((c) => `${c.id}: ${c.status} ${c.message}`)).toEqual([]);
    } finally {
      await t.close();
    }
  }, 300_000);
});
