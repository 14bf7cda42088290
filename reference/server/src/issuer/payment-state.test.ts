import { describe, expect, it } from "vitest";
import type { PaymentStatusName } from "../store/records.js";
import { assertTransition, canTransition, INITIAL_STATES, isFinal } from "./payment-state.js";

const ALL: PaymentStatusName[] = [
  "PENDING_CONFIRMATION",
  "SUCCEEDED",
  "DECLINED",
  "CLOSED",
  "REFUNDED",
];

describe("payment state machine", () => {
  it("allows exactly the documented transitions", () => {
    const allowed = ALL.flatMap((from) =>
      ALL.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`),
    );
    expect(allowed).toEqual([
      "PENDING_CONFIRMATION→SUCCEEDED",
      "PENDING_CONFIRMATION→DECLINED",
      "PENDING_CONFIRMATION→CLOSED",
      "SUCCEEDED→REFUNDED",
    ]);
  });

  it("DECLINED, CLOSED and REFUNDED are final; payments start pending, succeeded or declined", () => {
    expect(ALL.filter(isFinal)).toEqual(["DECLINED", "CLOSED", "REFUNDED"]);
    expect(INITIAL_STATES).toEqual(["PENDING_CONFIRMATION", "SUCCEEDED", "DECLINED"]);
    expect(() => assertTransition("CLOSED", "SUCCEEDED")).toThrow(/illegal/);
  });
});
