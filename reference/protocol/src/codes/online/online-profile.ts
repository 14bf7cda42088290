import { DEFAULT_PROFILE } from "../../profile.js";

/** Seconds per online-code time step. */
export const STEP_SECONDS = 60;

/** The issuer-side parameters of online codes. */
export interface OnlineCodeProfile {
  /** Issuer prefix PP, 10..99: the first two digits of every code. */
  prefix: number;
  /** K_code: the AES-256 key of the FF1 layer (32 bytes). */
  codeKey: Uint8Array;
  /** B: steps before the current one that still verify as valid. */
  windowBackSteps: number;
  /** F: steps after the current one (wallet clock ahead) that verify as valid. */
  windowAheadSteps: number;
  /** L: how far back a MAC match is reported as expired rather than invalid. */
  lookbackSteps: number;
}

/** The profile defaults of "paycode-default-v1", without the issuer's key. */
export const DEFAULT_ONLINE_PROFILE: Readonly<Omit<OnlineCodeProfile, "codeKey">> = Object.freeze({
  prefix: DEFAULT_PROFILE.issuerPrefix,
  windowBackSteps: DEFAULT_PROFILE.windowBackSteps,
  windowAheadSteps: DEFAULT_PROFILE.windowAheadSteps,
  lookbackSteps: DEFAULT_PROFILE.lookbackSteps,
});

/** The time step S of a Unix time in seconds: floor(s / 60). */
export function stepOf(unixSeconds: number): number {
  return Math.floor(unixSeconds / STEP_SECONDS);
}

function checkSteps(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}

/** Throws a RangeError/TypeError naming the first unusable field of a profile. */
export function validateOnlineProfile(profile: OnlineCodeProfile): void {
  const { prefix, codeKey, windowBackSteps, windowAheadSteps, lookbackSteps } = profile;
  if (!Number.isInteger(prefix) || prefix < 10 || prefix > 99) {
    throw new RangeError(`prefix must be an integer in 10..99, got ${prefix}`);
  }
  if (!(codeKey instanceof Uint8Array)) throw new TypeError("codeKey must be a Uint8Array");
  if (codeKey.length !== 32) {
    throw new RangeError(`codeKey must be 32 bytes (AES-256), got ${codeKey.length}`);
  }
  checkSteps("windowBackSteps", windowBackSteps);
  checkSteps("windowAheadSteps", windowAheadSteps);
  checkSteps("lookbackSteps", lookbackSteps);
  // The code carries only step mod 16, so a wider window would make two
  // candidate steps valid at once.
  if (windowBackSteps + windowAheadSteps + 1 > 16) {
    throw new RangeError("windowBackSteps + windowAheadSteps + 1 must be at most 16");
  }
  if (lookbackSteps < windowBackSteps) {
    throw new RangeError("lookbackSteps must be at least windowBackSteps");
  }
}
