// Command-line plumbing shared by the Paycode programs (paycode,
// paycode-conformance, paycode-bench): one-line errors and exit codes.
export {
  CliError,
  configureErrorOutput,
  describeCliError,
  EXIT_USAGE,
  exitQuietlyOnClosedPipe,
  reportCliError,
  runCli,
  UsageError,
} from "./cli-errors.js";
