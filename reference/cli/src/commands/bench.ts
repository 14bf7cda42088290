import { addBenchCommands } from "@paycode/bench/cli";
import { type Command, InvalidArgumentError } from "commander";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

function groupSizes(value: string): number[] {
  const sizes = value.split(",").map((v) => Number(v.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n <= 0 || n > 64)) {
    throw new InvalidArgumentError("must be a comma-separated list of integers from 1 to 64");
  }
  return sizes;
}

/**
 * `paycode bench micro|load|floor-http|summarize` from @paycode/bench, plus
 * `seed-wallets`, which writes straight into a reference store, and
 * `scan-layers`, which times a Scan in-process through the store and the issuer.
 */
export function registerBench(program: Command): void {
  const bench = program
    .command("bench")
    .description(
      "benchmarks: codec micro-benchmarks and Scan load against floors measured in the same run",
    );
  addBenchCommands(bench);

  bench
    .command("seed-wallets")
    .description(
      "bulk-create funded bench wallets directly in a store (test stores only) and write their (handle, seed) list",
    )
    .requiredOption("--store <url>", "store URL, as for `paycode serve --store`")
    .requiredOption("--count <n>", "wallets to create", positiveInt)
    .requiredOption("--out <file>", "where to write the wallet list (contains seeds in clear)")
    .option(
      "--master-key-file <file>",
      "master key file (else PAYCODE_MASTER_KEY), as the server uses",
    )
    .option("--batch <n>", "wallets per transaction", positiveInt, 5000)
    .action(
      async (o: {
        store: string;
        count: number;
        out: string;
        masterKeyFile?: string;
        batch: number;
      }) => {
        const { seedWallets } = await import("../seed-wallets.js");
        const r = await seedWallets({
          store: o.store,
          count: o.count,
          out: o.out,
          batch: o.batch,
          ...(o.masterKeyFile ? { masterKeyFile: o.masterKeyFile } : {}),
          onProgress: (done) => process.stderr.write(`  seeded ${done}/${o.count}\n`),
        });
        process.stdout.write(
          `seeded ${r.count} wallets in ${r.seconds.toFixed(1)} s (${Math.round(r.count / r.seconds)}/s); list in ${o.out}\n`,
        );
      },
    );

  bench
    .command("scan-layers")
    .description(
      "time a Scan in this process (no HTTP) through the store alone and through the issuer, by Scans submitted together, on a new store",
    )
    .requiredOption(
      "--store <url>",
      "a new store, as for `paycode serve --store` (wallets are made here)",
    )
    .option("--wallets <n>", "funded wallets the Scans are spread over", positiveInt, 5000)
    .option("--scans <n>", "measured Scans per layer and group size", positiveInt, 8000)
    .option(
      "--groups <list>",
      "Scans submitted together, comma-separated (1-64)",
      groupSizes,
      [1, 4, 16],
    )
    .option(
      "--master-key-file <file>",
      "master key file (else PAYCODE_MASTER_KEY, or a SQLite store's own key file)",
    )
    .option("--json <file>", "also write the report as JSON")
    .action(
      async (o: {
        store: string;
        wallets: number;
        scans: number;
        groups: number[];
        masterKeyFile?: string;
        json?: string;
      }) => {
        const { scanLayersBench, writeScanLayersJson } = await import("../scan-layers-bench.js");
        const { formatScanLayersReport } = await import("@paycode/bench");
        const r = await scanLayersBench({
          store: o.store,
          wallets: o.wallets,
          scans: o.scans,
          groups: o.groups,
          ...(o.masterKeyFile ? { masterKeyFile: o.masterKeyFile } : {}),
          onProgress: (line) => process.stderr.write(`  ${line}\n`),
        });
        if (o.json) await writeScanLayersJson(o.json, r);
        process.stdout.write(`${formatScanLayersReport(r)}\n`);
      },
    );
}
