import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { type Clock, systemClock } from "@paycode/protocol";
import type { Money } from "@paycode/protocol/v1";
import {
  CancelAction,
  type GetSettlementReportResponse,
  MerchantService,
  type Payment,
  PaymentStatus,
  type Refund,
  type ScanRequestSchema,
  SettlementService,
} from "@paycode/protocol/v1";
import { isTransientError, PaycodeProtocolError, PaymentOutcomeUnknownError } from "./errors.js";
import { type AmountInput, assertCurrency, toMoney } from "./money.js";
import { checkMoney, FINAL_STATUSES, statusName, validatePayment } from "./validate.js";

export type Sleep = (ms: number) => Promise<void>;

/** Real-time sleep; tests inject one that advances a ManualClock instead. */
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Bounded exponential backoff for transport failures. */
export interface RetryPolicy {
  /** Total tries including the first; default 4. */
  maxAttempts: number;
  /** Wait before the second try; default 250 ms. */
  initialBackoffMs: number;
  /** Growth per try; default 2. */
  multiplier: number;
  /** Cap on one wait; default 4000 ms. */
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 4,
  initialBackoffMs: 250,
  multiplier: 2,
  maxBackoffMs: 4000,
};

/** Progress of `pay`, for a till's display or the CLI. */
export type MerchantEvent =
  | {
      kind: "retry";
      call: string;
      outTradeNo: string;
      attempt: number;
      delayMs: number;
      error: unknown;
    }
  | { kind: "pending"; payment: Payment }
  | { kind: "poll"; payment: Payment; waitedMs: number }
  | { kind: "poll-failed"; outTradeNo: string; error: unknown }
  | { kind: "timeout"; payment: Payment; waitedMs: number };

export interface MerchantClientOptions {
  /** A transport that carries the merchant API key (createPaycodeTransport with `bearer`). */
  transport: Transport;
  clock?: Clock;
  sleep?: Sleep;
  /** Between GetPayment polls of a pending payment; default 2000 ms. */
  pollIntervalMs?: number;
  /** How long to wait for the payer's confirmation before cancelling; default 60000 ms. */
  maxWaitMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Deadline of each call; default 10000 ms. */
  callTimeoutMs?: number;
  /** Which errors are transport failures; default: unavailable, deadline_exceeded, aborted. */
  isRetryable?: (err: unknown) => boolean;
  onEvent?: (event: MerchantEvent) => void;
}

export interface PayInput {
  /** The till's order number; the idempotency key, reused on every retry. */
  outTradeNo: string;
  amount: AmountInput;
  /** The scanned code: 18 digits or an offline QR text. */
  code: string;
  subject?: string;
}

export interface PayResult {
  /** The payment in its last known state. */
  payment: Payment;
  /** The payment was PENDING_CONFIRMATION at some point. */
  neededConfirmation: boolean;
  /** The payer did not confirm within maxWaitMs and the till cancelled. */
  timedOut: boolean;
  /** What the timeout's CancelPayment did, when it ran. */
  cancelAction?: CancelAction;
  /** GetPayment polls made. */
  polls: number;
}

export type PaymentLookup = { paymentId: string } | { outTradeNo: string };

export interface RefundInput {
  paymentId: string;
  /** The refund's idempotency key. */
  outRefundNo: string;
  amount: AmountInput;
  reason?: string;
}

const ORDER_NO = /^[\x20-\x7e]{1,64}$/;

/**
 * An online scanner / POS. `pay` runs the flow real tills use: Scan; if the
 * payer must confirm, poll until the payment is final or the wait runs out,
 * then cancel. Transport failures are retried with the same out_trade_no,
 * which the issuer deduplicates, so a lost answer never charges twice and a
 * retry never needs a new order number.
 */
export class MerchantClient {
  /** Raw RPC clients, for callers (the conformance harness) that must send what `pay` refuses to. */
  readonly rpc: Client<typeof MerchantService>;
  readonly settlementRpc: Client<typeof SettlementService>;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly pollIntervalMs: number;
  private readonly maxWaitMs: number;
  private readonly retry: RetryPolicy;
  private readonly callTimeoutMs: number;
  private readonly isRetryable: (err: unknown) => boolean;
  private readonly emit: (event: MerchantEvent) => void;

  constructor(options: MerchantClientOptions) {
    this.rpc = createClient(MerchantService, options.transport);
    this.settlementRpc = createClient(SettlementService, options.transport);
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    if (this.retry.maxAttempts < 1) throw new RangeError("retry.maxAttempts must be at least 1");
    if (this.pollIntervalMs <= 0) throw new RangeError("pollIntervalMs must be positive");
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.isRetryable = options.isRetryable ?? isTransientError;
    this.emit = options.onEvent ?? (() => {});
  }

