/**
 * Reference clients: wallet, merchant scanner and offline terminal.
 *
 * @module @paycode/sdk
 */

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
export * from "./portable.js";
export { type JournalBatch, type JournalRecord, TerminalJournal } from "./terminal-journal.js";
export {
  createPaycodeTransport,
  type PaycodeCodec,
  type PaycodeHttpVersion,
  type PaycodeProtocol,
  type PaycodeTransport,
  type PaycodeTransportOptions,
} from "./transport.js";
export { JsonFileWalletStateStore, type JsonFileWalletStateStoreOptions } from "./wallet-state.js";
