// `paycode payment get|cancel|refund`: a merchant's view of one payment.
import { randomBytes } from "node:crypto";
import { toJson as messageToJson } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  CancelAction,
  type Payment,
  PaymentSchema,
  PaymentStatus,
  RefundSchema,
} from "@paycode/protocol/v1";
import {
  declineReasonName,
  describeError,
  formatAmount,
  formatMoney,
  MerchantClient,
  type PaymentLookup,
  PaymentOutcomeUnknownError,
  statusName,
} from "@paycode/sdk";
import { UsageError } from "@paycode/sdk/cli";
import { type Command, Option } from "commander";
import { type AmountOptions, addAmountOptions, amountFrom } from "./amount-options.js";
import {
  addApiKeyOption,
  addOutputOptions,
  addServerOptions,
  EXIT_CODES_HELP,
  emit,
  type OutputOptions,
  openTransport,
  run,
  type ServerOptions,
} from "./client-common.js";

interface LookupOptions extends ServerOptions, OutputOptions {
  apiKey: string;
  paymentId?: string;
  outTradeNo?: string;
}

const PAYMENT_FIELDS = ["payment-id", "status", "out-trade-no", "amount", "refunded", "date"];

function lookupOptions(cmd: Command): Command {
  return addApiKeyOption(
    addServerOptions(
      cmd
        .addOption(new Option("--payment-id <id>", "the issuer's payment id"))
        .addOption(
          new Option("--out-trade-no <no>", "the till's order number").conflicts("paymentId"),
        ),
    ),
  );
}

function lookupFrom(opts: LookupOptions): PaymentLookup {
  if (opts.paymentId !== undefined) return { paymentId: opts.paymentId };
  if (opts.outTradeNo !== undefined) return { outTradeNo: opts.outTradeNo };
  throw new UsageError("give --payment-id ID or --out-trade-no NO");
}

function openMerchant(opts: ServerOptions & { apiKey: string }) {
  const transport = openTransport(opts, opts.apiKey);
  const merchant = new MerchantClient({
    transport: transport.transport,
    callTimeoutMs: opts.timeout,
  });
  return { merchant, close: () => transport.close() };
}

function iso(t: Payment["createdAt"]): string {
  return t ? new Date(timestampMs(t)).toISOString() : "";
}

function paymentValues(p: Payment): Record<string, string> {
  return {
    "payment-id": p.paymentId,
    status: statusName(p.status),
    "out-trade-no": p.outTradeNo,
    amount: p.amount ? formatAmount(p.amount.amountMinor, p.amount.currency) : "",
    refunded: p.refunded ? formatAmount(p.refunded.amountMinor, p.refunded.currency) : "0",
    date: iso(p.createdAt).slice(0, 10),
  };
}

/** A payment, several lines, for people. */
export function describePayment(p: Payment): string[] {
  const lines = [
    `${statusName(p.status)}  payment ${p.paymentId}  ${formatMoney(p.amount)}  order ${p.outTradeNo}`,
  ];
  if (p.status === PaymentStatus.DECLINED) {
    lines.push(`declined: ${declineReasonName(p.declineReason)}`);
  }
  if (p.refunded && p.refunded.amountMinor > 0n) lines.push(`refunded: ${formatMoney(p.refunded)}`);
  if (p.subject) lines.push(`subject: ${p.subject}`);
  if (p.status === PaymentStatus.PENDING_CONFIRMATION && p.confirmDeadline) {
    lines.push(`waiting for the payer's password until ${iso(p.confirmDeadline)}`);
  }
  lines.push(`created ${iso(p.createdAt)}, updated ${iso(p.updatedAt)} (issuer clock)`);
  return lines;
}

