import { describe, expect, it } from "vitest";
import { newId, newTimeOrderedId } from "./ids.js";

describe("ids", () => {
  it("random ids: prefix and 16 base32 characters", () => {
    expect(newId("w")).toMatch(/^w_[a-z2-7]{16}$/);
    expect(newId("w")).not.toBe(newId("w"));
  });

  it("time-ordered ids sort as their times do, and differ within one millisecond", () => {
    const t0 = Date.UTC(2030, 0, 15, 12, 0, 0);
    const times = [t0, t0 + 1, t0 + 999, t0 + 86_400_000, 2 ** 48 - 1, 0];
    const ids = times.map((t) => newTimeOrderedId("pay", t));
    for (const id of ids) expect(id).toMatch(/^pay_[0-9a-hjkmnp-tv-z]{26}$/);
    const byId = [...ids].sort();
    expect(byId).toEqual([...times].sort((a, b) => a - b).map((t) => ids[times.indexOf(t)]));
    expect(newTimeOrderedId("pay", t0)).not.toBe(newTimeOrderedId("pay", t0));
    expect(newTimeOrderedId("pay", t0).slice(0, 14)).toBe(newTimeOrderedId("pay", t0).slice(0, 14));
  });
});
