import type { CaseContext } from "../case.js";
import type { Account, AccountSpec, Merchant } from "../fixtures/fixtures.js";
import type { SimWallet } from "../fixtures/sim-wallet.js";

/** A payer wallet (with a fresh account) and a merchant, made concurrently. */
export async function walletAndMerchant(
  ctx: CaseContext,
  spec: AccountSpec | Account = {},
): Promise<{ wallet: SimWallet; merchant: Merchant }> {
  const [wallet, merchant] = await Promise.all([
    ctx.fixtures.wallet(spec),
    ctx.fixtures.merchant(),
  ]);
  return { wallet, merchant };
}

/** The feature offline-settlement cases declare. */
export const OFFLINE = ["offline-settlement"] as const;

/** A GetPayment/CancelPayment lookup by payment id. */
export const byId = (paymentId: string) => ({
  lookup: { case: "paymentId" as const, value: paymentId },
});

/** A RefundPayment request with a fresh out_refund_no (drawn before the amount is built). */
export function refundRequest(ctx: CaseContext, paymentId: string, amount: bigint, reason = "") {
  return {
    paymentId,
    outRefundNo: ctx.fixtures.uniqueId("rf"),
    amount: ctx.fixtures.money(amount),
    reason,
  };
}

export const payerOf = (w: SimWallet) => ({ accountId: w.accountId });
export const merchantOf = (m: Merchant) => ({ merchantId: m.merchantId });

/** Checks payer and merchant balances in one go. */
export async function balances(
  ctx: CaseContext,
  w: SimWallet,
  m: Merchant,
  payer: bigint,
  merchant: bigint,
  what: string,
): Promise<void> {
  await ctx.expect.balance(payerOf(w), payer, `${what}: payer`);
  await ctx.expect.balance(merchantOf(m), merchant, `${what}: merchant`);
}

/** The UTC day (YYYY-MM-DD) of the issuer clock, read afresh. */
export async function utcDay(ctx: CaseContext, offsetDays = 0): Promise<string> {
  await ctx.clock.sync();
  return new Date(ctx.clock.nowMs() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}
