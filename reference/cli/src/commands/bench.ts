import { addBenchCommands } from "@paycode/bench/cli";
import { type Command, InvalidArgumentError } from "commander";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

/**
 * `paycode bench micro|load|floor-http|summarize` from @paycode/bench, plus
 * `seed-wallets`, which writes straight into a reference store.
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
}
