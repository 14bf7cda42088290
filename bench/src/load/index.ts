export { type BareServer, startBareServer } from "./bare-server.js";
export {
  type CodeProfile,
  type PreparedScan,
  prepareScans,
  type WalletSecret,
  walletsNeeded,
} from "./codes.js";
export {
  type CompareReport,
  compareSvg,
  formatCompareReport,
  reportHtml,
  runCompare,
} from "./compare.js";
export { ConnectCallError, callUnary, connectErrorOf, methodPath } from "./connect-unary.js";
export {
  type BenchWallet,
  type Credentials,
  credentialsFromJson,
  credentialsToJson,
  parseAccounts,
  readCredentials,
  writeCredentials,
} from "./credentials.js";
export { drivePhase, type LoadMode, type PhaseResult, type RequestSource } from "./drive.js";
export { H1Transport } from "./h1-transport.js";
export { H2Transport } from "./h2-transport.js";
export { type LatencySummary, newLatencyHistogram, percentileCurve, summarize } from "./latency.js";
export { runBarePhase, runLoad } from "./load.js";
export { type ClientKind, type H2Client, type Protocol, resolveClient } from "./load-client.js";
export type { LoadOptions, LoadReport } from "./load-report.js";
export {
  type ProgressSample,
  type ProgressSink,
  silentProgress,
  streamProgress,
} from "./progress.js";
export { provisionCredentials } from "./provision-credentials.js";
export {
  describeMode,
  formatLoadReport,
  formatPhaseTable,
  loadReportSvg,
  toJson,
} from "./report.js";
export { SdkTransport } from "./sdk-transport.js";
export { type PercentilePlot, type PlotSeries, renderPercentilePlot } from "./svg-plot.js";
export type { Endpoint, HttpVersion, RawResponse, UnaryTransport } from "./transport.js";
export { readWalletFile, sample, writeWalletFile } from "./wallet-file.js";
export { EXPECTED_OUTCOME, WORK_KINDS, WORK_RPC, type WorkKind } from "./work.js";
