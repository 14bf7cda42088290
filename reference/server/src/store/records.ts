import type { WalletLimitsConfig } from "@paycode/protocol";
/**
 * Row-level records the store persists. Money is bigint minor units, times
 * are Unix milliseconds; the issuer converts to protobuf messages.
 */

export type AccountKind = "issuer" | "payer" | "merchant";

/** A payer's limits; amounts in the account currency. */
/** Stored limits of an account: the profile's limit shape. */
export type LimitsRecord = WalletLimitsConfig;

export interface AccountRecord {
  id: string;
  kind: AccountKind;
  currency: string;
  /** Credits minus debits; negative for the issuer funding account and for payer debt. */
  balance: bigint;
  /** Payers only. */
  passwordHash: string | null;
  /** Payers only. */
  limits: LimitsRecord | null;
  createdAt: number;
}

export type NewAccount = Omit<AccountRecord, "balance">;

/** `offline_issuer_liable`: a duplicate offline record the issuer pays from its loss account (§10.3). */
export type TransferKind = "funding" | "payment" | "refund" | "offline" | "offline_issuer_liable";

/** One balanced ledger movement: `amount` leaves the debit account and reaches the credit account. */
export interface TransferRecord {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  currency: string;
  kind: TransferKind;
  paymentId: string | null;
  refundId: string | null;
  createdAt: number;
}

export interface MerchantRecord {
  id: string;
  name: string;
  accountId: string;
  apiKeyHash: Uint8Array;
  createdAt: number;
}

export interface TerminalRecord {
  id: string;
  merchantId: string;
  apiKeyHash: Uint8Array;
  createdAt: number;
}

/** One merchant or terminal API key ([KEY-1]..[KEY-3]); only its SHA-256 is stored. */
export interface ApiKeyRecord {
  keyId: string;
  keyHash: Uint8Array;
  ownerKind: "merchant" | "terminal";
  ownerId: string;
  createdAt: number;
  /** The grace deadline after a rotation: the key is refused from this instant on; null = none. */
  expiresAt: number | null;
  revokedAt: number | null;
}

/** What authenticating a key needs: the key, and the principal it names. */
export interface ApiKeyPrincipal {
  key: ApiKeyRecord;
  /** The merchant (the terminal's merchant for a terminal key). */
  merchantId: string;
  /** The merchant's settlement account; null for a terminal key. */
  merchantAccountId: string | null;
}

export interface WalletRecord {
  id: string;
  accountId: string;
  /** 28-bit handle carried in online codes; never reused, even after revocation. */
  handle: number;
  tokenHash: Uint8Array;
  /** The online-code seed, envelope-encrypted; never stored in clear. */
  seedEnvelope: Uint8Array;
  publicKey: Uint8Array;
  /** Serialized WalletCertificate. */
  certificate: Uint8Array;
  certNotAfter: number;
  deviceLabel: string;
  createdAt: number;
  revokedAt: number | null;
  revokeReason: string | null;
  /** [SEC-6] Until when (Unix ms) MAC failures keep the wallet in step-up; absent when never. */
  stepUpUntil?: number;
}

export interface IssuerKeyRecord {
  keyId: string;
  publicKey: Uint8Array;
  /** PKCS#8 DER of the Ed25519 private key, encrypted under the master key. */
  privateKeyEnvelope: Uint8Array;
  notBefore: number;
  notAfter: number;
  createdAt: number;
}

export type PaymentStatusName =
  | "PENDING_CONFIRMATION"
  | "SUCCEEDED"
  | "DECLINED"
  | "CLOSED"
  | "REFUNDED";

export type DeclineReasonName =
  | "CODE_MALFORMED"
  | "CODE_INVALID"
  | "CODE_EXPIRED"
  | "CODE_REUSED"
  | "WALLET_REVOKED"
  | "INSUFFICIENT_FUNDS"
  | "LIMIT_EXCEEDED"
  | "CURRENCY_MISMATCH";

export type CodeKindName = "ONLINE" | "OFFLINE" | "UNSPECIFIED";

/** Where a payment came from: a merchant Scan or an offline settlement record. */
export type PaymentSource = "scan" | "offline";

