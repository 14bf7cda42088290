// Commands on the account and the issuer: GetWallet, ProvisionSeed again, RevokeSeed, clock moves, reports.
import { after, type Cmd } from "./command-support.js";
import {
  compareField,
  compareMoney,
  compareReport,
  compareTime,
  compareWallet,
} from "./compare.js";
import { reprovision, revoke } from "./payment-rules.js";
import type { Real } from "./real.js";
import { report } from "./settlement-rules.js";
import { DAY_MS, type ModelState, utcDay } from "./state.js";

export class GetWallet implements Cmd {
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
export class Reprovision implements Cmd {
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

export class Revoke implements Cmd {
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
export class MoveClock implements Cmd {
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

export class Report implements Cmd {
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
