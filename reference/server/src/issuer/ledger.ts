import type { PaymentRecord } from "../store/records.js";
import type { Tx } from "../store/store.js";
import { newTimeOrderedId } from "./ids.js";

/**
 * Every movement of money the issuer makes, one function per kind of
 * transfer. [PAY-5] Each is a single transfer debiting one account and
 * crediting another by the same amount, so the per-currency sum of all
 * balances, the issuer funding account included, stays zero. [PAY-6] The
 * callers move money for a payment only inside the transaction that also
 * records the payment's new state, so retries and races cannot move it twice.
 */

/** The issuer's own funding account of a currency: opening balances come out of it. */
export const issuerAccountId = (currency: string) => `acc_issuer_${currency.toLowerCase()}`;

/**
 * The issuer's loss account of a currency (§8.2): it pays the duplicate
 * offline records the issuer is liable for (§10.3), so its negative balance
 * is the issuer's loss on them.
 */
export const issuerLossAccountId = (currency: string) =>
  `acc_issuer_loss_${currency.toLowerCase()}`;

/** Creates the funding and the loss account of `currency` unless they exist. */
export async function openIssuerAccount(tx: Tx, currency: string, now: number): Promise<void> {
  for (const id of [issuerAccountId(currency), issuerLossAccountId(currency)]) {
    await tx.insertAccount({
      id,
      kind: "issuer",
      currency,
      passwordHash: null,
      limits: null,
      createdAt: now,
    });
  }
}

/** The payer pays the merchant: a password-free Scan or a confirmation. */
export async function transferPayment(
  tx: Tx,
  p: Pick<PaymentRecord, "id" | "amount" | "currency">,
  payerAccount: string,
  merchantAccount: string,
  now: number,
): Promise<void> {
  await tx.transfer({
    id: newTimeOrderedId("tr"),
    debitAccountId: payerAccount,
    creditAccountId: merchantAccount,
    amount: p.amount,
    currency: p.currency,
    kind: "payment",
    paymentId: p.id,
    refundId: null,
    createdAt: now,
  });
}

/** The merchant gives `amount` of payment `p` back to its payer. */
export async function transferRefund(
  tx: Tx,
  p: Pick<PaymentRecord, "id" | "currency" | "payerAccountId">,
  refundId: string,
  amount: bigint,
  merchantAccount: string,
  now: number,
): Promise<void> {
  await tx.transfer({
    id: newTimeOrderedId("tr"),
    debitAccountId: merchantAccount,
    creditAccountId: p.payerAccountId!,
    amount,
    currency: p.currency,
    kind: "refund",
    paymentId: p.id,
    refundId,
    createdAt: now,
  });
}

/** [SETTLE-16] A settled offline record pays the merchant even into the payer's debt. */
export async function transferOffline(
  tx: Tx,
  paymentId: string,
  payerAccount: string,
  merchantAccount: string,
  amount: bigint,
  currency: string,
  now: number,
  kind: "offline" | "offline_issuer_liable" = "offline",
): Promise<void> {
  await tx.transfer({
    id: newTimeOrderedId("tr"),
    debitAccountId: payerAccount,
    creditAccountId: merchantAccount,
    amount,
    currency,
    kind,
    paymentId,
    refundId: null,
    createdAt: now,
  });
}

/**
 * [SETTLE-20] A duplicate offline record the issuer is liable for: the
 * merchant is paid from the issuer loss account, the payer is not debited.
 */
export function transferIssuerLiable(
  tx: Tx,
  paymentId: string,
  merchantAccount: string,
  amount: bigint,
  currency: string,
  now: number,
): Promise<void> {
  const loss = issuerLossAccountId(currency);
  return transferOffline(
    tx,
    paymentId,
    loss,
    merchantAccount,
    amount,
    currency,
    now,
    "offline_issuer_liable",
  );
}

/** [CTRL-3] A test account's opening balance, from the issuer funding account. */
export async function transferFunding(
  tx: Tx,
  accountId: string,
  amount: bigint,
  currency: string,
  now: number,
): Promise<void> {
  await tx.transfer({
    id: newTimeOrderedId("tr"),
    debitAccountId: issuerAccountId(currency),
    creditAccountId: accountId,
    amount,
    currency,
    kind: "funding",
    paymentId: null,
    refundId: null,
    createdAt: now,
  });
}
