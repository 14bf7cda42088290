import { readFileSync } from "node:fs";
import { configureErrorOutput } from "@paycode/sdk/cli";
import { Command } from "commander";
import { addConformanceCommands } from "./conformance-commands.js";

/** `paycode-conformance run|list`: certifies an issuer given by `--target`. */
export function createConformanceProgram(): Command {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const program = new Command("paycode-conformance")
    .description("certify a Paycode issuer implementation against the conformance suite")
    .version(pkg.version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true);
  configureErrorOutput(program);
  addConformanceCommands(program, { invokedAs: "paycode-conformance" });
  return program;
}
