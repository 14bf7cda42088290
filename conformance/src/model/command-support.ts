import type fc from "fast-check";
import { checkBalances } from "./invariants.js";
import { CODE, type Real } from "./real.js";
import type { ModelPayment, ModelState } from "./state.js";

/** One command of a model run: a precondition on the model, then the call, the prediction and the comparison. */
export type Cmd = fc.AsyncCommand<ModelState, Real>;

export const SUBJECT = "model run";

/** The payment `pick` chooses among `eligible` ones (undefined when there are none). */
export function pickPayment(
  m: ModelState,
  pick: number,
  eligible: (p: ModelPayment) => boolean = () => true,
): ModelPayment | undefined {
  const c = m.payments.filter(eligible);
  return c.length === 0 ? undefined : c[pick % c.length];
}

export const scanned = (p: ModelPayment) => p.kind !== "settled";

/** Runs a call that the model says fails with `code`; fails the run if it succeeds or fails otherwise. */
export async function expectRpcError(
  r: Real,
  call: Promise<unknown>,
  code: keyof typeof CODE,
  what: string,
) {
  await r.ctx.expect.error(call, CODE[code], what);
}

/** After every command: the balances the model predicts ([CTRL-4], [PAY-5]). */
export async function after(m: ModelState, r: Real, what: string): Promise<void> {
  await checkBalances(m, r, what);
}