/** Registers `paycode payment get|cancel|refund`. */
export function registerPayment(program: Command): void {
  const payment = program
    .command("payment")
    .description("a merchant's payments: look one up, cancel it, or refund it")
    .addHelpText("after", EXIT_CODES_HELP);

  addOutputOptions(
    lookupOptions(
      payment
        .command("get")
        .description("show one payment, by payment id or order number")
        .addHelpText(
          "after",
          '\nAfter `paycode scan` ended with "outcome unknown", this tells what happened.',
        ),
    ),
    PAYMENT_FIELDS,
  ).action(
    run(async (opts: LookupOptions) => {
      const lookup = lookupFrom(opts);
      const { merchant, close } = openMerchant(opts);
      try {
        const p = await merchant.getPayment(lookup);
        emit(opts, {
          values: paymentValues(p),
          json: messageToJson(PaymentSchema, p),
          lines: () => describePayment(p),
        });
      } finally {
        close();
      }
    }),
  );

  addOutputOptions(
    lookupOptions(
      payment
        .command("cancel")
        .description(
          "cancel a payment: closes it while it waits for the payer, refunds it in full once succeeded",
        ),
    ),
    [...PAYMENT_FIELDS, "action"],
  ).action(
    run(async (opts: LookupOptions) => {
      const lookup = lookupFrom(opts);
      const { merchant, close } = openMerchant(opts);
      try {
        const { payment: p, action } = await merchant.cancel(lookup).catch((err: unknown) => {
          if (err instanceof PaymentOutcomeUnknownError) {
            throw new Error(
              `${describeError(err.cause)}; outcome unknown: run the same cancel again (it is idempotent)`,
            );
          }
          throw err;
        });
        const what =
          action === CancelAction.CLOSED
            ? "closed: no money moved"
            : action === CancelAction.REFUNDED
              ? `refunded in full: ${formatMoney(p.amount)} back to the payer`
              : "nothing to do: the payment was already final";
        emit(opts, {
          values: { ...paymentValues(p), action: CancelAction[action] },
          json: { action: CancelAction[action], payment: messageToJson(PaymentSchema, p) },
          lines: () => [...describePayment(p), what],
        });
      } finally {
        close();
      }
    }),
  );

  const refund = payment
    .command("refund")
    .description("refund part or all of a succeeded payment")
    .addOption(
      new Option(
        "--out-refund-no <no>",
        "refund number, the idempotency key (default: generated and printed)",
      ),
    )
    .option("--reason <text>", "why", "");
  addAmountOptions(refund);
  addOutputOptions(lookupOptions(refund), [
    "refund-id",
    "out-refund-no",
    "payment-id",
    "status",
    "refunded",
  ]).action(
    run(async (opts: LookupOptions & AmountOptions & { outRefundNo?: string; reason: string }) => {
      const amount = amountFrom(opts);
      const lookup = lookupFrom(opts);
      const outRefundNo = opts.outRefundNo ?? `rf-${Date.now()}-${randomBytes(4).toString("hex")}`;
      if (opts.outRefundNo === undefined && !opts.print && !opts.json) {
        process.stderr.write(`refund number ${outRefundNo}\n`);
      }
      const { merchant, close } = openMerchant(opts);
      try {
        const paymentId =
          "paymentId" in lookup ? lookup.paymentId : (await merchant.getPayment(lookup)).paymentId;
        const r = await merchant
          .refund({ paymentId, outRefundNo, amount, reason: opts.reason })
          .catch((err: unknown) => {
            if (err instanceof PaymentOutcomeUnknownError) {
              throw new Error(
                `${describeError(err.cause)}; outcome unknown: run it again with --out-refund-no ${outRefundNo} (never a new number)`,
              );
            }
            throw err;
          });
        const p = r.payment;
        emit(opts, {
          values: {
            "refund-id": r.refund.refundId,
            "out-refund-no": r.refund.outRefundNo,
            "payment-id": p.paymentId,
            status: statusName(p.status),
            refunded: p.refunded ? formatAmount(p.refunded.amountMinor, p.refunded.currency) : "0",
          },
          json: {
            refund: messageToJson(RefundSchema, r.refund),
            payment: messageToJson(PaymentSchema, p),
          },
          lines: () => [
            `refund ${r.refund.refundId} of ${formatMoney(r.refund.amount)} (refund number ${r.refund.outRefundNo})`,
            ...describePayment(p),
          ],
        });
      } finally {
        close();
      }
    }),
  );
}
