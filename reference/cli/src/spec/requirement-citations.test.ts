import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseRequirementIndex, parseRequirements } from "@paycode/conformance";
import { describe, expect, it } from "vitest";
import { checkCitations } from "./requirement-citations.js";

const root = join(import.meta.dirname, "../../../..");
const spec = readFileSync(join(root, "spec/paycode.md"), "utf8");
const classOf = new Map(parseRequirementIndex(spec).map((e) => [e.id, e.conformanceClass]));
const requirements = parseRequirements(spec);
const known = new Set(requirements.map((r) => r.id));
const issuerMusts = requirements
  .filter((r) => classOf.get(r.id) === "Issuer" && r.level.startsWith("MUST"))
  .map((r) => r.id);

/** The server's own code (not its tests) and the mutants, as git tracks them. */
function citingSources() {
  const files = execFileSync(
    "git",
    ["ls-files", "reference/server/src", "reference/cli/src/embedded"],
    { cwd: root, encoding: "utf8" },
  )
    .split("\n")
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .filter((f) => !/\/(testing|scenarios)\/|store-contract\.ts$|\/testing\.ts$/.test(f))
    .filter((f) => f.startsWith("reference/server/") || /mutant/.test(f));
  return files.map((path) => ({ path, text: readFileSync(join(root, path), "utf8") }));
}

describe("requirement citations in the reference server", () => {
  const sources = citingSources();

  it("reads the spec's Issuer MUSTs and the server's sources", () => {
    expect(issuerMusts.length).toBeGreaterThan(50);
    expect(sources.some((s) => s.path.endsWith("issuer/mutants.ts"))).toBe(true);
    expect(sources.some((s) => s.path.startsWith("reference/server/src/rpc/"))).toBe(true);
  });

  it("cites every Issuer MUST in the code that implements it or in a mutant that breaks it", () => {
    expect(checkCitations(issuerMusts, known, sources).uncited).toEqual([]);
  });

  it("cites only IDs the spec defines, and no retired 'contract §N' sections", () => {
    const { unknown, staleReferences } = checkCitations(issuerMusts, known, sources);
    expect(unknown).toEqual([]);
    expect(staleReferences).toEqual([]);
  });
});

describe("checkCitations", () => {
  const ids = new Set(["SCAN-1", "SCAN-2", "PAY-1"]);

  it("finds what is cited, what is not, unknown IDs and stale references", () => {
    const r = checkCitations(["SCAN-1", "SCAN-2", "PAY-1"], ids, [
      { path: "a.ts", text: "// [SCAN-1] burns first\nconst x = 1; // contract §4" },
      { path: "b.ts", text: "/** [PAY-1] and [SCAN-9] */" },
    ]);
    expect(r.uncited).toEqual(["SCAN-2"]);
    expect(r.unknown).toEqual(["b.ts: SCAN-9"]);
    expect(r.staleReferences).toEqual(["a.ts:2"]);
  });

  it("does not count a bare ID without brackets as a citation", () => {
    const r = checkCitations(["SCAN-1"], ids, [{ path: "a.ts", text: "see SCAN-1" }]);
    expect(r.uncited).toEqual(["SCAN-1"]);
  });
});
