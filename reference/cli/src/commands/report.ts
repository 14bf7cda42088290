// `paycode report`: a merchant's settlement totals for one UTC day.

import { formatMoney, MerchantClient } from "@paycode/sdk";
import { type Command, Option } from "commander";
import {
  addApiKeyOption,
  addServerOptions,
  EXIT_CODES_HELP,
  openTransport,
  run,
  type ServerOptions,
  toJson,
} from "./client-common.js";

/** Registers `paycode report`. */
export function registerReport(program: Command): void {
  const cmd = program
    .command("report")
    .description("settlement report of the merchant for one UTC day")
    .addOption(new Option("--date <YYYY-MM-DD>", "the UTC day (default: today)"))
    .addOption(new Option("--currency <code>", "currency of the totals").default("CNY"))
    .option("--json", "print as JSON");
  addApiKeyOption(addServerOptions(cmd)).addHelpText("after", EXIT_CODES_HELP);
  cmd.action(
    run(
      async (
        opts: ServerOptions & { apiKey: string; date?: string; currency: string; json?: boolean },
      ) => {
        const date = opts.date ?? new Date().toISOString().slice(0, 10);
        const transport = openTransport(opts, opts.apiKey);
        try {
          const merchant = new MerchantClient({
            transport: transport.transport,
            callTimeoutMs: opts.timeout,
          });
          const r = await merchant.settlementReport(date, opts.currency);
          if (opts.json) {
            console.log(
              toJson({
                date: r.date,
                currency: opts.currency,
                paymentCount: r.paymentCount,
                paymentTotalMinor: r.paymentTotal!.amountMinor,
                refundCount: r.refundCount,
                refundTotalMinor: r.refundTotal!.amountMinor,
                offlineCount: r.offlineCount,
                offlineTotalMinor: r.offlineTotal!.amountMinor,
                netTotalMinor: r.netTotal!.amountMinor,
              }),
            );
            return;
          }
          const rows: [string, string, string][] = [
            ["online payments", String(r.paymentCount), formatMoney(r.paymentTotal)],
            ["offline settled", String(r.offlineCount), formatMoney(r.offlineTotal)],
            // A refund total is money going back: shown negative, but never as "-0.00".
            [
              "refunds",
              String(r.refundCount),
              r.refundTotal && r.refundTotal.amountMinor > 0n
                ? `-${formatMoney(r.refundTotal)}`
                : formatMoney(r.refundTotal),
            ],
            ["net", "", formatMoney(r.netTotal)],
          ];
          console.log(`settlement report ${r.date} (UTC)`);
          for (const [label, count, total] of rows) {
            console.log(`  ${label.padEnd(16)} ${count.padStart(6)}  ${total.padStart(20)}`);
          }
        } finally {
          transport.close();
        }
      },
    ),
  );
}
