import type { AesBackend } from "./aes-block.js";
import { Ff1 } from "./ff1.js";
import { OnlineMac, SEED_BYTES } from "./online-mac.js";
import {
  composePayload,
  MAX_COUNTER,
  MAX_HANDLE,
  type ParsedOnlineCode,
  splitPayload,
} from "./online-payload.js";
import { type OnlineCodeProfile, stepOf, validateOnlineProfile } from "./online-profile.js";

/** Characters of an online code: 2 prefix digits and 16 FF1 digits. */
export const ONLINE_CODE_LENGTH = 18;

/** Result of {@link OnlineCodec.verify}; MALFORMED is `parse` returning undefined. */
export type OnlineVerification =
  | { result: "valid"; step: number }
  | { result: "expired"; step: number }
  | { result: "invalid" };

/** Options of {@link OnlineCodec} that are implementation choices, not profile fields. */
export interface OnlineCodecOptions {
  /**
   * AES block function of the FF1 layer under K_code. Default "table".
   *
   * Why a non-constant-time AES is acceptable here (spec/paycode.md §12.1,
   * §12.4): K_code travels to every wallet in the profile (ProvisionSeed), so
   * anyone able to open an account holds it; it only hides the code
   * structure from parties without a wallet. A timing side channel on this
   * AES can at worst reveal K_code (and the payload P of codes being
   * verified, which K_code reveals anyway) — linkability, which every wallet
   * holder already has — and never a seed: the MAC is HMAC-SHA-256 under the
   * per-wallet seed on node:crypto, compared by XOR of whole integers. The
   * gain: ten dependent AES blocks per code no longer pay ten node:crypto
   * calls (~0.7 µs each). Choose "node" where K_code must stay secret from
   * parties who can time the verifier (for example merchants that cannot
   * open accounts, if timing is exposed to them).
   */
  aes?: AesBackend;
}

const FF1_DIGITS = 16;
const HALF = 1e8;
const INVALID: OnlineVerification = Object.freeze({ result: "invalid" });

function checkSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array)) throw new TypeError("seed must be a Uint8Array");
  if (seed.length !== SEED_BYTES) {
    throw new RangeError(`seed must be ${SEED_BYTES} bytes, got ${seed.length}`);
  }
}

function checkInt(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer in 0..${max}, got ${value}`);
  }
}

/**
 * Online codes (18 decimal digits) of one issuer profile: generation, strict
 * parsing and time-window verification. Pure and synchronous; time is passed
 * in. Whether a (wallet, step, counter) was already used is the caller's
 * store decision, not the codec's.
 */
export class OnlineCodec {
  /** The profile without its key: the key lives only inside the AES context. */
  readonly profile: Readonly<Omit<OnlineCodeProfile, "codeKey">>;
  /** Which AES block function the FF1 layer uses. */
  readonly aes: AesBackend;
  readonly #ff1: Ff1;
  readonly #mac: OnlineMac;
  /** FF1 tweak T: the two ASCII digits of the prefix. */
  readonly #tweak: Uint8Array;
  readonly #prefixText: string;
  readonly #halves = new Float64Array(2);

  constructor(profile: OnlineCodeProfile, options: OnlineCodecOptions = {}) {
    validateOnlineProfile(profile);
    const { prefix, windowBackSteps, windowAheadSteps, lookbackSteps } = profile;
    this.profile = Object.freeze({ prefix, windowBackSteps, windowAheadSteps, lookbackSteps });
    this.#ff1 = new Ff1(profile.codeKey, 10, { aes: options.aes ?? "table" });
    this.aes = this.#ff1.aes;
    this.#mac = new OnlineMac(profile.prefix);
    this.#prefixText = String(profile.prefix);
    this.#tweak = new TextEncoder().encode(this.#prefixText);
  }

  /** The code a wallet shows for step S (= floor(unix seconds / 60)) and counter 0..7. */
  generate(a: { handle: number; seed: Uint8Array; step: number; counter: number }): string {
    const { handle, seed, step, counter } = a;
    checkInt("handle", handle, MAX_HANDLE);
    checkInt("counter", counter, MAX_COUNTER);
    checkInt("step", step, Number.MAX_SAFE_INTEGER);
    checkSeed(seed);
    const macer = this.#mac;
    macer.load(seed, handle);
    const mac = macer.compute(step, counter);
    macer.clear();
    const payload = composePayload({ handle, step4: step % 16, counter, mac });
    const hi = Math.floor(payload / HALF);
    const out = this.#halves;
    this.#ff1.encryptHalves(this.#tweak, FF1_DIGITS, hi, payload - hi * HALF, out);
    return this.#prefixText + String(out[0]).padStart(8, "0") + String(out[1]).padStart(8, "0");
  }

  /**
   * Decodes a code's payload without checking its MAC. Returns undefined
   * (MALFORMED) unless the input is exactly 18 ASCII digits starting with this
   * issuer's prefix and decrypting to P < 2^53. Never throws.
   */
  parse(code: string): ParsedOnlineCode | undefined {
    if (typeof code !== "string" || code.length !== ONLINE_CODE_LENGTH) return undefined;
    let prefix = 0;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < ONLINE_CODE_LENGTH; i++) {
      const digit = code.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return undefined;
      if (i < 2) prefix = prefix * 10 + digit;
      else if (i < 10) hi = hi * 10 + digit;
      else lo = lo * 10 + digit;
    }
    if (prefix !== this.profile.prefix) return undefined;
    const out = this.#halves;
    this.#ff1.decryptHalves(this.#tweak, FF1_DIGITS, hi, lo, out);
    // Rounding is monotonic and exact below 2^53, so this is P ≤ 2^53 − 1 exactly.
    const payload = out[0]! * HALF + out[1]!;
    if (payload > Number.MAX_SAFE_INTEGER) return undefined;
    return splitPayload(payload);
  }

  /**
   * Checks a parsed code's MAC against the wallet seed at `nowSeconds` (Unix
   * seconds): valid inside [T−B, T+F], expired for an older step back to T−L,
   * else invalid. The valid path costs one HMAC.
   */
  verify(p: ParsedOnlineCode, seed: Uint8Array, nowSeconds: number): OnlineVerification {
    checkSeed(seed);
    if (!Number.isFinite(nowSeconds)) throw new RangeError("nowSeconds must be a finite number");
    const { handle, step4, counter, mac } = p;
    checkInt("handle", handle, MAX_HANDLE);
    checkInt("step4", step4, 15);
    checkInt("counter", counter, MAX_COUNTER);
    checkInt("mac", mac, 0x3ffff);
    const { windowBackSteps, windowAheadSteps, lookbackSteps } = this.profile;
    const now = stepOf(nowSeconds);
    const top = now + windowAheadSteps;
    // Newest candidate: the largest S ≤ T+F with S mod 16 = step4.
    let step = top - ((((top - step4) % 16) + 16) % 16);
    const oldest = Math.max(0, now - lookbackSteps);
    if (step < oldest) return INVALID;
    const macer = this.#mac;
    macer.load(seed, handle);
    try {
      // XOR of two 18-bit integers compares in constant time, unlike a byte-wise early exit.
      if (step >= now - windowBackSteps) {
        if ((macer.compute(step, counter) ^ mac) === 0) return { result: "valid", step };
        step -= 16;
      }
      for (; step >= oldest; step -= 16) {
        if ((macer.compute(step, counter) ^ mac) === 0) return { result: "expired", step };
      }
      return INVALID;
    } finally {
      macer.clear();
    }
  }
}
