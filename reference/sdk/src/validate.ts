import type { Money } from "@paycode/protocol/v1";
import { CodeKind, DeclineReason, type Payment, PaymentStatus } from "@paycode/protocol/v1";
import { PaycodeProtocolError } from "./errors.js";

/** Statuses after which a payment never changes again, except a SUCCEEDED one by refunds. */
export const FINAL_STATUSES: ReadonlySet<PaymentStatus> = new Set([
  PaymentStatus.SUCCEEDED,
  PaymentStatus.DECLINED,
  PaymentStatus.CLOSED,
  PaymentStatus.REFUNDED,
]);

/**
 * Checks that a Payment message is internally consistent, and returns it.
 * `context` names the RPC for the error message.
 */
export function validatePayment(payment: Payment | undefined, context: string): Payment {
  const fail = (what: string): never => {
    throw new PaycodeProtocolError(`${context}: ${what}`);
  };
  if (!payment) return fail("response has no payment");
  if (!payment.paymentId) fail("payment has no payment_id");
  if (!payment.outTradeNo) fail(`payment ${payment.paymentId} has no out_trade_no`);
  const amount = checkMoney(payment.amount, `payment ${payment.paymentId} amount`, context);
  if (amount.amountMinor <= 0n) fail(`payment ${payment.paymentId} amount is not positive`);
  if (!(payment.status in PaymentStatus) || payment.status === PaymentStatus.UNSPECIFIED) {
    fail(`payment ${payment.paymentId} has status ${payment.status}`);
  }
  if (!(payment.codeKind in CodeKind) || payment.codeKind === CodeKind.UNSPECIFIED) {
    fail(`payment ${payment.paymentId} has code_kind ${payment.codeKind}`);
  }
  const declined = payment.status === PaymentStatus.DECLINED;
  const reasonKnown =
    payment.declineReason in DeclineReason && payment.declineReason !== DeclineReason.UNSPECIFIED;
  if (declined && !reasonKnown) fail(`declined payment ${payment.paymentId} has no decline_reason`);
  if (!declined && payment.declineReason !== DeclineReason.UNSPECIFIED) {
    fail(
      `payment ${payment.paymentId} is ${PaymentStatus[payment.status]} but has a decline_reason`,
    );
  }
  if (payment.status === PaymentStatus.PENDING_CONFIRMATION && !payment.confirmDeadline) {
    fail(`pending payment ${payment.paymentId} has no confirm_deadline`);
  }
  if (!payment.createdAt) fail(`payment ${payment.paymentId} has no created_at`);
  const refunded = checkMoney(payment.refunded, `payment ${payment.paymentId} refunded`, context);
  if (refunded.currency !== amount.currency)
    fail(`payment ${payment.paymentId} refunded currency differs`);
  if (refunded.amountMinor < 0n || refunded.amountMinor > amount.amountMinor) {
    fail(`payment ${payment.paymentId} refunded ${refunded.amountMinor} is outside 0..amount`);
  }
  if (payment.status === PaymentStatus.REFUNDED && refunded.amountMinor !== amount.amountMinor) {
    fail(`payment ${payment.paymentId} is REFUNDED but refunded ≠ amount`);
  }
  return payment;
}

/** Checks a Money field is present with an ISO 4217 currency. */
export function checkMoney(money: Money | undefined, what: string, context: string): Money {
  if (!money) throw new PaycodeProtocolError(`${context}: ${what} is missing`);
  if (!/^[A-Z]{3}$/.test(money.currency)) {
    throw new PaycodeProtocolError(
      `${context}: ${what} has currency ${JSON.stringify(money.currency)}`,
    );
  }
  return money;
}

/** Name of a payment status for display: PENDING_CONFIRMATION, SUCCEEDED, ... */
export function statusName(status: PaymentStatus): string {
  return PaymentStatus[status] ?? String(status);
}

/** Name of a decline reason for display: CODE_EXPIRED, INSUFFICIENT_FUNDS, ... */
export function declineReasonName(reason: DeclineReason): string {
  return DeclineReason[reason] ?? String(reason);
}
