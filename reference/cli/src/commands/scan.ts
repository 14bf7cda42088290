// `paycode scan`: a till charging a scanned code (scan → poll → cancel on timeout).
import { randomBytes } from "node:crypto";
import { toJson as messageToJson } from "@bufbuild/protobuf";
import { CancelAction, PaymentSchema, PaymentStatus } from "@paycode/protocol/v1";
import {
  declineReasonName,
  describeError,
  formatMoney,
  MerchantClient,
  type MerchantEvent,
  PaymentOutcomeUnknownError,
  type PayResult,
  statusName,
} from "@paycode/sdk";
import { type Command, Option } from "commander";
import { type AmountOptions, addAmountOptions, amountFrom } from "./amount-options.js";
import {
  addApiKeyOption,
  addServerOptions,
  EXIT_CODES_HELP,
  openTransport,
  positiveInt,
  readStdin,
  run,
  type ServerOptions,
  toJson,
} from "./client-common.js";

interface ScanOptions extends ServerOptions, AmountOptions {
  apiKey: string;
  code: string;
  outTradeNo?: string;
  subject: string;
  pollInterval: number;
  maxWait: number;
  attempts: number;
  json?: boolean;
}

/** A fresh order number: time plus randomness, printable ASCII, well under 64 characters. */
export function newOrderNumber(now = Date.now()): string {
  return `pc-${now}-${randomBytes(4).toString("hex")}`;
}

/** Registers `paycode scan`. */
export function registerScan(program: Command): void {
  const cmd = program
    .command("scan")
    .description(
      "charge a scanned payment code; waits for the payer's confirmation when needed and cancels on timeout",
    )
    .addOption(
      new Option(
        "--code <code>",
        "the scanned code (18 digits or PC1:... QR text); - reads stdin",
      ).makeOptionMandatory(),
    )
    .addOption(
      new Option(
        "--out-trade-no <no>",
        "order number, the idempotency key (default: generated and printed)",
      ),
    )
    .option("--subject <text>", "shown to the payer", "")
    .addOption(
      new Option("--poll-interval <ms>", "between status polls")
        .default(2000)
        .argParser(positiveInt("--poll-interval")),
    )
    .addOption(
      new Option("--max-wait <ms>", "how long to wait for confirmation")
        .default(60_000)
        .argParser(positiveInt("--max-wait")),
    )
    .addOption(
      new Option("--attempts <n>", "tries per call on network failure, same order number")
        .default(4)
        .argParser(positiveInt("--attempts")),
    )
    .option("--json", "print the final payment as JSON");
  addAmountOptions(cmd);
  addApiKeyOption(addServerOptions(cmd));
  cmd.addHelpText(
    "after",
    `${EXIT_CODES_HELP}

A network failure is retried with the same order number, which the issuer
deduplicates. If the outcome stays unknown, the command prints the order
number and the command that queries it (paycode payment get --out-trade-no
NO), and exits 1; never re-scan under a new number. paycode payment cancel
--out-trade-no NO closes or refunds it.`,
  );
  cmd.action(
    run(async (opts: ScanOptions) => {
      const amount = amountFrom(opts);
      const code = opts.code === "-" ? (await readStdin()).trim() : opts.code;
      const outTradeNo = opts.outTradeNo ?? newOrderNumber();
      const transport = openTransport(opts, opts.apiKey);
      const started = Date.now();
      const merchant = new MerchantClient({
        transport: transport.transport,
        pollIntervalMs: opts.pollInterval,
        maxWaitMs: opts.maxWait,
        retry: { maxAttempts: opts.attempts },
        callTimeoutMs: opts.timeout,
        onEvent: (e) => progress(e, started),
      });
      if (opts.outTradeNo === undefined) process.stderr.write(`order ${outTradeNo}\n`);
      let result: PayResult;
      try {
        result = await merchant.pay({ outTradeNo, amount, code, subject: opts.subject });
      } catch (err) {
        if (err instanceof PaymentOutcomeUnknownError) {
          throw new Error(
            `${describeError(err.cause)}; outcome unknown, do not scan again: find out with ${paymentGetCommand(cmd, opts, outTradeNo)}`,
          );
        }
        throw err;
      } finally {
        transport.close();
      }
      if (opts.json) {
        console.log(toJson({ ...result, payment: messageToJson(PaymentSchema, result.payment) }));
        return;
      }
      console.log(describeResult(result));
    }),
  );
}

/** A shell word, quoted only when it needs to be. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * The `paycode payment get` command that tells what became of the order:
 * the same server and wire options; the API key by reference, never printed.
 */
export function paymentGetCommand(cmd: Command, opts: ScanOptions, outTradeNo: string): string {
  const words = ["paycode", "payment", "get"];
  if (cmd.getOptionValueSource("server") !== "env") words.push("--server", shellWord(opts.server!));
  if (opts.protocol !== "connect") words.push("--protocol", opts.protocol);
  if (opts.httpVersion !== undefined) words.push("--http-version", opts.httpVersion);
  if (cmd.getOptionValueSource("apiKey") !== "env") words.push("--api-key", "KEY");
  words.push("--out-trade-no", shellWord(outTradeNo));
  return words.join(" ");
}

function progress(e: MerchantEvent, started: number): void {
  const waited = Math.round((Date.now() - started) / 1000);
  switch (e.kind) {
    case "pending":
      process.stderr.write(`payment ${e.payment.paymentId} needs the payer's password; waiting…\n`);
      break;
    case "poll":
      if (process.stderr.isTTY) process.stderr.write(`\rwaiting for confirmation… ${waited} s `);
      break;
    case "poll-failed":
      process.stderr.write(`\npoll failed (${describeError(e.error)}); still waiting\n`);
      break;
    case "retry":
      process.stderr.write(
        `${e.call} failed (${describeError(e.error)}); retry ${e.attempt} in ${e.delayMs} ms with the same order number\n`,
      );
      break;
    case "timeout":
      process.stderr.write(`\nno confirmation after ${waited} s; cancelling\n`);
      break;
  }
}

export function describeResult(r: PayResult): string {
  const p = r.payment;
  const head = `${statusName(p.status)}  payment ${p.paymentId}  ${formatMoney(p.amount)}  order ${p.outTradeNo}`;
  switch (p.status) {
    case PaymentStatus.DECLINED:
      return `${head}\ndeclined: ${declineReasonName(p.declineReason)}`;
    case PaymentStatus.CLOSED:
      return `${head}\n${r.timedOut ? "the payer did not confirm in time; closed, no money moved" : "closed, no money moved"}`;
    case PaymentStatus.REFUNDED:
      return r.cancelAction === CancelAction.REFUNDED
        ? `${head}\nconfirmed just after the timeout; refunded in full`
        : `${head}\nrefunded`;
    default:
      return r.neededConfirmation ? `${head}\nconfirmed by the payer` : head;
  }
}
