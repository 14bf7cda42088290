import { describe, expect, it } from "vitest";
import { newId } from "./ids.js";

describe("newId", () => {
  it("draws 80 fresh bits per id, across refills of its random pool", () => {
    const ids = Array.from({ length: 5000 }, () => newId("pay"));
    for (const id of ids) expect(id).toMatch(/^pay_[a-z2-7]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
