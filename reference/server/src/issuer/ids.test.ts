import { describe, expect, it } from "vitest";
import { newId, newTimeOrderedId } from "./ids.js";

describe("newId", () => {
  it("draws 80 fresh bits per id, across refills of its random pool", () => {
    const ids = Array.from({ length: 5000 }, () => newId("pay"));
    for (const id of ids) expect(id).toMatch(/^pay_[a-z2-7]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("newTimeOrderedId", () => {
  it("sorts by creation time, with 80 random bits after it", () => {
    const times = [0, 1, 31, 32, 1_796_087_837_891, 1_796_087_837_892, 2 ** 48 - 1];
    const ids = times.map((t) => newTimeOrderedId("tr", t));
    for (const id of ids) expect(id).toMatch(/^tr_[0-9a-hjkmnp-tv-z]{10}[a-z2-7]{16}$/);
    expect([...ids].sort()).toEqual(ids);
  });

  it("differs within one millisecond and shares the time part", () => {
    const same = Array.from({ length: 5000 }, () => newTimeOrderedId("tr", 5));
    expect(new Set(same).size).toBe(same.length);
    expect(new Set(same.map((id) => id.slice(0, 13))).size).toBe(1);
    // Each of the 16 random characters takes all 32 values.
    for (let i = 13; i < 29; i++) expect(new Set(same.map((id) => id[i])).size).toBe(32);
  });
});
