import type { Case } from "../case.js";
import { authIsolationCases } from "./auth-isolation.js";
import { cancelRefundCases } from "./cancel-refund.js";
import {
  doubleOfflineClockCases,
  expiredCodeClockCases,
  offlineWalletClockCases,
  overLimitClockCases,
  testControlClockCases,
} from "./clock-edges.js";
import { concurrentCases } from "./concurrent.js";
import { doubleOfflineCases } from "./double-offline.js";
import { expiredCodeCases } from "./expired-code.js";
import { idempotencyCases } from "./idempotency.js";
import { keyRotationCases } from "./key-rotation.js";
import { malformedInputCases } from "./malformed-input.js";
import { malformedTextCases } from "./malformed-text.js";
import { messageSizeCases } from "./message-size.js";
import { modelBasedCases } from "./model-based.js";
import { offlineWalletCases } from "./offline-wallet.js";
import { overLimitCases } from "./over-limit.js";
import { passwordThrottleCases } from "./password-throttle.js";
import { reusedCodeCases } from "./reused-code.js";
import { settlementReportCases } from "./settlement-report.js";
import { terminalCases } from "./terminal.js";
import { testControlCases } from "./test-control.js";
import { throttlingCases } from "./throttling.js";

/** The families, in report order. */
export const FAMILIES = {
  "offline-wallet": [...offlineWalletCases, ...offlineWalletClockCases],
  "expired-code": [...expiredCodeCases, ...expiredCodeClockCases],
  "reused-code": reusedCodeCases,
  "over-limit": [...overLimitCases, ...overLimitClockCases],
  "double-offline": [...doubleOfflineCases, ...doubleOfflineClockCases],
  terminal: terminalCases,
  idempotency: idempotencyCases,
  "cancel-refund": cancelRefundCases,
  "settlement-report": settlementReportCases,
  "auth-isolation": authIsolationCases,
  "malformed-input": [...malformedInputCases, ...malformedTextCases, ...messageSizeCases],
  "test-control": [...testControlCases, ...testControlClockCases],
  "model-based": modelBasedCases,
  concurrent: concurrentCases,
  throttling: [...throttlingCases, ...passwordThrottleCases],
  "key-rotation": keyRotationCases,
} as const satisfies Record<string, Case[]>;

/** Every case of the suite, in catalog order. */
export const allCases: readonly Case[] = (() => {
  const out: Case[] = [];
  const seen = new Set<string>();
  for (const [family, cases] of Object.entries(FAMILIES)) {
    for (const c of cases) {
      if (!c.id.startsWith(`${family}/`)) throw new Error(`case ${c.id} is filed under ${family}`);
      if (seen.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
      seen.add(c.id);
      out.push(c);
    }
  }
  return out;
})();
