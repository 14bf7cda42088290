// Commands on payments: Scan, its retries and re-presented codes, ConfirmPayment, CancelPayment, RefundPayment, GetPayment.
import { CancelAction } from "@paycode/protocol/v1";
import {
  after,
  type Cmd,
  expectRpcError,
  pickPayment,
  SUBJECT,
  scanned,
} from "./command-support.js";
import { compareField, comparePayment, compareRefund, compareTime } from "./compare.js";
import { cancel, confirm, refund, scanAgain, scanFresh } from "./payment-rules.js";
import type { Real } from "./real.js";
import { applyDeadline, type ModelState, stepOf } from "./state.js";

/** Scan of a fresh code (online, or offline with `offline`) of the current or an older wallet. */
export class ScanNew implements Cmd {
  constructor(
    readonly amount: bigint,
    readonly oldWallet: number | undefined,
    readonly offline: boolean,
  ) {}
  private wallet(m: ModelState): number {
    return this.oldWallet === undefined ? m.current : this.oldWallet % m.wallets.length;
  }
  check(m: Readonly<ModelState>): boolean {
    const w = m.wallets[this.wallet(m as ModelState)]!;
    return this.offline || (w.codesPerStep.get(stepOf(m.nowMs)) ?? 0) < 8;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const wi = this.wallet(m);
    const sim = r.wallets[wi]!;
    const w = m.wallets[wi]!;
    const step = stepOf(m.nowMs);
    if (!this.offline) w.codesPerStep.set(step, (w.codesPerStep.get(step) ?? 0) + 1);
    const code = this.offline ? sim.offlineCode() : sim.onlineCode();
    const outTradeNo = r.ctx.fixtures.orderNo();
    const got = await r.merchant.client.scan({
      outTradeNo,
      amount: r.ctx.fixtures.money(this.amount),
      code,
      subject: SUBJECT,
    });
    const p = scanFresh(m, {
      wallet: wi,
      amount: this.amount,
      code,
      outTradeNo,
      subject: SUBJECT,
      offline: this.offline,
    });
    comparePayment(m, r.ids, got.payment, p, `Scan #${p.index}`);
    await after(m, r, `after Scan #${p.index}`);
  }
  toString(): string {
    const who = this.oldWallet === undefined ? "current" : `wallet ${this.oldWallet}`;
    return `Scan(${this.offline ? "offline" : "online"}, ${this.amount}, ${who})`;
  }
}

/** The same Scan again (same merchant, out_trade_no, amount, code): the stored payment now ([SCAN-2]). */
export class ScanRetry implements Cmd {
  constructor(readonly pick: number) {}
  check(m: Readonly<ModelState>): boolean {
    return pickPayment(m as ModelState, this.pick, scanned) !== undefined;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const p = applyDeadline(m, pickPayment(m, this.pick, scanned)!);
    const got = await r.merchant.client.scan({
      outTradeNo: p.outTradeNo!,
      amount: r.ctx.fixtures.money(p.amount),
      code: p.code,
      subject: "retry",
    });
    comparePayment(m, r.ids, got.payment, p, `Scan retry of #${p.index}`);
    await after(m, r, `after the Scan retry of #${p.index}`);
  }
  toString(): string {
    return `ScanRetry(${this.pick})`;
  }
}

/** A code shown before, under a new order number: expired, invalid or reused by its age. */
export class ScanAgain implements Cmd {
  constructor(
    readonly pick: number,
    readonly amount: bigint,
  ) {}
  check(m: Readonly<ModelState>): boolean {
    return pickPayment(m as ModelState, this.pick) !== undefined;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const prior = pickPayment(m, this.pick)!;
    const outTradeNo = r.ctx.fixtures.orderNo();
    const got = await r.merchant.client.scan({
      outTradeNo,
      amount: r.ctx.fixtures.money(this.amount),
      code: prior.code,
      subject: SUBJECT,
    });
    const pr = r.ctx.profile;
    const p = scanAgain(m, {
      wallet: prior.wallet,
      amount: this.amount,
      code: prior.code,
      codeAtMs: prior.codeAtMs,
      outTradeNo,
      subject: SUBJECT,
      offline: prior.kind !== "online",
      window: {
        back: pr.windowBackSteps,
        ahead: pr.windowAheadSteps,
        lookback: pr.lookbackSteps,
        validity: pr.offlineCodeValiditySeconds,
      },
    });
    comparePayment(m, r.ids, got.payment, p, `Scan #${p.index} of the code of #${prior.index}`);
    await after(m, r, `after Scan #${p.index}`);
  }
  toString(): string {
    return `ScanAgain(${this.pick}, ${this.amount})`;
  }
}

