import { CancelAction, RecordOutcome } from "@paycode/protocol/v1";
import fc from "fast-check";
import {
  compareField,
  compareMoney,
  comparePayment,
  compareRefund,
  compareReport,
  compareTime,
  compareWallet,
} from "./compare.js";
import { checkBalances } from "./invariants.js";
import { CODE, type Real } from "./real.js";
import {
  applyDeadline,
  cancel,
  confirm,
  DAY_MS,
  type ModelPayment,
  type ModelRecordUpload,
  type ModelState,
  refund,
  report,
  reprovision,
  revoke,
  scanAgain,
  scanFresh,
  settleRecord,
  stepOf,
  utcDay,
} from "./state.js";

type Cmd = fc.AsyncCommand<ModelState, Real>;

const SUBJECT = "model run";

/** The payment `pick` chooses among `eligible` ones (undefined when there are none). */
function pickPayment(
  m: ModelState,
  pick: number,
  eligible: (p: ModelPayment) => boolean = () => true,
): ModelPayment | undefined {
  const c = m.payments.filter(eligible);
  return c.length === 0 ? undefined : c[pick % c.length];
}

const scanned = (p: ModelPayment) => p.kind !== "settled";

/** Runs a call that the model says fails with `code`; fails the run if it succeeds or fails otherwise. */
async function expectRpcError(
  r: Real,
  call: Promise<unknown>,
  code: keyof typeof CODE,
  what: string,
) {
  await r.ctx.expect.error(call, CODE[code], what);
}

/** After every command: the balances the model predicts ([CTRL-4], [PAY-5]). */
async function after(m: ModelState, r: Real, what: string): Promise<void> {
  await checkBalances(m, r, what);
}