export interface PaymentRecord {
  id: string;
  merchantId: string;
  /** Null for payments created by offline settlement (they have no order number). */
  outTradeNo: string | null;
  amount: bigint;
  currency: string;
  status: PaymentStatusName;
  declineReason: DeclineReasonName | null;
  codeKind: CodeKindName;
  /** SHA-256 of the presented code, for idempotent retries; the code itself is not kept. */
  codeDigest: Uint8Array | null;
  subject: string;
  walletId: string | null;
  payerAccountId: string | null;
  /** Succeeded without the password; counts toward the daily password-free totals. */
  passwordFree: boolean;
  refundedAmount: bigint;
  confirmDeadline: number | null;
  source: PaymentSource;
  terminalId: string | null;
  recordId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface PaymentUpdate {
  status: PaymentStatusName;
  declineReason: DeclineReasonName | null;
  refundedAmount: bigint;
  confirmDeadline: number | null;
  passwordFree: boolean;
  updatedAt: number;
}

export interface RefundRecord {
  id: string;
  paymentId: string;
  merchantId: string;
  /** Null for the full refund CancelPayment makes (it has no idempotency key of its own). */
  outRefundNo: string | null;
  amount: bigint;
  currency: string;
  reason: string;
  createdAt: number;
}

export interface BatchResultRecord {
  recordId: string;
  /** RecordOutcome enum name without prefix, e.g. "SETTLED". */
  outcome: string;
  paymentId: string;
  /** A SETTLED record the issuer paid (§10.3); absent in results stored before it existed. */
  issuerLiable?: boolean;
}

export interface OfflineBatchRecord {
  terminalId: string;
  batchId: string;
  requestDigest: Uint8Array;
  results: BatchResultRecord[];
  createdAt: number;
}

export interface OfflineSettlementRecord {
  walletId: string;
  counter: bigint;
  paymentId: string;
  terminalId: string;
  merchantId: string;
  recordId: string;
  amount: bigint;
  currency: string;
  acceptedAt: number;
  settledAt: number;
}

export interface BurnRecord {
  usageKey: string;
  walletId: string;
  paymentId: string | null;
  createdAt: number;
}

export interface DailyUsage {
  amount: bigint;
  count: number;
}

export interface SettlementAggregates {
  paymentCount: number;
  paymentTotal: bigint;
  refundCount: number;
  refundTotal: bigint;
  /** Every settled record, issuer-liable ones included. */
  offlineCount: number;
  offlineTotal: bigint;
  /** The settled records the issuer paid (a subset of the above). */
  issuerLiableCount: number;
  issuerLiableTotal: bigint;
}

/** What has settled offline under one wallet's certificate, by who paid. */
export interface OfflineSettledTotals {
  /** Records that debited the payer. */
  payer: bigint;
  /** Issuer-liable duplicates, paid from the issuer loss account. */
  issuer: bigint;
}

export interface LedgerTotal {
  total: bigint;
  transferCount: number;
}

/** An account whose stored balance differs from the sum of its transfers. */
export interface LedgerMismatch {
  accountId: string;
  balance: bigint;
  fromTransfers: bigint;
}

/**
 * [SEC-3] The consecutive wrong payment passwords of one account id (known
 * or not), shared by ProvisionSeed and ConfirmPayment; no row = none.
 */
export interface PasswordFailuresRecord {
  accountId: string;
  /** Attempts counted as wrong since the last right password (an attempt counts before its check). */
  failures: number;
  /** Issuer time before which attempts are refused unchecked ([SEC-15]); 0 when none. */
  retryAt: number;
  updatedAt: number;
}

/** [SEC-21] A terminal's offline records rejected REJECTED_INVALID or REJECTED_MALFORMED in its current window. */
export interface TerminalRejectionsRecord {
  terminalId: string;
  /** Issuer time of the first counted rejection of the window; the window lasts one hour. */
  windowStart: number;
  rejected: number;
}

/** One row of the audit log (migration 7); `id` orders rows in insertion order. */
export interface AuditEventRecord {
  id: number;
  at: number;
  type: string;
  subjectKind: string | null;
  subjectId: string | null;
  /** A JSON object of non-secret facts, or null. */
  detail: Record<string, string | number | boolean> | null;
}

/** A new audit row: everything but the id the store assigns. */
export type NewAuditEvent = Omit<AuditEventRecord, "id">;

/** Which audit rows to read: every given filter must match; oldest first. */
export interface AuditQuery {
  /** `at` ≥ since (Unix ms). */
  since?: number;
  /** `at` < until (Unix ms). */
  until?: number;
  /** Exact type, or a prefix when it ends with "." (e.g. "auth."). */
  type?: string;
  subjectKind?: string;
  subjectId?: string;
  /** Only rows with an id greater than this (paging, following). */
  afterId?: number;
  /** At most this many rows. */
  limit?: number;
}
