import type { PaymentRecord, PaymentStatusName } from "../store/records.js";
import type { Tx } from "../store/store.js";
import type { IssuerContext } from "./issuer-context.js";
import { assertTransition, isPastDeadline } from "./payment-state.js";

/**
 * Status changes of stored payments, shared by the wallet and merchant
 * services: every change goes through `setStatus`, so the state machine of
 * §8.1 is checked in one place.
 */

/**
 * [PAY-3] A pending payment past its deadline is CLOSED in every response,
 * whether or not the sweep has run: whoever reads it first writes the close,
 * dated at the deadline.
 */
export async function lazyClose(
  ctx: IssuerContext,
  tx: Tx,
  p: PaymentRecord,
  now: number,
): Promise<PaymentRecord> {
  // [PAY-10] At the deadline it is past it (the deadline-exclusive mutant waits one more millisecond).
  const at = ctx.breaks.deadlineExclusive ? now - 1 : now;
  if (!isPastDeadline(p, at) || ctx.breaks.noAutoClose) return p;
  const locked = await tx.getPayment(p.id, { forUpdate: true });
  if (!locked || !isPastDeadline(locked, at)) return locked ?? p;
  return setStatus(ctx, tx, locked, "CLOSED", { updatedAt: locked.confirmDeadline! });
}

/** [PAY-1] Status changes only along §8.1; [SCAN-14] `updated_at` is the time of the change. */
export function setStatus(
  ctx: IssuerContext,
  tx: Tx,
  p: PaymentRecord,
  status: PaymentStatusName,
  changes: Partial<PaymentRecord> = {},
): Promise<PaymentRecord> {
  // The confirm-cancelled mutant ([PAY-1]) leaves the diagram.
  if (!ctx.breaks.confirmCancelled) assertTransition(p.status, status);
  return savePayment(tx, { ...p, updatedAt: ctx.clock.now(), ...changes, status });
}

/** Writes the mutable fields of a payment; callers other than `setStatus` keep its status. */
export async function savePayment(tx: Tx, next: PaymentRecord): Promise<PaymentRecord> {
  await tx.updatePayment(next.id, {
    status: next.status,
    declineReason: next.declineReason,
    refundedAmount: next.refundedAmount,
    confirmDeadline: next.confirmDeadline,
    passwordFree: next.passwordFree,
    updatedAt: next.updatedAt,
  });
  return next;
}
