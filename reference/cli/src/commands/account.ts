// `paycode account ...`: operator actions on payer accounts, straight on the store.
import { systemClock } from "@paycode/protocol";
import { UsageError } from "@paycode/sdk/cli";
import { PASSWORD_LOCK_FAILURES, unlockAccount } from "@paycode/server";
import type { Command } from "commander";
import { run, toJson } from "./client-common.js";
import { operatorAudit, withStore } from "./operator-store.js";

export const ACCOUNT_SUMMARY =
  "operator actions on the store: list accounts locked by wrong passwords, unlock one";

const EXIT_HELP = `
Exit status:
  0  done (also when the account had nothing to unlock)
  1  the store could not be opened or the command failed (one line on stderr)
  2  the command line is wrong: unknown option, missing account id, bad --store`;

const STORE_HELP = "sqlite:FILE or postgres://USER@HOST/DB (the server's --store)";

export function registerAccount(program: Command): void {
  const account = program.command("account").description(ACCOUNT_SUMMARY);

  account
    .command("unlock")
    .description(
      `forget an account's consecutive wrong payment passwords: ends a lock (after ${PASSWORD_LOCK_FAILURES}) or a delay (spec §9.2, [SEC-19])`,
    )
    .argument("<account-id>", "the payer account id")
    .requiredOption("--store <url>", STORE_HELP)
    .option(
      "--operator <name>",
      "who unlocks, for the audit event (in the store's audit log and on stderr)",
      "operator",
    )
    .addHelpText("after", EXIT_HELP)
    .action(
      run(async (accountId: string, opts: { store: string; operator: string }) => {
        if (accountId.length === 0 || accountId.length > 128) {
          throw new UsageError("the account id must be 1 to 128 characters");
        }
        const failures = await withStore(opts.store, (store) =>
          unlockAccount(
            { store, clock: systemClock, audit: operatorAudit(store) },
            accountId,
            opts.operator,
          ),
        );
        if (failures === 0) {
          console.log(`account ${accountId} has no wrong passwords counted; nothing to unlock`);
        } else {
          const was = failures >= PASSWORD_LOCK_FAILURES ? "locked" : "delayed";
          console.log(
            `account ${accountId} unlocked (was ${was} after ${failures} consecutive wrong passwords)`,
          );
        }
      }),
    );

  account
    .command("locked")
    .description(
      `list the accounts locked by ${PASSWORD_LOCK_FAILURES} consecutive wrong passwords`,
    )
    .requiredOption("--store <url>", STORE_HELP)
    .option("--json", "print the result as JSON")
    .addHelpText("after", EXIT_HELP)
    .action(
      run(async (opts: { store: string; json?: boolean }) => {
        const rows = await withStore(opts.store, (store) =>
          store.read((tx) => tx.listPasswordFailures(PASSWORD_LOCK_FAILURES)),
        );
        if (opts.json) {
          console.log(
            toJson(
              rows.map((r) => ({
                accountId: r.accountId,
                failures: r.failures,
                lockedAt: new Date(r.updatedAt).toISOString(),
              })),
            ),
          );
          return;
        }
        if (rows.length === 0) console.log("no locked accounts");
        for (const r of rows) {
          console.log(`${r.accountId}  locked since ${new Date(r.updatedAt).toISOString()}`);
        }
      }),
    );
}