/** ConfirmPayment by the wallet that started the payment, with the right or a wrong password. */
export class Confirm implements Cmd {
  constructor(
    readonly pick: number,
    readonly rightPassword: boolean,
  ) {}
  private payment(m: ModelState) {
    return pickPayment(m, this.pick, (p) => p.kind !== "settled" && p.deadlineMs !== undefined);
  }
  check(m: Readonly<ModelState>): boolean {
    // Four wrong passwords in a row at most: [SEC-17] lets none be refused unchecked, [SEC-15] delays after the fifth.
    if (!this.rightPassword && m.wrongPasswordsInRow >= 4) return false;
    return this.payment(m as ModelState) !== undefined;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const p = this.payment(m)!;
    const sim = r.wallets[p.wallet]!;
    const paymentId = r.ids.get("payment", p.index)!;
    const call = sim.client.confirmPayment({
      paymentId,
      password: this.rightPassword ? r.account.password : `${r.account.password}-wrong`,
    });
    const want = confirm(m, p, this.rightPassword);
    const what = `ConfirmPayment of #${p.index}`;
    if ("error" in want) await expectRpcError(r, call, want.error, what);
    else {
      const got = await call;
      comparePayment(m, r.ids, got.payment, p, what);
      compareTime(what, "server_time", got.serverTime, [m.nowMs]);
    }
    await after(m, r, `after ${what}`);
  }
  toString(): string {
    return `Confirm(${this.pick}, ${this.rightPassword ? "right" : "wrong"} password)`;
  }
}

export class Cancel implements Cmd {
  constructor(
    readonly pick: number,
    readonly byOutTradeNo: boolean,
  ) {}
  check(m: Readonly<ModelState>): boolean {
    return pickPayment(m as ModelState, this.pick) !== undefined;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const p = pickPayment(m, this.pick)!;
    const by = this.byOutTradeNo && p.outTradeNo !== undefined;
    const got = await r.merchant.client.cancelPayment({
      lookup: by
        ? { case: "outTradeNo", value: p.outTradeNo! }
        : { case: "paymentId", value: r.ids.get("payment", p.index)! },
    });
    // A refund the cancel makes is not in the response; balances and reports see it.
    const action = cancel(m, p);
    const what = `CancelPayment of #${p.index}`;
    compareField(what, "action", CancelAction[got.action], action);
    comparePayment(m, r.ids, got.payment, p, what);
    await after(m, r, `after ${what}`);
  }
  toString(): string {
    return `Cancel(${this.pick}${this.byOutTradeNo ? ", by out_trade_no" : ""})`;
  }
}

export type RefundKind = "part" | "rest" | "over" | "retry" | "conflict";

export class Refund implements Cmd {
  constructor(
    readonly pick: number,
    readonly kind: RefundKind,
  ) {}
  check(m: Readonly<ModelState>): boolean {
    return pickPayment(m as ModelState, this.pick) !== undefined;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const p = applyDeadline(m, pickPayment(m, this.pick)!);
    const remaining = p.amount - p.refunded;
    const last = [...m.refunds]
      .reverse()
      .find((x) => x.payment === p.index && x.outRefundNo !== undefined);
    let outRefundNo = r.ctx.fixtures.uniqueId("rf");
    let amount: bigint;
    switch (this.kind) {
      case "part":
        amount = remaining / 3n > 0n ? remaining / 3n : 1n;
        break;
      case "rest":
        amount = remaining > 0n ? remaining : p.amount;
        break;
      case "over":
        amount = remaining + 1n;
        break;
      case "retry":
      case "conflict":
        if (last) outRefundNo = last.outRefundNo!;
        amount = last ? last.amount + (this.kind === "conflict" ? 1n : 0n) : 1n;
        break;
    }
    const call = r.merchant.client.refundPayment({
      paymentId: r.ids.get("payment", p.index)!,
      outRefundNo,
      amount: r.ctx.fixtures.money(amount),
      reason: "model run",
    });
    const want = refund(m, p, outRefundNo, amount);
    const what = `RefundPayment(${amount}) of #${p.index}`;
    if ("error" in want) await expectRpcError(r, call, want.error, what);
    else {
      const got = await call;
      compareRefund(m, r.ids, got.refund, want.refund, m.refunds.indexOf(want.refund), what);
      comparePayment(m, r.ids, got.payment, p, what);
    }
    await after(m, r, `after ${what}`);
  }
  toString(): string {
    return `Refund(${this.pick}, ${this.kind})`;
  }
}

export class GetPayment implements Cmd {
  constructor(
    readonly pick: number,
    readonly byOutTradeNo: boolean,
  ) {}
  check(m: Readonly<ModelState>): boolean {
    return pickPayment(m as ModelState, this.pick) !== undefined;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const p = applyDeadline(m, pickPayment(m, this.pick)!);
    const by = this.byOutTradeNo && p.outTradeNo !== undefined;
    const got = await r.merchant.client.getPayment({
      lookup: by
        ? { case: "outTradeNo", value: p.outTradeNo! }
        : { case: "paymentId", value: r.ids.get("payment", p.index)! },
    });
    comparePayment(m, r.ids, got.payment, p, `GetPayment of #${p.index}`);
  }
  toString(): string {
    return `GetPayment(${this.pick}${this.byOutTradeNo ? ", by out_trade_no" : ""})`;
  }
}