  /** Scan → (poll → cancel on timeout). A decline is a result; errors are thrown. */
  async pay(input: PayInput): Promise<PayResult> {
    if (!ORDER_NO.test(input.outTradeNo)) {
      throw new RangeError("outTradeNo must be 1 to 64 printable ASCII characters");
    }
    if (!input.code) throw new RangeError("code is empty");
    const amount = toMoney(input.amount);
    const request: MessageInitShape<typeof ScanRequestSchema> = {
      outTradeNo: input.outTradeNo,
      amount,
      code: input.code,
      subject: input.subject ?? "",
    };
    const scanned = await this.withRetry("Scan", input.outTradeNo, async () => {
      const res = await this.rpc.scan(request, { timeoutMs: this.callTimeoutMs });
      return validatePayment(res.payment, "Scan");
    });
    checkSameOrder(scanned, input.outTradeNo, amount, "Scan");
    if (scanned.status !== PaymentStatus.PENDING_CONFIRMATION) {
      return { payment: scanned, neededConfirmation: false, timedOut: false, polls: 0 };
    }

    this.emit({ kind: "pending", payment: scanned });
    const started = this.clock.now();
    const deadline = started + this.maxWaitMs;
    let current = scanned;
    let polls = 0;
    for (;;) {
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) break;
      await this.sleep(Math.min(this.pollIntervalMs, remaining));
      try {
        current = await this.getPayment({ paymentId: scanned.paymentId });
        polls++;
      } catch (err) {
        // A lost poll is not a lost payment: keep polling until the deadline.
        if (!this.isRetryable(err)) throw err;
        this.emit({ kind: "poll-failed", outTradeNo: input.outTradeNo, error: err });
        continue;
      }
      checkSameOrder(current, input.outTradeNo, amount, "GetPayment");
      this.emit({ kind: "poll", payment: current, waitedMs: this.clock.now() - started });
      if (FINAL_STATUSES.has(current.status)) {
        return { payment: current, neededConfirmation: true, timedOut: false, polls };
      }
    }

