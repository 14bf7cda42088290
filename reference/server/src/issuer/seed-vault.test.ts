import { describe, expect, it } from "vitest";
import { SeedVault } from "./seed-vault.js";

const master = new Uint8Array(32).fill(7);
const seed = new Uint8Array(32).map((_, i) => i + 100);

describe("SeedVault (envelope encryption)", () => {
  it("round-trips, with a fresh data key and nonce each time", () => {
    const v = new SeedVault(master);
    const a = v.seal(seed, "wallet-seed:w1");
    const b = v.seal(seed, "wallet-seed:w1");
    expect(Buffer.compare(a, b)).not.toBe(0);
    expect(v.open(a, "wallet-seed:w1")).toEqual(seed);
    expect(v.open(b, "wallet-seed:w1")).toEqual(seed);
  });

  it("never contains the secret in clear", () => {
    const sealed = new SeedVault(master).seal(seed, "c");
    expect(Buffer.from(sealed).includes(Buffer.from(seed))).toBe(false);
    expect(Buffer.from(sealed).includes(Buffer.from(seed.subarray(0, 8)))).toBe(false);
  });

  it("refuses another context, another master key, any flipped bit, a truncated or unknown format", () => {
    const v = new SeedVault(master);
    const sealed = v.seal(seed, "wallet-seed:w1");
    expect(() => v.open(sealed, "wallet-seed:w2")).toThrow(/cannot decrypt/);
    expect(() => new SeedVault(new Uint8Array(32).fill(8)).open(sealed, "wallet-seed:w1")).toThrow(
      /cannot decrypt/,
    );
    for (const i of [1, 20, 40, 70, 90, sealed.length - 1]) {
      const bad = Uint8Array.from(sealed);
      bad[i]! ^= 1;
      expect(() => v.open(bad, "wallet-seed:w1")).toThrow();
    }
    expect(() => v.open(sealed.subarray(0, 50), "wallet-seed:w1")).toThrow(/format/);
    const v2 = Uint8Array.from(sealed);
    v2[0] = 2;
    expect(() => v.open(v2, "wallet-seed:w1")).toThrow(/format/);
  });

  it("needs a 32-byte master key", () => {
    expect(() => new SeedVault(new Uint8Array(16))).toThrow(/32 bytes/);
  });
});
