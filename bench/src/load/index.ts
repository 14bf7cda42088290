export { type BareServer, startBareServer } from "./bare-server.js";
export {
  type CodeProfile,
  type PreparedScan,
  prepareScans,
  type WalletSecret,
  walletsNeeded,
} from "./codes.js";
export { ConnectCallError, callUnary, connectErrorOf, methodPath } from "./connect-unary.js";
export { drivePhase, type LoadMode, type PhaseResult, type RequestSource } from "./drive.js";
export { H1Transport } from "./h1-transport.js";
export { H2Transport } from "./h2-transport.js";
export { type LatencySummary, newLatencyHistogram, percentileCurve, summarize } from "./latency.js";
export { type H2Client, type LoadOptions, type LoadReport, runBarePhase, runLoad } from "./load.js";
export {
  type ProgressSample,
  type ProgressSink,
  silentProgress,
  streamProgress,
} from "./progress.js";
export {
  describeMode,
  formatLoadReport,
  formatPhaseTable,
  loadReportSvg,
  toJson,
} from "./report.js";
export { type PercentilePlot, type PlotSeries, renderPercentilePlot } from "./svg-plot.js";
export type { Endpoint, HttpVersion, RawResponse, UnaryTransport } from "./transport.js";
export { readWalletFile, sample, writeWalletFile } from "./wallet-file.js";
