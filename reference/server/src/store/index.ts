export { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from "./migrations.js";
export { type OpenStoreOptions, openStore } from "./open-store.js";
export { PostgresStore, type PostgresStoreOptions } from "./postgres-store.js";
export type {
  AccountKind,
  AccountRecord,
  ApiKeyPrincipal,
  ApiKeyRecord,
  AuditEventRecord,
  AuditQuery,
  BatchResultRecord,
  BurnRecord,
  CodeKindName,
  DailyUsage,
  DeclineReasonName,
  IssuerKeyRecord,
  LedgerMismatch,
  LedgerTotal,
  LimitsRecord,
  MerchantRecord,
  NewAccount,
  NewAuditEvent,
  OfflineBatchRecord,
  OfflineSettlementRecord,
  PaymentRecord,
  PaymentSource,
  PaymentStatusName,
  PaymentUpdate,
  RefundRecord,
  SettlementAggregates,
  TerminalRecord,
  TransferKind,
  TransferRecord,
  WalletRecord,
} from "./records.js";
export { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
export {
  MAX_TRANSACTION_ATTEMPTS,
  type ReadOptions,
  type Store,
  TransactionRetry,
  type Tx,
} from "./store.js";
