import { CaseFailure } from "../expect.js";
import { comparePayment, compareReport, compareWallet } from "./compare.js";
import type { Real } from "./real.js";
import { activeDays, report } from "./settlement-rules.js";
import { applyDeadline, type ModelState } from "./state.js";

/**
 * The payer's and the merchant's balances are the model's ([CTRL-4]):
 * every transfer the spec requires happened, and no other.
 */
export async function checkBalances(m: ModelState, r: Real, what: string): Promise<void> {
  const [payer, merchant] = await Promise.all([
    r.ctx.expect.readBalance({ accountId: r.account.accountId }),
    r.ctx.expect.readBalance({ merchantId: r.merchant.merchantId }),
  ]);
  if (payer !== m.payerBalance || merchant !== m.merchantBalance) {
    throw new CaseFailure(
      `${what}: balances are payer ${payer}, merchant ${merchant}; the model says payer ${m.payerBalance}, merchant ${m.merchantBalance}`,
    );
  }
}

/**
 * The invariants that hold after any sequence: no payment refunded above
 * its amount ([REFUND-7]), the ledger sums to zero ([PAY-5]), the payer's
 * password-free usage never above the daily limits ([LIMIT-2], [LIMIT-3])
 * and no certificate settled above its cumulative limit ([SETTLE-15]).
 * They are checked on the model (which the target matched response by
 * response) and on the target's ledger.
 */
export async function checkInvariants(m: ModelState, r: Real, what: string): Promise<void> {
  for (const p of m.payments) {
    if (p.refunded > p.amount)
      throw new CaseFailure(`${what}: model bug, #${p.index} over-refunded`);
  }
  for (const [day, u] of m.usage) {
    if (u.amount > m.limits.dailyPasswordFreeAmount || u.count > m.limits.dailyPasswordFreeCount) {
      throw new CaseFailure(`${what}: model bug, password-free usage of ${day} above the limits`);
    }
  }
  for (const w of m.wallets) {
    if (w.settledOffline > w.certCumulative) {
      throw new CaseFailure(`${what}: model bug, wallet ${w.index} settled above its limit`);
    }
  }
  const total = await r.ctx.control.getLedgerTotal({ currency: m.currency });
  if ((total.total?.amountMinor ?? 0n) !== 0n) {
    throw new CaseFailure(
      `${what}: GetLedgerTotal is ${total.total?.amountMinor}, every transfer must balance (sum 0)`,
    );
  }
}

/**
 * At the end of a run every object is read back once more: each payment
 * (GetPayment), each wallet (GetWallet), the report of every day that saw
 * activity, the balances and the ledger. A field that went wrong after
 * some step and that no later command happened to read is caught here.
 */
export async function finalAudit(m: ModelState, r: Real): Promise<void> {
  for (const p of m.payments) {
    const id = r.ids.get("payment", p.index);
    if (!id) continue;
    applyDeadline(m, p);
    // By order number where there is one: the commands mostly look payments up by id.
    const got = await r.merchant.client.getPayment({
      lookup:
        p.outTradeNo !== undefined
          ? { case: "outTradeNo", value: p.outTradeNo }
          : { case: "paymentId", value: id },
    });
    comparePayment(m, r.ids, got.payment, p, `final GetPayment of #${p.index}`);
  }
  for (let i = 0; i < m.wallets.length; i++) await compareWallet(m, r, i);
  for (const day of activeDays(m)) {
    const got = await r.merchant.settlement.getSettlementReport({
      date: day,
      currency: m.currency,
    });
    compareReport(m, got, report(m, day), day);
  }
  await checkBalances(m, r, "final audit");
  await checkInvariants(m, r, "final audit");
}
