import type { RequestSource } from "./drive.js";
import type { LoadOptions } from "./load-report.js";
import type { ProgressSink } from "./progress.js";
import type { TargetInfo } from "./provision.js";
import type { UnaryTransport } from "./transport.js";
import type { WorkKind } from "./work.js";

/** What the steps of one load run share: its options, the connected target, the warnings so far. */
export interface LoadRun {
  o: LoadOptions;
  work: WorkKind;
  /** upload-batch: records per UploadOfflineBatch call. */
  batchSize: number;
  ca: Buffer | undefined;
  transport: UnaryTransport;
  progress: ProgressSink;
  warnings: string[];
  info: TargetInfo;
  /** Whether the target serves ConformanceService (test control). */
  testControl: boolean;
  /** Warm-up plus measured seconds: how long the prepared work must last. */
  phaseS: number;
}

export type Calibratable = RequestSource & { remaining: number };

/** The work phase's source, and what the report says about preparing it. */
export interface PreparedWork {
  source: Calibratable;
  /** Outcomes of the work calls so far, calibration included. */
  outcomesOf: () => Record<string, number>;
  /** Codes skipped because their window was closing (online scans only). */
  skippedOf: () => number;
  itemsPerCall: number;
  /** The rate the prepared calls are budgeted for. */
  budgetRate: number;
  /** Closed loop without --expected-rate: rate of the short calibration run. */
  calibration: number | undefined;
  prepareSeconds: number;
  walletsNeeded: number;
  walletsUsed: number;
}
