import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConformanceService, Money } from "@paycode/protocol/v1";
import {
  DeclineReason,
  type Payment,
  PaymentStatus,
  RecordOutcome,
  type RecordResult,
} from "@paycode/protocol/v1";
import { RpcFailure } from "./rpc.js";

/** A failed expectation: the message is what the report shows. */
export class CaseFailure extends Error {
  override readonly name = "CaseFailure";
}

/** Connect code names as the protocol spells them ("not_found"). */
export function codeName(code: Code): string {
  return (
    (
      {
        [Code.Canceled]: "canceled",
        [Code.Unknown]: "unknown",
        [Code.InvalidArgument]: "invalid_argument",
        [Code.DeadlineExceeded]: "deadline_exceeded",
        [Code.NotFound]: "not_found",
        [Code.AlreadyExists]: "already_exists",
        [Code.PermissionDenied]: "permission_denied",
        [Code.ResourceExhausted]: "resource_exhausted",
        [Code.FailedPrecondition]: "failed_precondition",
        [Code.Aborted]: "aborted",
        [Code.OutOfRange]: "out_of_range",
        [Code.Unimplemented]: "unimplemented",
        [Code.Internal]: "internal",
        [Code.Unavailable]: "unavailable",
        [Code.DataLoss]: "data_loss",
        [Code.Unauthenticated]: "unauthenticated",
      } as Record<number, string>
    )[code] ?? `code ${code}`
  );
}

export function statusName(s: PaymentStatus | undefined): string {
  return s === undefined ? "(none)" : (PaymentStatus[s]?.toString() ?? `status ${s}`);
}

export function reasonName(r: DeclineReason | undefined): string {
  return r === undefined ? "(none)" : (DeclineReason[r]?.toString() ?? `reason ${r}`);
}

export function outcomeName(o: RecordOutcome | undefined): string {
  return o === undefined ? "(none)" : (RecordOutcome[o]?.toString() ?? `outcome ${o}`);
}

export function describePayment(p: Payment): string {
  const reason = p.status === PaymentStatus.DECLINED ? ` (${reasonName(p.declineReason)})` : "";
  return `${statusName(p.status)}${reason}`;
}

function show(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined) return "(unset)";
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
  } catch {
    return String(v);
  }
}

export type BalanceOwner = { accountId: string } | { merchantId: string };

/** Typed assertions; each failure names the RPC or step and shows expected versus actual. */
export class Expect {
  constructor(
    private readonly control: Client<typeof ConformanceService>,
    private readonly currency: () => string,
  ) {}

  fail(message: string): never {
    throw new CaseFailure(message);
  }

  that(condition: unknown, message: string): asserts condition {
    if (!condition) throw new CaseFailure(message);
  }

  equal<T>(actual: T, expected: T, what: string): void {
    if (actual !== expected) {
      throw new CaseFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
    }
  }

  /** The payment of a Scan/GetPayment/... response; a missing one is a lying target. */
  payment(resp: { payment?: Payment | undefined }, rpc: string): Payment {
    if (!resp.payment) throw new CaseFailure(`${rpc}: response carries no payment`);
    return resp.payment;
  }

  status(p: Payment, expected: PaymentStatus, what: string): void {
    if (p.status !== expected) {
      throw new CaseFailure(
        `${what}: expected payment ${statusName(expected)}, got ${describePayment(p)}`,
      );
    }
  }

  succeeded(p: Payment, what: string): void {
    this.status(p, PaymentStatus.SUCCEEDED, what);
  }

  pending(p: Payment, what: string): void {
    this.status(p, PaymentStatus.PENDING_CONFIRMATION, what);
  }

  declined(p: Payment, reason: DeclineReason | readonly DeclineReason[], what: string): void {
    const reasons = Array.isArray(reason) ? reason : [reason as DeclineReason];
    const want = reasons.map(reasonName).join(" or ");
    if (p.status !== PaymentStatus.DECLINED || !reasons.includes(p.declineReason)) {
      throw new CaseFailure(`${what}: expected DECLINED (${want}), got ${describePayment(p)}`);
    }
  }

