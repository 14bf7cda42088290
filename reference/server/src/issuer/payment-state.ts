import type { PaymentRecord, PaymentStatusName } from "../store/records.js";

/**
 * [PAY-1] The payment life cycle of §8.1. PENDING_CONFIRMATION is the only state a payment
 * leaves without money having moved; SUCCEEDED leaves only by a full refund.
 */
const TRANSITIONS: Readonly<Record<PaymentStatusName, readonly PaymentStatusName[]>> = {
  PENDING_CONFIRMATION: ["SUCCEEDED", "DECLINED", "CLOSED"],
  SUCCEEDED: ["REFUNDED"],
  DECLINED: [],
  CLOSED: [],
  REFUNDED: [],
};

/** States a payment may be created in. */
export const INITIAL_STATES: readonly PaymentStatusName[] = [
  "PENDING_CONFIRMATION",
  "SUCCEEDED",
  "DECLINED",
];

export function canTransition(from: PaymentStatusName, to: PaymentStatusName): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Guards every status change; a violation is a bug, never a client error. */
export function assertTransition(from: PaymentStatusName, to: PaymentStatusName): void {
  if (!canTransition(from, to)) throw new Error(`illegal payment transition ${from} → ${to}`);
}

export function isFinal(status: PaymentStatusName): boolean {
  return TRANSITIONS[status].length === 0;
}

/** A pending payment whose confirmation deadline has come: it is CLOSED, whether or not anyone wrote that yet. */
export function isPastDeadline(p: PaymentRecord, now: number): boolean {
  return (
    p.status === "PENDING_CONFIRMATION" && p.confirmDeadline !== null && now >= p.confirmDeadline
  );
}
