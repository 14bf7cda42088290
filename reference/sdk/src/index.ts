/**
 * Reference clients: wallet, merchant scanner and offline terminal.
 *
 * @module @paycode/sdk
 */
export {
  type BarcodeRenderOptions,
  CODE128_PATTERNS,
  code128cModules,
  code128cSymbols,
  groupDigits,
  renderCode128,
} from "./barcode-render.js";
export {
  codeName,
  describeError,
  isTransientError,
  PaycodeProtocolError,
  PaymentOutcomeUnknownError,
  TRANSIENT_CODES,
  WalletCodesExhaustedError,
  WalletNotProvisionedError,
} from "./errors.js";
export {
  DEFAULT_RETRY,
  MerchantClient,
  type MerchantClientOptions,
  type MerchantEvent,
  type PayInput,
  type PaymentLookup,
  type PayResult,
  type RefundInput,
  type RetryPolicy,
  realSleep,
  type Sleep,
} from "./merchant-client.js";
export {
  type AmountInput,
  assertCurrency,
  currencyExponent,
  formatAmount,
  formatMoney,
  parseAmount,
  parseMinorAmount,
  toMoney,
} from "./money.js";
export {
  type AcceptResult,
  checkIssuerKeys,
  OfflineTerminal,
  type OfflineTerminalOptions,
  type RefusalReason,
  type TerminalStatus,
  type UploadProgress,
  type UploadSummary,
} from "./offline-terminal.js";
export { type JournalBatch, type JournalRecord, TerminalJournal } from "./terminal-journal.js";
export {
  bearerInterceptor,
  createPaycodeTransport,
  type PaycodeHttpVersion,
  type PaycodeProtocol,
  type PaycodeTransport,
  type PaycodeTransportOptions,
} from "./transport.js";
export {
  checkMoney,
  declineReasonName,
  FINAL_STATUSES,
  statusName,
  validatePayment,
} from "./validate.js";
export {
  checkProvisionResponse,
  type ProvisionedWallet,
  type ProvisionInput,
  WalletClient,
  type WalletClientOptions,
} from "./wallet-client.js";
export {
  JsonFileWalletStateStore,
  type JsonFileWalletStateStoreOptions,
  MemoryWalletStateStore,
  validateWalletState,
  type WalletState,
  type WalletStateStore,
} from "./wallet-state.js";
