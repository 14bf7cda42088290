import { describe, expect, it } from "vitest";
import { MUTANT_NAMES } from "./mutants.js";
import { NO_BREAKS, ruleSwitches, SWITCH_OF_MUTANT } from "./rule-switches.js";

describe("rule switches", () => {
  it("breaks nothing without a mutant", () => {
    expect(Object.values(ruleSwitches(undefined)).every((on) => !on)).toBe(true);
    expect(Object.keys(NO_BREAKS)).toHaveLength(MUTANT_NAMES.length);
  });

  it.each([...MUTANT_NAMES])("%s turns on exactly its own switch", (name) => {
    const on = Object.entries(ruleSwitches(name)).filter(([, v]) => v);
    expect(on).toEqual([[SWITCH_OF_MUTANT[name], true]]);
  });

  it("gives every mutant a different switch", () => {
    expect(new Set(Object.values(SWITCH_OF_MUTANT)).size).toBe(MUTANT_NAMES.length);
  });
});
