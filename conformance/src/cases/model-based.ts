import { type Case, type CaseContext, defineCase } from "../case.js";
import { runModel } from "../model/run.js";

/**
 * Model-based runs (conformance/src/model/): random sequences of scans,
 * retries, confirmations, cancels, refunds, re-provisioning, revocation,
 * offline uploads, reports and clock moves, every response compared field
 * by field with an executable model of the spec. They find the defects
 * that appear only after a particular earlier step. Fixed seeds keep a
 * certification run deterministic; PAYCODE_MODEL_SEED / PAYCODE_MODEL_PATH
 * replay a failure (docs/certification.md).
 */
export const modelBasedCases: Case[] = [
  defineCase({
    id: "model-based/online-payments",
    title:
      "Random sequences of scans, confirmations, cancels, refunds, re-provisioning, revocation, reports and clock moves answer as the spec's model predicts, field by field",
    requirements: [
      "SCAN-2",
      "SCAN-5",
      "SCAN-7",
      "SCAN-14",
      "PAY-1",
      "PAY-3",
      "PAY-5",
      "PAY-7",
      "PAY-8",
      "PAY-10",
      "PAY-11",
      "LIMIT-2",
      "LIMIT-3",
      "LIMIT-4",
      "LIMIT-5",
      "REFUND-2",
      "REFUND-6",
      "REFUND-7",
      "REFUND-8",
      "REFUND-9",
      "RPC-7",
      "WALLET-4",
      "WALLET-6",
      "WALLET-8",
      "WALLET-9",
      "SETTLE-7",
      "QR-6",
    ],
    features: ["settable-clock", "refunds", "settlement-report"],
    timeoutMs: 180_000,
    async run(ctx: CaseContext) {
      await runModel(ctx, {
        caseId: "model-based/online-payments",
        seed: 1_300_501,
        numRuns: 12,
        maxCommands: 24,
        offline: false,
      });
    },
  }),
  defineCase({
    id: "model-based/with-offline",
    title:
      "Random sequences mixing online payments with offline codes at Scan, terminal uploads, re-uploads and revocation settle and report as the spec's model predicts",
    requirements: [
      "SCAN-9",
      "SETTLE-5",
      "SETTLE-9",
      "SETTLE-11",
      "SETTLE-12",
      "SETTLE-13",
      "SETTLE-14",
      "SETTLE-15",
      "SETTLE-16",
      "SETTLE-17",
      "SETTLE-7",
      "PAY-5",
      "REFUND-6",
    ],
    features: ["settable-clock", "refunds", "settlement-report", "offline-settlement"],
    timeoutMs: 180_000,
    async run(ctx: CaseContext) {
      await runModel(ctx, {
        caseId: "model-based/with-offline",
        seed: 1_300_502,
        numRuns: 12,
        maxCommands: 24,
        offline: true,
      });
    },
  }),
];
