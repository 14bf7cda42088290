import { addConformanceCommands, type EmbeddedImplementation } from "@paycode/conformance/cli";
import type { Command } from "commander";

/**
 * The reference issuer, started in this process when `conformance run` has
 * no `--target`. Loaded on first use so that `--help` stays fast.
 */
const referenceImplementation: EmbeddedImplementation = {
  description: "the reference server (temporary SQLite)",
  async mutants() {
    return (await import("../embedded/reference-target.js")).ALL_MUTANTS;
  },
  async start({ mutant, fastPasswords }) {
    const { isAnyMutantName, startEmbeddedTarget } = await import(
      "../embedded/reference-target.js"
    );
    return startEmbeddedTarget({
      ...(fastPasswords ? { fastPasswords } : {}),
      ...(mutant !== undefined && isAnyMutantName(mutant) ? { mutant } : {}),
    });
  },
};

/** `paycode conformance run|list|mutants`: the suite, with the reference embedded. */
export function registerConformance(program: Command): void {
  const conformance = program
    .command("conformance")
    .description("certify a Paycode issuer implementation against the conformance suite");
  addConformanceCommands(conformance, {
    embedded: referenceImplementation,
    invokedAs: "paycode conformance",
  });
}
