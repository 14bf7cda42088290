import { fromBinary } from "@bufbuild/protobuf";
import { OnlineCodec, stepOf } from "@paycode/protocol";
import { ScanRequestSchema } from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import { type CodeProfile, prepareScans, type WalletSecret, walletsNeeded } from "./codes.js";

const profile: CodeProfile = {
  prefix: 62,
  codeKey: new Uint8Array(32).fill(7),
  windowBackSteps: 2,
  windowAheadSteps: 1,
  lookbackSteps: 60,
};
const wallets: WalletSecret[] = Array.from({ length: 10 }, (_, i) => ({
  handle: 1000 + i,
  seed: new Uint8Array(32).fill(i + 1),
}));
const seedOf = new Map(wallets.map((w) => [w.handle, w.seed]));
const NOW_MS = Date.UTC(2030, 0, 15, 10, 0, 20);

describe("walletsNeeded", () => {
  it("covers rate × time with B+F steps of 8 codes in the first minute", () => {
    expect(walletsNeeded(2000, 12, profile)).toBe(1100);
    expect(walletsNeeded(100, 1, profile)).toBe(5);
  });

  it("needs 8 fresh codes per wallet per minute for long runs", () => {
    expect(walletsNeeded(2000, 300, profile)).toBe(16_500);
  });
});

describe("prepareScans", () => {
  const scans = prepareScans({
    wallets,
    profile,
    serverNowMs: NOW_MS,
    phaseSeconds: 10,
    rate: 20,
    currency: "CNY",
    amountMinor: 1n,
    runTag: "t",
  });
  const codec = new OnlineCodec(profile);
  const decoded = scans.map((s) => ({ step: s.step, req: fromBinary(ScanRequestSchema, s.body) }));

  it("makes each code once, at most 8 per wallet and step, earliest step first", () => {
    const keys = new Set<string>();
    let lastStep = -1;
    for (const { step, req } of decoded) {
      const p = codec.parse(req.code)!;
      expect(p).toBeDefined();
      expect(p.counter).toBeLessThan(8);
      keys.add(`${p.handle}/${step}/${p.counter}`);
      expect(step).toBeGreaterThanOrEqual(lastStep);
      lastStep = step;
    }
    expect(keys.size).toBe(scans.length);
    expect(new Set(decoded.map((d) => d.req.outTradeNo)).size).toBe(scans.length);
  });

  it("gives codes the issuer accepts as valid at the step they are filed under", () => {
    for (const { step, req } of decoded) {
      const p = codec.parse(req.code)!;
      const v = codec.verify(p, seedOf.get(p.handle)!, step * 60 + 30);
      expect(v).toEqual({ result: "valid", step });
    }
  });

  it("has enough codes accepted at the start of the phase for the budgeted rate", () => {
    const t = stepOf(Math.floor(NOW_MS / 1000));
    const acceptedNow = decoded.filter((d) => d.step >= t - 2 && d.step <= t + 1).length;
    expect(acceptedNow).toBeGreaterThanOrEqual(20 * 10);
    expect(decoded.every((d) => d.req.amount?.amountMinor === 1n)).toBe(true);
  });
});
