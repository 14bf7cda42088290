import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { DEFAULT_PROFILE, resolveProfile } from "@paycode/protocol";
import { MoneySchema, WalletLimitsSchema } from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import { limitsFromProto, limitsToProto, stepUpReason } from "./limits.js";
import { utcDay, utcDayRange } from "./utc-day.js";

const D = DEFAULT_PROFILE.defaultLimits;

describe("limits", () => {
  it("steps up above the per-payment limit, the daily amount and the daily count (limits inclusive)", () => {
    const none = { amount: 0n, count: 0 };
    expect(stepUpReason(D, none, 100_000n)).toBeUndefined();
    expect(stepUpReason(D, none, 100_001n)).toBe("per-payment");
    expect(stepUpReason(D, { amount: 400_000n, count: 0 }, 100_000n)).toBeUndefined();
    expect(stepUpReason(D, { amount: 400_001n, count: 0 }, 100_000n)).toBe("daily-amount");
    expect(stepUpReason(D, { amount: 0n, count: 9 }, 1n)).toBeUndefined();
    expect(stepUpReason(D, { amount: 0n, count: 10 }, 1n)).toBe("daily-count");
  });

  it("takes defaults for unset fields and refuses another currency or negative amounts", () => {
    expect(limitsFromProto(undefined, D, "CNY")).toEqual(D);
    const partial = create(WalletLimitsSchema, {
      perPaymentOffline: create(MoneySchema, { currency: "CNY", amountMinor: 1n }),
    });
    expect(limitsFromProto(partial, D, "CNY")).toEqual({ ...D, perPaymentOffline: 1n });
    const usd = create(WalletLimitsSchema, {
      cumulativeOffline: create(MoneySchema, { currency: "USD", amountMinor: 1n }),
    });
    expect(() => limitsFromProto(usd, D, "CNY")).toThrow(
      expect.objectContaining({ code: Code.InvalidArgument }),
    );
    const negative = create(WalletLimitsSchema, {
      dailyPasswordFreeAmount: create(MoneySchema, { currency: "CNY", amountMinor: -1n }),
    });
    expect(() => limitsFromProto(negative, D, "CNY")).toThrow(/negative/);
    expect(
      limitsFromProto(limitsToProto(D, "CNY"), { ...D, dailyPasswordFreeCount: 1 }, "CNY"),
    ).toEqual(D);
  });
});

describe("profile", () => {
  it("has the §3.2 defaults and validates overrides", () => {
    expect(DEFAULT_PROFILE).toMatchObject({
      profileId: "paycode-default-v1",
      issuerPrefix: 62,
      windowBackSteps: 2,
      windowAheadSteps: 1,
      lookbackSteps: 60,
      offlineCodeValiditySeconds: 120,
      offlineClockSkewSeconds: 60,
      confirmationTimeoutSeconds: 60,
      maxKeyAgeSeconds: 86_400,
      currency: "CNY",
    });
    expect(D).toEqual({
      perPaymentPasswordFree: 100_000n,
      dailyPasswordFreeAmount: 500_000n,
      dailyPasswordFreeCount: 10,
      perPaymentOffline: 5_000n,
      cumulativeOffline: 20_000n,
    });
    expect(
      resolveProfile({ issuerPrefix: 77, defaultLimits: { perPaymentOffline: 1n } }),
    ).toMatchObject({
      issuerPrefix: 77,
      defaultLimits: { ...D, perPaymentOffline: 1n },
    });
    expect(() => resolveProfile({ issuerPrefix: 9 })).toThrow(/issuerPrefix/);
    expect(() => resolveProfile({ currency: "yen" })).toThrow(/currency/);
    expect(() => resolveProfile({ lookbackSteps: -1 })).toThrow(/lookbackSteps/);
  });
});

describe("UTC days", () => {
  it("names and bounds days in UTC", () => {
    expect(utcDay(Date.UTC(2030, 0, 15, 23, 59, 59, 999))).toBe("2030-01-15");
    expect(utcDayRange("2030-01-15")).toEqual({
      fromMs: Date.UTC(2030, 0, 15),
      toMs: Date.UTC(2030, 0, 16),
    });
    expect(utcDayRange("2030-02-29")).toBeUndefined();
    expect(utcDayRange("2030-1-5")).toBeUndefined();
  });
});
