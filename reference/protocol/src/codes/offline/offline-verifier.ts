import { fromBinary } from "@bufbuild/protobuf";
import { byteString, ed25519VerifyRaw } from "#crypto";
import {
  type WalletCertificateBody,
  WalletCertificateBodySchema,
} from "../../gen/paycode/v1/offline_code_pb.js";
import { checkCertificate, parseCertificateBytes } from "./certificate.js";
import type { Ed25519PublicKey } from "./ed25519.js";
import { type IssuerKeyEntry, IssuerKeySet } from "./issuer-keys.js";
import { LruCache } from "./lru-cache.js";
import { parseOfflineCodeText } from "./offline-code.js";

/** Profile default: how long an offline code stays acceptable after issue. */
export const DEFAULT_OFFLINE_CODE_VALIDITY_SECONDS = 120;
/** Profile default: how far in the future an offline code's issue time may be. */
export const DEFAULT_OFFLINE_CLOCK_SKEW_SECONDS = 60;
/** Default number of verified certificates a verifier remembers. */
export const DEFAULT_CERTIFICATE_CACHE_SIZE = 10_000;

export type OfflineInvalidReason =
  | "KEY_UNKNOWN"
  | "ISSUER_SIGNATURE_INVALID"
  | "SIGNATURE_INVALID"
  | "WALLET_MISMATCH";
export type OfflineCertificateTimeReason = "CERT_NOT_YET_VALID" | "CERT_EXPIRED";
export type OfflineCodeTimeReason = "CODE_EXPIRED" | "CODE_NOT_YET_VALID";
export type OfflineExpiredReason = OfflineCertificateTimeReason | OfflineCodeTimeReason;
export type OfflineLimitReason = "OVER_LIMIT" | "CURRENCY_MISMATCH";

/**
 * Outcome of verifying an offline code. Every field a result carries is
 * authenticated: the certificate-time results come before the wallet
 * signature is checked (contract §2 order), so they carry the certificate's
 * wallet id but no counter — a payload nobody verified must not be able to
 * burn a (wallet, counter) usage key.
 *
 * `body` is shared with the verifier's cache: treat it as read-only.
 */
export type OfflineVerification =
  | {
      result: "valid";
      walletId: string;
      counter: bigint;
      issuedAt: number;
      body: WalletCertificateBody;
    }
  | { result: "malformed" }
  | { result: "invalid"; reason: OfflineInvalidReason }
  | { result: "expired"; reason: OfflineCertificateTimeReason; walletId: string }
  | {
      result: "expired";
      reason: OfflineCodeTimeReason;
      walletId: string;
      counter: bigint;
      issuedAt: number;
    }
  | {
      result: "over-limit";
      reason: OfflineLimitReason;
      walletId: string;
      counter: bigint;
      issuedAt: number;
      body: WalletCertificateBody;
    };

/** What the caller is verifying a code for. */
export interface OfflineVerifyContext {
  /** Verifier time, Unix seconds. */
  nowSeconds: number;
  /** Amount to be paid, minor units. */
  amountMinor: bigint;
  /** ISO 4217 currency of the amount. */
  currency: string;
}

export interface OfflineCodeVerifierOptions {
  keys: readonly IssuerKeyEntry[];
  /** Profile offline_code_validity_seconds; default 120. */
  validitySeconds?: number;
  /** Profile offline_clock_skew_seconds; default 60. */
  clockSkewSeconds?: number;
  /** Verified certificates remembered (LRU); default 10 000. */
  cacheSize?: number;
}

/** A certificate that passed contract §2 steps 1–3 (time-independent). */
interface CachedCertificate {
  readonly walletId: string;
  readonly walletKey: Ed25519PublicKey | undefined;
  readonly currency: string;
  readonly perPaymentLimitMinor: bigint;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly body: WalletCertificateBody;
}

const MALFORMED: OfflineVerification = Object.freeze({ result: "malformed" });
const invalid = (reason: OfflineInvalidReason): OfflineVerification =>
  Object.freeze({ result: "invalid", reason });
const KEY_UNKNOWN = invalid("KEY_UNKNOWN");
const ISSUER_SIGNATURE_INVALID = invalid("ISSUER_SIGNATURE_INVALID");
const SIGNATURE_INVALID = invalid("SIGNATURE_INVALID");
const WALLET_MISMATCH = invalid("WALLET_MISMATCH");

