export {
  DEFAULT_PROFILE,
  type IssuerProfileConfig,
  type ProfileOverrides,
  profileToProto,
  resolveProfile,
} from "@paycode/protocol";
export { bearerHashesEqual, hashBearerKey, newBearerKey } from "./api-keys.js";
export { type AuditEvent, type AuditLog, discardAudit } from "./audit-log.js";
export { newId } from "./ids.js";
export { Issuer, type IssuerOpenOptions } from "./issuer.js";
export type {
  IssuerApi,
  MerchantPrincipal,
  TerminalPrincipal,
  WalletPrincipal,
} from "./issuer-api.js";
export { type IssuerSigningKey, issuerKeyId, loadOrCreateIssuerKeys } from "./issuer-keys.js";
export { issuerAccountId, issuerLossAccountId } from "./ledger.js";
export { type Limits, stepUpReason } from "./limits.js";
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
export {
  DEFAULT_SCAN_THROTTLE,
  expectedInsiderForgeryDays,
  type ScanThrottleConfig,
} from "./scan-throttle.js";
export { SeedVault } from "./seed-vault.js";
