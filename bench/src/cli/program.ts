import { readFileSync } from "node:fs";
import { configureErrorOutput } from "@paycode/sdk/cli";
import { Command } from "commander";
import { addBenchCommands } from "./bench-commands.js";

/** `paycode-bench micro|load|floor-http|summarize`. */
export function createBenchProgram(): Command {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const program = new Command("paycode-bench")
    .description(
      "benchmarks: codec micro-benchmarks and Scan load against floors measured in the same run",
    )
    .version(pkg.version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true);
  configureErrorOutput(program);
  addBenchCommands(program);
  return program;
}
