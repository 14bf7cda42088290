// `paycode terminal ...`: a double-offline terminal (bus, metro gate) with a durable journal.

import { Code, ConnectError } from "@connectrpc/connect";
import { RecordOutcome } from "@paycode/protocol/v1";
import { formatAmount, OfflineTerminal, type UploadProgress } from "@paycode/sdk";
import { CliError } from "@paycode/sdk/cli";
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

function journalOption(): Option {
  return new Option("--journal <file>", "the terminal's SQLite journal (created if missing)")
    .env("PAYCODE_JOURNAL")
    .makeOptionMandatory();
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Registers `paycode terminal sync|accept|upload|status`. */
export function registerTerminal(program: Command): void {
  const terminal = program
    .command("terminal")
    .description(
      "an offline terminal: sync keys online, accept signed offline codes offline, upload later",
    )
    .addHelpText("after", EXIT_CODES_HELP);

  addApiKeyOption(
    addServerOptions(
      terminal
        .command("sync")
        .description("fetch issuer keys, revocation list and profile")
        .addOption(journalOption()),
    ),
    "terminal",
  ).action(
    run(async (opts: ServerOptions & { apiKey: string; journal: string }) => {
      const transport = openTransport(opts, opts.apiKey);
      const t = OfflineTerminal.open({
        journalPath: opts.journal,
        transport: transport.transport,
        followIssuerClock: true,
      });
      try {
        const s = await t.sync();
        console.log(
          `synced: revocation list v${s.revocationListVersion} (${s.revokedWallets} wallets), ` +
            `keys valid for ${s.profile!.maxKeyAgeSeconds} s from ${new Date(s.keysSyncedAtMs!).toISOString()}`,
        );
      } finally {
        t.close();
        transport.close();
      }
    }),
  );

  const accept = terminal
    .command("accept")
    .description("accept an offline code, with no network; journals it before saying yes")
    .argument("[qr-text]", "the scanned QR text (PC1:...); read from stdin when absent or -")
    .addOption(journalOption())
    .option("--json", "print the decision as JSON");
  addAmountOptions(accept);
  accept.action(
    run(
      async (
        qrArg: string | undefined,
        opts: AmountOptions & { journal: string; json?: boolean },
      ) => {
        const amount = amountFrom(opts);
        const qr = qrArg === undefined || qrArg === "-" ? (await readStdin()).trim() : qrArg;
        const t = OfflineTerminal.open({ journalPath: opts.journal, followIssuerClock: true });
        try {
          const r = t.accept(qr, amount);
          if (opts.json) {
            console.log(toJson(r));
            return;
          }
          if (r.accepted) {
            const rec = r.record;
            console.log(
              `ACCEPTED  ${formatAmount(rec.amountMinor, rec.currency)} ${rec.currency}  wallet ${rec.walletId} #${rec.counter}  record ${rec.recordId}`,
            );
          } else {
            console.log(`REFUSED  ${r.reason}: ${r.message}`);
          }
        } finally {
          t.close();
        }
      },
    ),
  );

  addApiKeyOption(
    addServerOptions(
      terminal
        .command("upload")
        .description(
          "upload journaled records in idempotent batches; resumes an interrupted upload",
        )
        .addOption(journalOption())
        .addOption(
          new Option("--batch-size <n>", "records per batch (1..1000)")
            .default(100)
            .argParser(positiveInt("--batch-size")),
        ),
    ),
    "terminal",
  ).action(
    run(async (opts: ServerOptions & { apiKey: string; journal: string; batchSize: number }) => {
      const transport = openTransport(opts, opts.apiKey);
      const t = OfflineTerminal.open({
        journalPath: opts.journal,
        transport: transport.transport,
        followIssuerClock: true,
      });
      const tty = process.stderr.isTTY;
      const onProgress = (p: UploadProgress) => {
        const line = `uploaded ${p.recordsSent}/${p.recordsTotal} records in ${p.batchesSent} batch(es)${p.resumed ? " (resumed " + p.batchId + ")" : ""}`;
        process.stderr.write(tty ? `\r${line}` : `${line}\n`);
      };
      try {
        const s = await t
          .upload({ batchSize: opts.batchSize, onProgress })
          .catch((err: unknown) => {
            // [SEC-21] The issuer refuses the terminal for a while; nothing of the batch was decided.
            if (err instanceof ConnectError && err.code === Code.ResourceExhausted) {
              if (tty) process.stderr.write("\n");
              throw new CliError(
                `the issuer throttles this terminal after too many invalid or malformed records; the batch stays journaled and \`paycode terminal upload\` resumes it later (${err.rawMessage})`,
              );
            }
            throw err;
          });
        if (tty && s.batches > 0) process.stderr.write("\n");
        const outcomes = Object.entries(s.outcomes)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ");
        // Spec §10.3: a duplicate of another terminal or a till is paid by the issuer.
        const liable =
          s.issuerLiable > 0 ? ` (${s.issuerLiable} of them paid by the issuer: duplicates)` : "";
        console.log(
          s.records === 0
            ? "nothing to upload"
            : `uploaded ${s.records} records: ${outcomes}${liable}`,
        );
      } finally {
        t.close();
        transport.close();
      }
    }),
  );

  terminal
    .command("status")
    .description("key age, records waiting for upload, and settlement outcomes")
    .addOption(journalOption())
    .action(
      run((opts: { journal: string }) => {
        const t = OfflineTerminal.open({ journalPath: opts.journal, followIssuerClock: true });
        try {
          const s = t.status();
          if (s.keysSyncedAtMs === undefined) console.log("keys: never synced");
          else {
            console.log(
              `keys: synced ${ago(s.keyAgeMs!)} ago, ${s.keysFresh ? "fresh" : "STALE (sync before accepting)"}; ` +
                `revocation list v${s.revocationListVersion} (${s.revokedWallets} wallets)`,
            );
          }
          const records = t.records();
          const outcomes = new Map<string, number>();
          for (const r of records) {
            if (r.outcome === undefined) continue;
            const name = RecordOutcome[r.outcome] ?? String(r.outcome);
            outcomes.set(name, (outcomes.get(name) ?? 0) + 1);
          }
          console.log(
            `records: ${records.length} journaled, ${s.unbatchedRecords} not yet uploaded, ${s.openBatches} batch(es) awaiting an answer`,
          );
          if (outcomes.size > 0) {
            console.log(`settled: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")}`);
          }
        } finally {
          t.close();
        }
      }),
    );
}
