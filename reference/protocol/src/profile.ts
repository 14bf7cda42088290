import { create } from "@bufbuild/protobuf";
import { type IssuerProfile, IssuerProfileSchema } from "./gen/paycode/v1/profile_pb.js";

/** Password-free and offline limits of an account, in minor units of the profile currency (§7). */
export interface WalletLimitsConfig {
  perPaymentPasswordFree: bigint;
  dailyPasswordFreeAmount: bigint;
  dailyPasswordFreeCount: number;
  perPaymentOffline: bigint;
  cumulativeOffline: bigint;
}

/** Every tunable of the issuer (contract §4 "Defaults"). Times in seconds, money in minor units. */
export interface IssuerProfileConfig {
  profileId: string;
  issuerPrefix: number;
  windowBackSteps: number;
  windowAheadSteps: number;
  lookbackSteps: number;
  offlineCodeValiditySeconds: number;
  offlineClockSkewSeconds: number;
  confirmationTimeoutSeconds: number;
  maxKeyAgeSeconds: number;
  currency: string;
  /** Limits of accounts created without their own. */
  defaultLimits: WalletLimitsConfig;
  /** Wallet certificates start this long before issue, to tolerate terminal clocks running slow. */
  certificateBackdateSeconds: number;
  certificateValiditySeconds: number;
}

/** The profile "paycode-default-v1". */
export const DEFAULT_PROFILE: Readonly<IssuerProfileConfig> = Object.freeze({
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
  defaultLimits: Object.freeze({
    perPaymentPasswordFree: 100_000n,
    dailyPasswordFreeAmount: 500_000n,
    dailyPasswordFreeCount: 10,
    perPaymentOffline: 5_000n,
    cumulativeOffline: 20_000n,
  }),
  certificateBackdateSeconds: 300,
  certificateValiditySeconds: 30 * 86_400,
});

export type ProfileOverrides = Partial<Omit<IssuerProfileConfig, "defaultLimits">> & {
  defaultLimits?: Partial<WalletLimitsConfig>;
};

/** Defaults overlaid with `overrides`; throws RangeError naming a bad field. */
export function resolveProfile(overrides: ProfileOverrides = {}): IssuerProfileConfig {
  const p: IssuerProfileConfig = {
    ...DEFAULT_PROFILE,
    ...overrides,
    defaultLimits: { ...DEFAULT_PROFILE.defaultLimits, ...overrides.defaultLimits },
  };
  const nonNegative = [
    "windowBackSteps",
    "windowAheadSteps",
    "lookbackSteps",
    "offlineCodeValiditySeconds",
    "offlineClockSkewSeconds",
    "confirmationTimeoutSeconds",
    "maxKeyAgeSeconds",
    "certificateBackdateSeconds",
    "certificateValiditySeconds",
  ] as const;
  for (const k of nonNegative) {
    if (!Number.isSafeInteger(p[k]) || p[k] < 0)
      throw new RangeError(`profile.${k} must be a non-negative integer`);
  }
  if (!Number.isInteger(p.issuerPrefix) || p.issuerPrefix < 10 || p.issuerPrefix > 99) {
    throw new RangeError("profile.issuerPrefix must be in 10..99");
  }
  if (!/^[A-Z]{3}$/.test(p.currency))
    throw new RangeError("profile.currency must be 3 upper-case letters");
  if (p.profileId === "") throw new RangeError("profile.profileId must not be empty");
  if (p.certificateValiditySeconds === 0)
    throw new RangeError("profile.certificateValiditySeconds must be positive");
  return p;
}

/**
 * The profile message. `codeKey` goes only to wallets (ProvisionSeed) and
 * test control: it hides the code structure from merchants and terminals.
 */
export function profileToProto(
  p: IssuerProfileConfig,
  codeKey?: Uint8Array,
  codeKeyVersion = 1,
): IssuerProfile {
  return create(IssuerProfileSchema, {
    codeKeyVersion,
    profileId: p.profileId,
    issuerPrefix: p.issuerPrefix,
    codeKey: codeKey ?? new Uint8Array(0),
    windowBackSteps: p.windowBackSteps,
    windowAheadSteps: p.windowAheadSteps,
    lookbackSteps: p.lookbackSteps,
    offlineCodeValiditySeconds: p.offlineCodeValiditySeconds,
    offlineClockSkewSeconds: p.offlineClockSkewSeconds,
    confirmationTimeoutSeconds: p.confirmationTimeoutSeconds,
    maxKeyAgeSeconds: p.maxKeyAgeSeconds,
    currency: p.currency,
  });
}
