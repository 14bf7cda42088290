export {
  DEFAULT_PROFILE,
  type IssuerProfileConfig,
  type ProfileOverrides,
  profileToProto,
  resolveProfile,
} from "@paycode/protocol";
export { bearerHashesEqual, hashBearerKey, newBearerKey } from "./api-keys.js";
export { type AuditEvent, type AuditLog, discardAudit } from "./audit-log.js";
export { onlineUsageKey } from "./code-decoder.js";
export {
  type CodeKeyRotation,
  type CodeKeyState,
  readCodeKeys,
  rotateCodeKey,
} from "./code-key.js";
export {
  type ApiKeyState,
  apiKeyState,
  apiKeyUsable,
  type CredentialOwner,
  type CredentialOwnerKind,
  type IssuedApiKey,
  issueApiKey,
  listApiKeys,
  type RotatedApiKey,
  revokeApiKey,
  rotateApiKey,
} from "./credentials.js";
export { newId, newTimeOrderedId } from "./ids.js";
export { Issuer, type IssuerOpenOptions } from "./issuer.js";
export type {
  IssuerApi,
  MerchantPrincipal,
  TerminalPrincipal,
  WalletPrincipal,
} from "./issuer-api.js";
export {
  type IssuerKeyRotation,
  type IssuerSigningKey,
  issuerKeyEntry,
  issuerKeyId,
  KEY_REFRESH_MS,
  loadOrCreateIssuerKeys,
  rotateIssuerKey,
} from "./issuer-keys.js";
export { issuerAccountId, issuerLossAccountId } from "./ledger.js";
export { type Limits, stepUpReason } from "./limits.js";
export {
  type MasterKeyRotation,
  type RotateMasterKeyOptions,
  rotateMasterKey,
} from "./master-key-rotation.js";
export {
  ISSUER_MUTANTS,
  isMutantName,
  MUTANT_NAMES,
  type MutantDescription,
  type MutantName,
} from "./mutants.js";
export {
  PASSWORD_FREE_FAILURES,
  PASSWORD_LOCK_FAILURES,
  passwordDelayMs,
  unlockAccount,
} from "./password-throttle.js";
export { hashPassword, verifyPassword } from "./passwords.js";
export { canTransition, isFinal } from "./payment-state.js";
export { type RuleSwitches, ruleSwitches } from "./rule-switches.js";
export { type NewScanPayment, newScanPayment } from "./scan-payment.js";
export {
  DEFAULT_SCAN_THROTTLE,
  expectedInsiderForgeryDays,
  type ScanThrottleConfig,
} from "./scan-throttle.js";
export { SeedVault } from "./seed-vault.js";