  money(m: Money | undefined, amount: bigint, what: string): void {
    if (!m) throw new CaseFailure(`${what}: expected ${amount} ${this.currency()}, got no amount`);
    if (m.amountMinor !== amount || m.currency !== this.currency()) {
      throw new CaseFailure(
        `${what}: expected ${amount} ${this.currency()}, got ${m.amountMinor} ${m.currency}`,
      );
    }
  }

  /**
   * Awaits a call that must fail with one of `codes`. Success, or another
   * code, fails the case. Returns the error for further checks.
   */
  async error(
    call: Promise<unknown>,
    codes: Code | readonly Code[],
    what: string,
  ): Promise<ConnectError> {
    const want = (Array.isArray(codes) ? codes : [codes as Code]) as Code[];
    const wantText = want.map(codeName).join(" or ");
    let result: unknown;
    try {
      result = await call;
    } catch (e) {
      const err = e instanceof RpcFailure ? e.error : ConnectError.from(e);
      if (want.includes(err.code)) return err;
      throw new CaseFailure(
        `${what}: expected error ${wantText}, got ${codeName(err.code)}: ${err.rawMessage}`,
      );
    }
    const p = (result as { payment?: Payment } | undefined)?.payment;
    const extra = p ? ` (payment ${describePayment(p)})` : "";
    throw new CaseFailure(`${what}: expected error ${wantText}, but the call succeeded${extra}`);
  }

  /** Reads a balance through test control (GetBalance) and compares it. */
  async balance(owner: BalanceOwner, expected: bigint, what: string): Promise<void> {
    const actual = await this.readBalance(owner);
    if (actual !== expected) {
      const who =
        "accountId" in owner ? `payer ${owner.accountId}` : `merchant ${owner.merchantId}`;
      throw new CaseFailure(`${what}: expected balance of ${who} ${expected}, got ${actual}`);
    }
  }

  async readBalance(owner: BalanceOwner): Promise<bigint> {
    const r = await this.control.getBalance({
      owner:
        "accountId" in owner
          ? { case: "accountId", value: owner.accountId }
          : { case: "merchantId", value: owner.merchantId },
    });
    if (!r.balance) throw new CaseFailure("GetBalance: response carries no balance");
    if (r.balance.currency !== this.currency()) {
      throw new CaseFailure(
        `GetBalance: expected currency ${this.currency()}, got ${JSON.stringify(r.balance.currency)}`,
      );
    }
    return r.balance.amountMinor;
  }

  /** The double-entry invariant: all balances of the currency sum to zero. */
  async ledgerBalanced(what = "ledger"): Promise<void> {
    const r = await this.control.getLedgerTotal({ currency: this.currency() });
    const total = r.total?.amountMinor ?? 0n;
    if (total !== 0n) {
      throw new CaseFailure(`${what}: GetLedgerTotal expected 0, got ${total} ${this.currency()}`);
    }
  }

  outcome(r: RecordResult | undefined, expected: RecordOutcome, what: string): void {
    if (!r) throw new CaseFailure(`${what}: no result for the record`);
    if (r.outcome !== expected) {
      throw new CaseFailure(
        `${what}: expected ${outcomeName(expected)}, got ${outcomeName(r.outcome)}`,
      );
    }
  }

  /** A timestamp in [lo, hi] seconds (inclusive), or fail. */
  timeWithin(t: Timestamp | undefined, lo: number, hi: number, what: string): void {
    if (!t) throw new CaseFailure(`${what}: timestamp not set`);
    const s = timestampMs(t) / 1000;
    if (s < lo || s > hi) {
      throw new CaseFailure(
        `${what}: expected between ${new Date(lo * 1000).toISOString()} and ${new Date(hi * 1000).toISOString()}, got ${new Date(s * 1000).toISOString()}`,
      );
    }
  }
}
