/**
 * The Scan throttles of §12.3 (issue 9, parts 1 and 2): how many
 * verification failures a merchant may cause per window, after how many MAC
 * failures a wallet needs its password, after how many it is blocked, and
 * how long junk declines are kept. Counts live in the store, so every
 * server on one database shares them and they survive a restart.
 */

/** [SEC-4] A merchant window: one hour of the issuer clock, aligned to the Unix epoch. */
export const MERCHANT_WINDOW_MS = 3_600_000;
/** [SEC-5] A wallet's MAC-failure window: the UTC day of the issuer clock. */
export const WALLET_WINDOW_MS = 86_400_000;

export interface ScanThrottleConfig {
  /** [SEC-4] Verification failures a merchant may cause per merchant window. */
  readonly merchantFailuresPerWindow: number;
  /** [SEC-6] MAC failures in one UTC day that put the wallet in step-up. */
  readonly walletStepUpFailures: number;
  /** [SEC-13] MAC failures since provisioning that revoke (block) the wallet. */
  readonly walletBlockFailures: number;
  /** [SEC-14] How long a payment declined CODE_INVALID / CODE_MALFORMED is kept. */
  readonly junkRetentionMs: number;
}

/** The values of `paycode-default-v1` (§12.3). */
export const DEFAULT_SCAN_THROTTLE: ScanThrottleConfig = Object.freeze({
  merchantFailuresPerWindow: 100,
  walletStepUpFailures: 16,
  walletBlockFailures: 256,
  junkRetentionMs: 7 * 86_400_000,
});

/** The revocation reason of a wallet blocked by [SEC-13]. */
export const MAC_FAILURE_REVOKE_REASON = "blocked: too many MAC failures";

/** [SEC-4] Start of the merchant window holding `nowMs`. */
export function merchantWindowStart(nowMs: number): number {
  return nowMs - (((nowMs % MERCHANT_WINDOW_MS) + MERCHANT_WINDOW_MS) % MERCHANT_WINDOW_MS);
}

/** [SEC-6] End of a wallet's step-up: the end of the UTC day after the one holding `nowMs`. */
export function stepUpUntil(nowMs: number): number {
  const dayStart = nowMs - (((nowMs % WALLET_WINDOW_MS) + WALLET_WINDOW_MS) % WALLET_WINDOW_MS);
  return dayStart + 2 * WALLET_WINDOW_MS;
}

/** §12.3: a verification failure is a Scan declined CODE_INVALID or CODE_MALFORMED. */
export function isVerificationFailure(reason: string | null): boolean {
  return reason === "CODE_INVALID" || reason === "CODE_MALFORMED";
}

/**
 * [SEC-5] Whether `step4` names a step of the window [T_now − B, T_now + F]:
 * only then can a guessed MAC make the code VALID, so only then is a wrong
 * MAC a MAC failure.
 */
export function step4InWindow(
  step4: number,
  nowStep: number,
  windowBackSteps: number,
  windowAheadSteps: number,
): boolean {
  for (let s = nowStep - windowBackSteps; s <= nowStep + windowAheadSteps; s++) {
    if (s >= 0 && s % 16 === step4) return true;
  }
  return false;
}

/**
 * [SEC-6] [SEC-13] With the default profile, the expected days an insider
 * needs to forge one code of a wallet whose handle it knows and pay it
 * without the password: each password-free guess succeeds with
 * probability 2^-18, and at most `stepUp` guesses a UTC day are
 * password-free (§12.2, §12.3).
 */
export function expectedInsiderForgeryDays(stepUp: number): number {
  return 2 ** 18 / stepUp;
}
