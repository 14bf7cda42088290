import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { allCases } from "./cases/index.js";
import { coverage, SPEC_PATH, specRequirements } from "./spec-index.js";

/**
 * MUST requirements no black-box case can observe, each with the reason and
 * where else it is checked. Keep this list short and justified.
 */
const NOT_OBSERVABLE: Readonly<Record<string, string>> = {
  "CTRL-1":
    "a target under certification must have test control enabled, so its absence by default cannot be seen over RPC; reference.test.ts checks the reference server",
  "VERIFY-8":
    "needs a certificate signed by an issuer key outside that key's validity; only the issuer under test could make one",
};

const spec = specRequirements(readFileSync(SPEC_PATH, "utf8"));
const levels = new Map(spec.map((r) => [r.id, r.level]));

describe("spec coverage", () => {
  it("has a case for every MUST and MUST NOT of spec/paycode.md", () => {
    const c = coverage(allCases, spec);
    const missing = c.uncoveredMust.map((r) => r.id).filter((id) => !(id in NOT_OBSERVABLE));
    expect(missing).toEqual([]);
  });

  it("names only requirement IDs the spec defines", () => {
    expect(coverage(allCases, spec).unknownIds).toEqual([]);
  });

  it("exempts only MUSTs that exist and that no case covers", () => {
    const c = coverage(allCases, spec);
    for (const id of Object.keys(NOT_OBSERVABLE)) {
      expect(levels.get(id), id).toMatch(/^MUST/);
      expect(c.byRequirement.has(id), `${id} is covered now: drop the exemption`).toBe(false);
    }
  });

  it("makes a case required exactly when it checks a MUST", () => {
    const wrong = allCases
      .filter((c) => {
        const hasMust = c.requirements.some((id) => levels.get(id)?.startsWith("MUST"));
        return (c.severity === "required") !== hasMust;
      })
      .map((c) => `${c.id} (${c.severity}: ${c.requirements.join(", ")})`);
    expect(wrong).toEqual([]);
  });

  it("has at least 60 cases across the ten required families", () => {
    expect(allCases.length).toBeGreaterThanOrEqual(60);
    const families = new Set(allCases.map((c) => c.id.split("/")[0]));
    for (const f of [
      "offline-wallet",
      "expired-code",
      "reused-code",
      "over-limit",
      "double-offline",
      "idempotency",
      "cancel-refund",
      "settlement-report",
      "auth-isolation",
      "malformed-input",
      "key-rotation",
    ]) {
      expect(families.has(f), f).toBe(true);
    }
  });
});
