import { afterAll, afterEach, beforeAll, describe } from "vitest";
import type { IssuerFixture } from "../testing.js";
import { offlineScenarios } from "./offline.scenarios.js";
import { refundScenarios } from "./refund.scenarios.js";
import { scanScenarios } from "./scan.scenarios.js";
import { stepUpScenarios } from "./step-up.scenarios.js";
import { walletScenarios } from "./wallet.scenarios.js";

/**
 * Every Issuer-class rule of spec/paycode.md (§7–§10) against an issuer on a real store. One
 * issuer per call; each test makes its own merchants and wallets, and the
 * ledger must balance after every test.
 */
export function describeIssuerScenarios(label: string, open: () => Promise<IssuerFixture>): void {
  describe(`issuer rules on ${label}`, () => {
    let fixture: IssuerFixture;
    beforeAll(async () => {
      fixture = await open();
    });
    afterAll(async () => {
      await fixture?.close();
    });
    afterEach(async () => {
      await fixture.expectLedgerBalanced();
    });
    const fx = () => fixture;
    scanScenarios(fx);
    stepUpScenarios(fx);
    refundScenarios(fx);
    offlineScenarios(fx);
    walletScenarios(fx);
  });
}
