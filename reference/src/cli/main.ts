import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { registerBench } from "./commands/bench.js";
import { registerConformance } from "./commands/conformance.js";
import { registerReport } from "./commands/report.js";
import { registerScan } from "./commands/scan.js";
import { registerServe } from "./commands/serve.js";
import { registerTerminal } from "./commands/terminal.js";
import { registerWallet } from "./commands/wallet.js";
import { configureErrorOutput, runCli } from "./errors.js";

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
  const pkg = JSON.parse(
    readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
  ) as {
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

// Run when started as the CLI (reference/bin/paycode.js or this file), not
// when a test imports createProgram.
function isEntryPoint(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  let started: string;
  try {
    started = realpathSync(argv1);
  } catch {
    return false;
  }
  const self = fileURLToPath(import.meta.url);
  const bin = fileURLToPath(new URL("../../bin/paycode.js", import.meta.url));
  return started === self || started === bin;
}

if (isEntryPoint()) await runCli(createProgram());
