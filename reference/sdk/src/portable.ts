// What the SDK offers on every platform: the wallet and merchant clients,
// their errors, money and barcode helpers, and the in-memory wallet store.
// `index.ts` (Node.js) and `web.ts` (browsers) each add their platform's
// transport and storage.
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
