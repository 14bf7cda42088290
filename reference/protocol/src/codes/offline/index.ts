// Offline (double-offline) payment codes: signed QR text, contract §2.
export { fromBase45, toBase45 } from "./base45.js";
export {
  type CertificateFailure,
  decodeCertificate,
  encodeCertificate,
  issueCertificate,
  verifyCertificate,
} from "./certificate.js";
export {
  ED25519_KEY_LENGTH,
  ED25519_SIGNATURE_LENGTH,
  type Ed25519KeyPair,
  type Ed25519PrivateKey,
  type Ed25519PublicKey,
  ed25519FromSeed,
  ed25519PublicKeyBytes,
  ed25519PublicKeyObject,
  ed25519Sign,
  ed25519Verify,
  generateEd25519,
  isSmallOrderEd25519PublicKey,
} from "./ed25519.js";
export { type IssuerKeyEntry, IssuerKeySet, issuerKeyEntryFromProto } from "./issuer-keys.js";
export {
  buildOfflineCode,
  type DecodedOfflineCode,
  decodeOfflineCode,
  OFFLINE_CODE_PREFIX,
} from "./offline-code.js";
export {
  DEFAULT_CERTIFICATE_CACHE_SIZE,
  DEFAULT_OFFLINE_CLOCK_SKEW_SECONDS,
  DEFAULT_OFFLINE_CODE_VALIDITY_SECONDS,
  type OfflineCertificateTimeReason,
  type OfflineCodeTimeReason,
  OfflineCodeVerifier,
  type OfflineCodeVerifierOptions,
  type OfflineExpiredReason,
  type OfflineInvalidReason,
  type OfflineLimitReason,
  type OfflineVerification,
  type OfflineVerifyContext,
} from "./offline-verifier.js";
