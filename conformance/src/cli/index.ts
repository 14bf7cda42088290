// The certification suite's command line, for `paycode-conformance` and for
// programs (like `paycode`) that mount it under their own name.
export {
  addConformanceCommands,
  type ConformanceCommandOptions,
  type ConformanceRunOptions,
  conformanceMutants,
  conformanceRun,
  type EmbeddedImplementation,
  type EmbeddedTarget,
} from "./conformance-commands.js";
export { createConformanceProgram } from "./program.js";
