// The benchmarks' command line, for `paycode-bench` and for `paycode bench`.
export { addBenchCommands } from "./bench-commands.js";
export { createBenchProgram } from "./program.js";
