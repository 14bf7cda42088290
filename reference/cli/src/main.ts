import { readFileSync } from "node:fs";
import { configureErrorOutput } from "@paycode/sdk/cli";
import { Command } from "commander";
import { registerBench } from "./commands/bench.js";
import { registerConformance } from "./commands/conformance.js";
import { registerReport } from "./commands/report.js";
import { registerScan } from "./commands/scan.js";
import { registerServe } from "./commands/serve.js";
import { registerTerminal } from "./commands/terminal.js";
import { registerWallet } from "./commands/wallet.js";

/**
 * The subcommands, in help order. Each lives in `./commands/<name>.ts` and
 * exports `register<Name>(program: Command)`; to add one, import it and
 * append it here.
 */
const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerServe,
  registerWallet,
  registerScan,
  registerTerminal,
  registerReport,
  registerConformance,
  registerBench,
];

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** The `paycode` program with every command registered; parsing is up to the caller. */
export function createProgram(): Command {
  const program = new Command("paycode")
    .description("Paycode: offline payment codes — reference server, clients and conformance suite")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true);
  // Before any subcommand exists, so that they all inherit it.
  configureErrorOutput(program);
  for (const register of COMMANDS) register(program);
  return program;
}