/**
 * Verifies offline-code QR text (contract §2) at a given time, for a given
 * amount, against a fixed issuer key set; build a new verifier after a key
 * sync. Certificates that verified are cached by their exact serialized
 * bytes, so a code whose certificate was seen before costs one Ed25519
 * verification. Only verified certificates are cached: failures cannot
 * crowd out good entries, and a different certificate (another signature,
 * key id or body byte) is another cache key. Synchronous; never throws.
 */
export class OfflineCodeVerifier {
  private readonly keys: IssuerKeySet;
  private readonly validitySeconds: number;
  private readonly clockSkewSeconds: number;
  private readonly cache: LruCache<string, CachedCertificate>;

  constructor(o: OfflineCodeVerifierOptions) {
    this.keys = new IssuerKeySet(o.keys);
    this.validitySeconds = o.validitySeconds ?? DEFAULT_OFFLINE_CODE_VALIDITY_SECONDS;
    this.clockSkewSeconds = o.clockSkewSeconds ?? DEFAULT_OFFLINE_CLOCK_SKEW_SECONDS;
    this.cache = new LruCache(o.cacheSize ?? DEFAULT_CERTIFICATE_CACHE_SIZE);
  }

  /** Number of certificates in the cache (for tests and metrics). */
  get cachedCertificates(): number {
    return this.cache.size;
  }

  verify(text: string, at: OfflineVerifyContext): OfflineVerification {
    try {
      return this.check(text, at);
    } catch {
      // Unreachable by design; a verifier that throws on hostile input would
      // be a denial of service, so fail closed instead.
      return MALFORMED;
    }
  }

  private check(text: string, at: OfflineVerifyContext): OfflineVerification {
    // 1. Parse (the certificate is parsed below, on a cache miss).
    const code = parseOfflineCodeText(text);
    if (code === undefined) return MALFORMED;
    const { bytes, certStart, certEnd } = code;
    const cacheKey = byteString(bytes, certStart, certEnd);
    let cert = this.cache.get(cacheKey);
    if (cert === undefined) {
      const parsed = parseCertificateBytes(bytes, certStart, certEnd);
      if (parsed === undefined) return MALFORMED;
      // 2–3. Issuer key and signature.
      const checked = checkCertificate(parsed, this.keys);
      if (checked === "KEY_UNKNOWN") return KEY_UNKNOWN;
      if (checked === "ISSUER_SIGNATURE_INVALID") return ISSUER_SIGNATURE_INVALID;
      const body = fromBinary(WalletCertificateBodySchema, checked.bodyBytes.slice());
      cert = {
        walletId: checked.walletId,
        walletKey: checked.walletKey,
        currency: checked.currency,
        perPaymentLimitMinor: checked.perPaymentLimitMinor,
        notBefore: checked.notBefore,
        notAfter: checked.notAfter,
        body: Object.freeze(body),
      };
      this.cache.set(cacheKey, cert);
    }

    // 4. Certificate validity.
    const now = at.nowSeconds;
    if (now < cert.notBefore) {
      return { result: "expired", reason: "CERT_NOT_YET_VALID", walletId: cert.walletId };
    }
    if (now >= cert.notAfter) {
      return { result: "expired", reason: "CERT_EXPIRED", walletId: cert.walletId };
    }

    // 5. Wallet signature over the raw payload bytes.
    if (
      cert.walletKey === undefined ||
      !ed25519VerifyRaw(cert.walletKey, code.payload, code.signature)
    ) {
      return SIGNATURE_INVALID;
    }

    // 6. The payload speaks for the certified wallet.
    if (code.walletId !== cert.walletId) return WALLET_MISMATCH;

    // 7. Code age, with the wallet's clock allowed to run ahead by the skew.
    const { walletId, counter, issuedAt } = code;
    if (issuedAt > now + this.clockSkewSeconds) {
      return { result: "expired", reason: "CODE_NOT_YET_VALID", walletId, counter, issuedAt };
    }
    if (now - issuedAt > this.validitySeconds) {
      return { result: "expired", reason: "CODE_EXPIRED", walletId, counter, issuedAt };
    }

    // 8. Amount against the certificate.
    const body = cert.body;
    if (at.currency !== cert.currency) {
      return {
        result: "over-limit",
        reason: "CURRENCY_MISMATCH",
        walletId,
        counter,
        issuedAt,
        body,
      };
    }
    if (at.amountMinor > cert.perPaymentLimitMinor) {
      return { result: "over-limit", reason: "OVER_LIMIT", walletId, counter, issuedAt, body };
    }
    return { result: "valid", walletId, counter, issuedAt, body };
  }
}
