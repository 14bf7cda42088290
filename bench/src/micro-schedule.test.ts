import { describe, expect, it } from "vitest";
import { adjacentRatio, median, roundOrder } from "./micro-schedule.js";

const tasks = [
  { id: "floor.hmac" },
  { id: "floor.ed25519" },
  { id: "peer.otplib" },
  { id: "peer.speakeasy" },
  { id: "ours.generate", floor: "floor.hmac" },
  { id: "ours.verify", floor: "floor.hmac", peer: "peer.speakeasy" },
  { id: "ours.offline", floor: "floor.ed25519" },
];

describe("roundOrder", () => {
  it("runs each task right after a fresh run of its floor and then its peer", () => {
    expect(roundOrder(tasks)).toEqual([
      "peer.otplib",
      "floor.hmac",
      "ours.generate",
      "floor.hmac",
      "peer.speakeasy",
      "ours.verify",
      "floor.ed25519",
      "ours.offline",
    ]);
  });

  it("runs a reference whose dependants were filtered out on its own, and skips one not selected", () => {
    expect(
      roundOrder([{ id: "floor.hmac" }, { id: "ours.offline", floor: "floor.ed25519" }]),
    ).toEqual(["floor.hmac", "ours.offline"]);
  });
});

describe("adjacentRatio", () => {
  const round = [
    { id: "floor.hmac", opsPerSec: 100 },
    { id: "ours.generate", opsPerSec: 40 },
    { id: "floor.hmac", opsPerSec: 200 },
    { id: "peer.speakeasy", opsPerSec: 50 },
    { id: "ours.verify", opsPerSec: 100 },
  ];

  it("divides by the reference's nearest run before the task, not by another run of it", () => {
    expect(adjacentRatio(round, "ours.generate", "floor.hmac")).toBe(0.4);
    expect(adjacentRatio(round, "ours.verify", "floor.hmac")).toBe(0.5);
    expect(adjacentRatio(round, "ours.verify", "peer.speakeasy")).toBe(2);
  });

  it("is undefined without a run of the task or of the reference before it", () => {
    expect(adjacentRatio(round, "ours.offline", "floor.ed25519")).toBeUndefined();
    expect(adjacentRatio(round, "floor.hmac", "ours.verify")).toBeUndefined();
  });
});

describe("median", () => {
  it("takes the middle value, the lower one of an even count, and nothing of none", () => {
    expect(median([0.9, 0.7, 1.1])).toBe(0.9);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(median([])).toBeUndefined();
  });
});