/** Scan of a fresh code (online, or offline with `offline`) of the current or an older wallet. */
class ScanNew implements Cmd {
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
class ScanRetry implements Cmd {
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
class ScanAgain implements Cmd {
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
class Confirm implements Cmd {
  constructor(
    readonly pick: number,
    readonly rightPassword: boolean,
  ) {}
  private payment(m: ModelState) {
    return pickPayment(m, this.pick, (p) => p.kind !== "settled" && p.deadlineMs !== undefined);
  }
  check(m: Readonly<ModelState>): boolean {
    // Four wrong passwords in a row at most: [SEC-3] lets an issuer throttle the fifth.
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

class Cancel implements Cmd {
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

type RefundKind = "part" | "rest" | "over" | "retry" | "conflict";

class Refund implements Cmd {
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

class GetPayment implements Cmd {
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

class GetWallet implements Cmd {
  constructor(readonly pick: number | undefined) {}
  async run(m: ModelState, r: Real): Promise<void> {
    await compareWallet(m, r, this.pick === undefined ? m.current : this.pick % m.wallets.length);
  }
  check(): boolean {
    return true;
  }
  toString(): string {
    return `GetWallet(${this.pick ?? "current"})`;
  }
}

/** ProvisionSeed again for the account: the old wallet is revoked ([WALLET-4]), limits carry over. */
class Reprovision implements Cmd {
  check(m: Readonly<ModelState>): boolean {
    return m.wallets.length < 4;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const sim = await r.ctx.fixtures.wallet(r.account);
    const w = reprovision(m);
    r.wallets.push(sim);
    const what = `ProvisionSeed #${w.index}`;
    compareMoney(
      what,
      "limits.per_payment_password_free",
      sim.limits?.perPaymentPasswordFree,
      m.limits.perPaymentPasswordFree,
      m.currency,
    );
    compareField(
      what,
      "limits.daily_password_free_count",
      sim.limits?.dailyPasswordFreeCount,
      m.limits.dailyPasswordFreeCount,
    );
    const body = sim.certificateBody;
    const nowS = Math.floor(m.nowMs / 1000);
    compareField(what, "certificate.wallet_id", body.walletId, sim.walletId);
    compareField(what, "certificate.currency", body.currency, m.currency);
    compareField(
      what,
      "certificate.per_payment_limit_minor",
      body.perPaymentLimitMinor,
      w.certPerPayment,
    );
    compareField(
      what,
      "certificate.cumulative_limit_minor",
      body.cumulativeLimitMinor,
      w.certCumulative,
    );
    compareField(what, "certificate.not_before", body.notBefore, BigInt(nowS - 300));
    compareField(what, "certificate.not_after", body.notAfter, BigInt(nowS + 2_592_000));
    await compareWallet(m, r, w.index - 1);
    await after(m, r, `after ${what}`);
  }
  toString(): string {
    return "Reprovision";
  }
}

class Revoke implements Cmd {
  check(): boolean {
    return true;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const got = await r.wallets[m.current]!.client.revokeSeed({ reason: "model run" });
    compareTime(`RevokeSeed of wallet ${m.current}`, "revoked_at", got.revokedAt, [
      revoke(m, m.current),
    ]);
  }
  toString(): string {
    return "Revoke";
  }
}

/** The issuer clock moves on (frozen): deadlines pass, days turn, codes age. */
class MoveClock implements Cmd {
  constructor(readonly ms: number) {}
  check(m: Readonly<ModelState>): boolean {
    // Certificates live 30 days (§5.6); runs stay well inside.
    return m.nowMs + this.ms - (m.wallets[0]?.provisionedAtMs ?? m.nowMs) < 20 * DAY_MS;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    m.nowMs += this.ms;
    await r.ctx.clock.set(m.nowMs);
  }
  toString(): string {
    return `MoveClock(+${this.ms / 1000}s)`;
  }
}

class Report implements Cmd {
  constructor(readonly dayOffset: number) {}
  check(): boolean {
    return true;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const day = utcDay(m.nowMs + this.dayOffset * DAY_MS);
    const got = await r.merchant.settlement.getSettlementReport({
      date: day,
      currency: m.currency,
    });
    compareReport(m, got, report(m, day), day);
  }
  toString(): string {
    return `Report(${this.dayOffset >= 0 ? "+" : ""}${this.dayOffset}d)`;
  }
}

/** A terminal accepts a fresh offline code now and uploads it, after a key sync or on its last one. */
class Upload implements Cmd {
  constructor(
    readonly amount: bigint,
    readonly sync: boolean,
    readonly oldWallet: number | undefined,
  ) {}
  check(m: Readonly<ModelState>): boolean {
    return this.sync || m.terminalSyncedAtMs !== undefined;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const t = r.terminal!;
    if (this.sync) {
      const keys = await t.sync();
      compareTime("GetIssuerKeys", "generated_at", keys.generatedAt, [m.nowMs]);
      m.terminalSyncedAtMs = m.nowMs;
    }
    const wi = this.oldWallet === undefined ? m.current : this.oldWallet % m.wallets.length;
    const code = r.wallets[wi]!.offlineCode();
    const rec: ModelRecordUpload = {
      recordId: `rec-${++r.seq}`,
      code,
      wallet: wi,
      amount: this.amount,
      acceptedAtMs: m.nowMs,
      keysSyncedAtMs: m.terminalSyncedAtMs!,
    };
    await uploadBatch(m, r, `batch-${r.seq}`, [rec], true);
  }
  toString(): string {
    const who = this.oldWallet === undefined ? "current" : `wallet ${this.oldWallet}`;
    return `Upload(${this.amount}, ${this.sync ? "after sync" : "last sync"}, ${who})`;
  }
}

/** An earlier batch again: the same batch id and records ([SETTLE-5]), or its records in a new batch. */
class UploadAgain implements Cmd {
  constructor(
    readonly pick: number,
    readonly sameBatch: boolean,
  ) {}
  check(m: Readonly<ModelState>): boolean {
    return m.batches.length > 0;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const b = m.batches[this.pick % m.batches.length]!;
    if (this.sameBatch) return uploadBatch(m, r, b.batchId, b.records, false);
    const records = b.records.map((x) => ({ ...x, recordId: `rec-${++r.seq}` }));
    return uploadBatch(m, r, `batch-${++r.seq}`, records, true);
  }
  toString(): string {
    return `UploadAgain(${this.pick}, ${this.sameBatch ? "same batch" : "new batch"})`;
  }
}

async function uploadBatch(
  m: ModelState,
  r: Real,
  batchId: string,
  records: ModelRecordUpload[],
  fresh: boolean,
): Promise<void> {
  const t = r.terminal!;
  const got = await t.upload(
    records.map((x) =>
      t.record(x.code, x.amount, {
        recordId: x.recordId,
        acceptedAtMs: x.acceptedAtMs,
        keysSyncedAtMs: x.keysSyncedAtMs,
      }),
    ),
    batchId,
  );
  const what = `UploadOfflineBatch(${batchId})`;
  const want = fresh
    ? records.map((x) => settleRecord(m, x))
    : m.batches.find((b) => b.batchId === batchId)!.results;
  if (fresh) m.batches.push({ batchId, records, results: want });
  want.forEach((w, i) => {
    const g = got.results[i]!;
    compareField(`${what} result ${i}`, "outcome", RecordOutcome[g.outcome], w.outcome);
    if (w.payment !== undefined) {
      r.ids.bind("payment", w.payment, g.paymentId, `${what} result ${i}`);
    }
  });
  await after(m, r, `after ${what}`);
}

const amounts = fc.constantFrom(500n, 1_000n, 2_500n, 3_000n, 3_001n, 4_000n, 4_001n, 7_000n);
const pick = fc.nat({ max: 40 });
/** Mostly the current wallet; sometimes an older (revoked) one. */
const walletChoice = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.nat({ max: 3 }) },
);
/** Clock moves: within a step, across steps and the confirmation deadline, hours, and a day. */
const moves = fc.constantFrom(20_000, 59_000, 61_000, 180_000, 3 * 3_600_000, DAY_MS + 1_000);

/** `arbitrary` listed `weight` times: fast-check's commands picks among the list uniformly. */
function weighted(entries: [number, fc.Arbitrary<Cmd>][]): fc.Arbitrary<Cmd>[] {
  return entries.flatMap(([w, a]) => Array.from({ length: w }, () => a));
}

/** The command arbitraries of a run; `offline` adds offline codes, uploads and re-uploads. */
export function commandArbitraries(offline: boolean): fc.Arbitrary<Cmd>[] {
  const online: [number, fc.Arbitrary<Cmd>][] = [
    [5, fc.tuple(amounts, walletChoice).map(([a, w]) => new ScanNew(a, w, false))],
    [1, pick.map((p) => new ScanRetry(p))],
    [1, fc.tuple(pick, amounts).map(([p, a]) => new ScanAgain(p, a))],
    [3, fc.tuple(pick, fc.boolean()).map(([p, ok]) => new Confirm(p, ok))],
    [2, fc.tuple(pick, fc.boolean()).map(([p, b]) => new Cancel(p, b))],
    [
      4,
      fc
        .tuple(
          pick,
          fc.constantFrom<RefundKind>("part", "part", "rest", "over", "retry", "conflict"),
        )
        .map(([p, k]) => new Refund(p, k)),
    ],
    [1, fc.tuple(pick, fc.boolean()).map(([p, b]) => new GetPayment(p, b))],
    [1, fc.option(fc.nat({ max: 3 }), { nil: undefined }).map((w) => new GetWallet(w))],
    [1, fc.constant(new Reprovision())],
    [1, fc.constant(new Revoke())],
    [2, moves.map((ms) => new MoveClock(ms))],
    [2, fc.constantFrom(0, 0, -1, 1).map((d) => new Report(d))],
  ];
  if (!offline) return weighted(online);
  return weighted([
    ...online,
    [2, fc.tuple(amounts, walletChoice).map(([a, w]) => new ScanNew(a, w, true))],
    [4, fc.tuple(amounts, fc.boolean(), walletChoice).map(([a, s, w]) => new Upload(a, s, w))],
    [1, fc.tuple(pick, fc.boolean()).map(([p, s]) => new UploadAgain(p, s))],
  ]);
}
