// `paycode prune`: the retention of spec §12.3 ([SEC-14]) run by hand or from cron.

import { UsageError } from "@paycode/sdk/cli";
import { DEFAULT_SCAN_THROTTLE } from "@paycode/server";
import type { Command } from "commander";
import { run } from "./client-common.js";
import { EXIT_STATUS_HELP, withStore } from "./operator-store.js";

const DAY_MS = 86_400_000;
const BATCH = 10_000;

export interface PruneOptions {
  store: string;
  retentionDays: string;
  json?: boolean;
}

/** Registers `paycode prune`. */
export function registerPrune(program: Command): void {
  program
    .command("prune")
    .description("delete junk Scan declines (CODE_INVALID, CODE_MALFORMED) past their retention")
    .option("--store <url>", "sqlite:FILE or postgres://USER@HOST/DB", "sqlite:paycode.db")
    .option(
      "--retention-days <days>",
      "keep junk declines this many days (at least 1)",
      String(DEFAULT_SCAN_THROTTLE.junkRetentionMs / DAY_MS),
    )
    .option("--json", "print the count as JSON")
    .addHelpText(
      "after",
      `
Junk declines are Scan payments declined CODE_INVALID or CODE_MALFORMED (spec
§12.3, [SEC-14]); the per-merchant failure counts stay.
\`paycode serve\` prunes with the same rule every few seconds; this command is
for stores whose servers are stopped, or to prune from a scheduler. Times are
the system clock, which is the issuer clock of a production server.
${EXIT_STATUS_HELP}`,
    )
    .action(run(prune));
}

async function prune(opts: PruneOptions): Promise<void> {
  const days = Number(opts.retentionDays);
  // [SEC-14] At least 24 hours, so a retried Scan and GetPayment still find the payment.
  if (!Number.isFinite(days) || days < 1) {
    throw new UsageError("--retention-days must be a number of days, at least 1");
  }
  await withStore(opts.store, async (store) => {
    const before = Date.now() - days * DAY_MS;
    let deleted = 0;
    for (;;) {
      const n = await store.transaction((tx) => tx.pruneJunkPayments(before, BATCH));
      deleted += n;
      if (n < BATCH) break;
    }
    console.log(opts.json ? JSON.stringify({ deleted }) : `deleted ${deleted} junk declines`);
  });
}