    this.emit({ kind: "timeout", payment: current, waitedMs: this.clock.now() - started });
    // If the payer confirmed between the last poll and now, cancel refunds in
    // full: the till has told the customer the payment failed.
    const cancelled = await this.cancel({ outTradeNo: input.outTradeNo });
    checkSameOrder(cancelled.payment, input.outTradeNo, amount, "CancelPayment");
    return {
      payment: cancelled.payment,
      neededConfirmation: true,
      timedOut: true,
      cancelAction: cancelled.action,
      polls,
    };
  }

  /** Reads one of this merchant's payments. */
  async getPayment(lookup: PaymentLookup): Promise<Payment> {
    const request = lookupRequest(lookup);
    const payment = await this.withRetry("GetPayment", lookupKey(lookup), async () => {
      const res = await this.rpc.getPayment(request, { timeoutMs: this.callTimeoutMs });
      return validatePayment(res.payment, "GetPayment");
    });
    checkLookup(payment, lookup, "GetPayment");
    return payment;
  }

  /** Closes a pending payment or refunds a succeeded one in full. */
  async cancel(lookup: PaymentLookup): Promise<{ payment: Payment; action: CancelAction }> {
    const request = lookupRequest(lookup);
    const res = await this.withRetry("CancelPayment", lookupKey(lookup), () =>
      this.rpc.cancelPayment(request, { timeoutMs: this.callTimeoutMs }),
    );
    const payment = validatePayment(res.payment, "CancelPayment");
    checkLookup(payment, lookup, "CancelPayment");
    if (!(res.action in CancelAction) || res.action === CancelAction.UNSPECIFIED) {
      throw new PaycodeProtocolError(`CancelPayment returned action ${res.action}`);
    }
    const expected: Record<CancelAction, PaymentStatus[]> = {
      [CancelAction.UNSPECIFIED]: [],
      [CancelAction.CLOSED]: [PaymentStatus.CLOSED],
      [CancelAction.REFUNDED]: [PaymentStatus.REFUNDED],
      [CancelAction.NONE]: [PaymentStatus.DECLINED, PaymentStatus.CLOSED, PaymentStatus.REFUNDED],
    };
    if (!expected[res.action].includes(payment.status)) {
      throw new PaycodeProtocolError(
        `CancelPayment action ${CancelAction[res.action]} left the payment ${statusName(payment.status)}`,
      );
    }
    return { payment, action: res.action };
  }

  /** Refunds part or all of a succeeded payment; idempotent on outRefundNo. */
  async refund(input: RefundInput): Promise<{ refund: Refund; payment: Payment }> {
    if (!ORDER_NO.test(input.outRefundNo)) {
      throw new RangeError("outRefundNo must be 1 to 64 printable ASCII characters");
    }
    const amount = toMoney(input.amount);
    const request = {
      paymentId: input.paymentId,
      outRefundNo: input.outRefundNo,
      amount,
      reason: input.reason ?? "",
    };
    const res = await this.withRetry("RefundPayment", input.outRefundNo, () =>
      this.rpc.refundPayment(request, { timeoutMs: this.callTimeoutMs }),
    );
    const payment = validatePayment(res.payment, "RefundPayment");
    const refund = res.refund;
    const fail = (what: string): never => {
      throw new PaycodeProtocolError(`RefundPayment: ${what}`);
    };
    if (!refund) return fail("response has no refund");
    if (!refund.refundId) fail("refund has no refund_id");
    if (refund.paymentId !== input.paymentId || payment.paymentId !== input.paymentId) {
      fail("refund or payment is for another payment id");
    }
    if (refund.outRefundNo !== input.outRefundNo) fail("refund has another out_refund_no");
    const refunded = checkMoney(refund.amount, "refund amount", "RefundPayment");
    if (refunded.currency !== amount.currency || refunded.amountMinor !== amount.amountMinor) {
      fail("refund amount differs from the request");
    }
    if (!refund.createdAt) fail("refund has no created_at");
    return { refund, payment };
  }

  /** This merchant's totals for one UTC day (YYYY-MM-DD). */
  async settlementReport(date: string, currency: string): Promise<GetSettlementReportResponse> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new RangeError("date must be YYYY-MM-DD");
    assertCurrency(currency);
    const res = await this.withRetry("GetSettlementReport", date, () =>
      this.settlementRpc.getSettlementReport({ date, currency }, { timeoutMs: this.callTimeoutMs }),
    );
    const ctx = "GetSettlementReport";
    if (res.date !== date)
      throw new PaycodeProtocolError(`${ctx}: report is for ${res.date}, asked ${date}`);
    const totals: Record<string, Money> = {};
    for (const f of ["paymentTotal", "refundTotal", "offlineTotal", "netTotal"] as const) {
      totals[f] = checkMoney(res[f], f, ctx);
      if (totals[f].currency !== currency) {
        throw new PaycodeProtocolError(
          `${ctx}: ${f} is in ${totals[f].currency}, asked ${currency}`,
        );
      }
    }
    const net =
      totals["paymentTotal"]!.amountMinor +
      totals["offlineTotal"]!.amountMinor -
      totals["refundTotal"]!.amountMinor;
    if (net !== totals["netTotal"]!.amountMinor) {
      throw new PaycodeProtocolError(
        `${ctx}: net_total ≠ payment_total + offline_total − refund_total`,
      );
    }
    return res;
  }

  /**
   * Retries transport failures of one call with the same request. When the
   * tries run out, a call that may have moved money (Scan, CancelPayment,
   * RefundPayment) ends in PaymentOutcomeUnknownError; a read rethrows the
   * last transport error.
   */
  private async withRetry<T>(call: string, outTradeNo: string, op: () => Promise<T>): Promise<T> {
    const movesMoney = call === "Scan" || call === "CancelPayment" || call === "RefundPayment";
    let delayMs = this.retry.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (!this.isRetryable(err)) throw err;
        if (attempt >= this.retry.maxAttempts) {
          throw movesMoney ? new PaymentOutcomeUnknownError(outTradeNo, attempt, err) : err;
        }
        this.emit({ kind: "retry", call, outTradeNo, attempt, delayMs, error: err });
        await this.sleep(delayMs);
        delayMs = Math.min(delayMs * this.retry.multiplier, this.retry.maxBackoffMs);
      }
    }
  }
}

type LookupInit = {
  lookup: { case: "paymentId"; value: string } | { case: "outTradeNo"; value: string };
};

function lookupRequest(lookup: PaymentLookup): LookupInit {
  if ("paymentId" in lookup) {
    if (!lookup.paymentId) throw new RangeError("paymentId is empty");
    return { lookup: { case: "paymentId", value: lookup.paymentId } };
  }
  if (!lookup.outTradeNo) throw new RangeError("outTradeNo is empty");
  return { lookup: { case: "outTradeNo", value: lookup.outTradeNo } };
}

function lookupKey(lookup: PaymentLookup): string {
  return "paymentId" in lookup ? lookup.paymentId : lookup.outTradeNo;
}

function checkLookup(payment: Payment, lookup: PaymentLookup, ctx: string): void {
  const ok =
    "paymentId" in lookup
      ? payment.paymentId === lookup.paymentId
      : payment.outTradeNo === lookup.outTradeNo;
  if (!ok)
    throw new PaycodeProtocolError(`${ctx} returned a different payment (${payment.paymentId})`);
}

/** A payment returned for an order must be that order: same number, same amount. */
function checkSameOrder(payment: Payment, outTradeNo: string, amount: Money, ctx: string): void {
  if (payment.outTradeNo !== outTradeNo) {
    throw new PaycodeProtocolError(
      `${ctx} returned out_trade_no ${JSON.stringify(payment.outTradeNo)}, sent ${JSON.stringify(outTradeNo)}`,
    );
  }
  if (
    payment.amount!.currency !== amount.currency ||
    payment.amount!.amountMinor !== amount.amountMinor
  ) {
    throw new PaycodeProtocolError(`${ctx} returned a payment for another amount`);
  }
}
