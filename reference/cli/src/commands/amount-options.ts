// --amount / --amount-minor / --currency, parsed exactly (never through floats).

import { assertCurrency, parseAmount, parseMinorAmount } from "@paycode/sdk";
import { UsageError } from "@paycode/sdk/cli";
import { type Command, Option } from "commander";

export interface AmountOptions {
  amount?: string;
  amountMinor?: string;
  currency: string;
}

export function addAmountOptions(cmd: Command, defaultCurrency = "CNY"): Command {
  return cmd
    .addOption(
      new Option(
        "--amount <decimal>",
        "amount in major units, exactly: 12.34 CNY is 1234 fen; no more decimals than the currency has",
      ),
    )
    .addOption(
      new Option("--amount-minor <integer>", "amount in minor units (fen, cents): 1234").conflicts(
        "amount",
      ),
    )
    .addOption(new Option("--currency <code>", "ISO 4217 currency").default(defaultCurrency));
}

/** The amount in minor units; bad input is a usage error (exit 2). */
export function amountFrom(opts: AmountOptions): { currency: string; amountMinor: bigint } {
  try {
    return parseAmountOptions(opts);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function parseAmountOptions(opts: AmountOptions): { currency: string; amountMinor: bigint } {
  assertCurrency(opts.currency);
  if (opts.amount !== undefined)
    return { currency: opts.currency, amountMinor: parseAmount(opts.amount, opts.currency) };
  if (opts.amountMinor !== undefined)
    return { currency: opts.currency, amountMinor: parseMinorAmount(opts.amountMinor) };
  throw new Error("give the amount with --amount 12.34 or --amount-minor 1234");
}
