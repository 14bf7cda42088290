/**
 * Paycode benchmarks: verification micro benchmarks against their floors
 * and an HTTP/2 load generator for Paycode issuers.
 *
 * @module @paycode/bench
 */
export {
  formatProfileSummary,
  type ProfileSummary,
  summarizeCpuProfile,
} from "./cpu-profile-summary.js";
export { formatCount, formatMicros, formatRatio, formatTable } from "./format.js";
export * from "./load/index.js";
export { describeMachine, type MachineInfo, machineInfo } from "./machine.js";
export {
  formatMicroReport,
  type MicroGroup,
  type MicroOptions,
  type MicroReport,
  type MicroTaskResult,
  microTasks,
  runMicro,
} from "./micro.js";
export {
  describeScanLayers,
  formatScanLayersReport,
  type ScanLayer,
  type ScanLayerResult,
  type ScanLayersReport,
  scanLayersRows,
} from "./scan-layers-report.js";
export { summarizeResults } from "./summarize.js";
