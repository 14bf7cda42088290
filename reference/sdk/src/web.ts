/**
 * The browser entry of the SDK: wallet and merchant (till) clients over
 * fetch (`@connectrpc/connect-web`), wallet state in memory or Web Storage,
 * money and barcode helpers. No Node.js module is imported from here: the
 * codecs of `@paycode/protocol` run on its browser crypto backend (the
 * "browser" condition of its `#crypto` import, which bundlers apply). The
 * offline terminal (SQLite journal) and the file wallet store are Node.js
 * only, in `@paycode/sdk`.
 *
 * @module @paycode/sdk/web
 */
export { bearerInterceptor } from "./auth.js";
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
  MemoryWalletStateStore,
  validateWalletState,
  type WalletState,
  type WalletStateStore,
} from "./wallet-store.js";
export {
  type KeyValueStorage,
  WebStorageWalletStateStore,
  type WebStorageWalletStateStoreOptions,
} from "./web-state.js";
export { createWebTransport, type WebTransportOptions } from "./web-transport.js";
